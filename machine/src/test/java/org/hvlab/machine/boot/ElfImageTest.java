package org.hvlab.machine.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.hvlab.machine.mem.PhysicalMemory;
import org.junit.jupiter.api.Test;

/** Malformed images get one line naming the problem, never a stack trace (docs/boot-protocol.md "Image"). */
public class ElfImageTest {
    /** A minimal ELF64 x86-64 executable with one PT_LOAD segment of {@code code} at {@code paddr}. */
    public static byte[] elf(long paddr, byte[] code, long memsz) {
        ByteBuffer b = ByteBuffer.allocate(64 + 56 + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1, 0}).put(new byte[8]);
        b.putShort((short) 2).putShort((short) 62).putInt(1).putLong(paddr).putLong(64).putLong(0);
        b.putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) 1).putShort((short) 64).putShort((short) 0).putShort((short) 0);
        b.putInt(1).putInt(5).putLong(120).putLong(paddr).putLong(paddr).putLong(code.length).putLong(memsz).putLong(0x1000);
        b.put(code);
        return b.array();
    }

    static String error(byte[] d) {
        ImageException e = assertThrows(ImageException.class, () -> {
            ElfImage img = ElfImage.parse("img", d);
            BootLoader.load(new PhysicalMemory(16L << 20), img, 1, "", null);
        });
        assertTrue(!e.getMessage().contains("\n"), "one line");
        return e.getMessage();
    }

    @Test
    void validImageLoadsAndZeroesBss() throws Exception {
        byte[] d = elf(0x100000, new byte[] {(byte) 0xF4, 1, 2}, 0x2000);
        PhysicalMemory m = new PhysicalMemory(16L << 20);
        m.write8(0x100005, 0x77);
        BootLoader.load(m, ElfImage.parse("img", d), 2, "hello", null);
        assertEquals(0xF4, m.read8(0x100000));
        assertEquals(0, m.read8(0x100005), "bytes past p_filesz are zero");
        assertEquals(0x424C5648, m.read32(0x8000));
        assertEquals(2, m.read32(0x8008));
        assertEquals('h', m.read8(0x8200));
    }

    @Test
    void malformedImagesAreRefusedWithTheReason() {
        byte[] good = elf(0x100000, new byte[] {(byte) 0xF4}, 1);
        assertTrue(error(new byte[0]).contains("not an ELF image"));
        byte[] bad = good.clone();
        bad[0] = 0;
        assertTrue(error(bad).contains("bad magic"));
        bad = good.clone();
        bad[4] = 1;
        assertTrue(error(bad).contains("not ELF64"));
        bad = good.clone();
        bad[18] = 3;
        assertTrue(error(bad).contains("not an x86-64 image"));
        bad = good.clone();
        bad[16] = 3;
        assertTrue(error(bad).contains("not an executable"));
        assertTrue(error(java.util.Arrays.copyOf(good, 100)).contains("truncated"));
        assertTrue(error(java.util.Arrays.copyOf(good, 120)).contains("truncated (segment"));
        assertTrue(error(elf(0x8000, new byte[] {1}, 1)).contains("overlaps reserved low memory"));
        assertTrue(error(elf(0xF00000, new byte[] {1}, 0x200000)).contains("outside RAM"));
        assertTrue(error(elf(0x100000, new byte[] {1, 2}, 1)).contains("larger than memory size"));
    }
}
