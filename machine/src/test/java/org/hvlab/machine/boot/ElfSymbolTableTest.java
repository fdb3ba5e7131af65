package org.hvlab.machine.boot;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class ElfSymbolTableTest {
    /** A symbol table with a huge sh_entsize must be refused with ImageException, not a Java runtime exception. */
    @Test
    void hugeSymtabEntsize() {
        byte[] base = ElfImageTest.elf(0x100000, new byte[] {(byte) 0xF4}, 1);
        int shoff = base.length;
        ByteBuffer b = ByteBuffer.allocate(base.length + 2 * 64).order(ByteOrder.LITTLE_ENDIAN);
        b.put(base);
        // section 0: SYMTAB at file offset 0, size 48, link 1, entsize huge
        b.putInt(0).putInt(2).putLong(0).putLong(0).putLong(0).putLong(48).putInt(1).putInt(0).putLong(8).putLong(0x7FFFFFFFFFFFFFF0L);
        // section 1: STRTAB at 0, size 16
        b.putInt(0).putInt(3).putLong(0).putLong(0).putLong(0).putLong(16).putInt(0).putInt(0).putLong(1).putLong(0);
        byte[] d = b.array();
        ByteBuffer h = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(40, shoff);
        h.putShort(58, (short) 64);
        h.putShort(60, (short) 2);
        assertThrows(ImageException.class, () -> ElfImage.parse("img", d));
    }
}
