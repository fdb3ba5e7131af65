package org.hvlab.machine.mem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Bulk copies page by page agree with byte-by-byte accesses, across pages and at the end of RAM. */
class PhysicalMemoryTest {
    @Property(tries = 300)
    void bulkCopiesAgreeWithByteAccesses(@ForAll @IntRange(min = 0, max = 3 * 4096) int offset, @ForAll @IntRange(min = 0, max = 9000) int length,
            @ForAll long seed) {
        PhysicalMemory m = new PhysicalMemory(2L << 20);
        long base = (2L << 20) - 4 * 4096 + offset; // near the end: some copies run past RAM
        byte[] data = new byte[length];
        new java.util.Random(seed).nextBytes(data);
        m.writeBytes(base, data, 0, length);
        byte[] back = m.readBytes(base, length);
        for (int i = 0; i < length; i++) {
            long a = base + i;
            int want = a < m.size() ? data[i] & 0xFF : 0xFF; // beyond RAM: writes dropped, reads all ones
            assertEquals(want, back[i] & 0xFF, "byte " + i);
            assertEquals(want, m.read8(a), "read8 at " + i);
        }
    }

    @Test
    void aWriteDropsTheDecodedCodeOfEveryPageItTouches() {
        PhysicalMemory m = new PhysicalMemory(2L << 20);
        Page a = m.page(0x1000), b = m.page(0x2000);
        a.code = new Object[Page.SIZE];
        b.code = new Object[Page.SIZE];
        m.writeBytes(0x1FFE, new byte[] {1, 2, 3, 4}, 0, 4);
        assertNull(a.code);
        assertNull(b.code);
        assertArrayEquals(new byte[] {1, 2, 3, 4}, m.readBytes(0x1FFE, 4));
    }
}
