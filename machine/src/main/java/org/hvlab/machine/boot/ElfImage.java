package org.hvlab.machine.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * An ELF64 x86-64 executable as docs/boot-protocol.md accepts it: every check names the problem in
 * one line (System V ABI, ELF-64 object file format).
 */
public final class ElfImage {
    public record Segment(long paddr, long filesz, long memsz, int offset) {}

    private static final int PT_LOAD = 1, SHT_SYMTAB = 2, ET_EXEC = 2, EM_X86_64 = 62;

    public final String name;
    public final long entry;
    public final List<Segment> segments;
    public final Symbols symbols;
    private final byte[] data;

    private ElfImage(String name, long entry, List<Segment> segments, Symbols symbols, byte[] data) {
        this.name = name;
        this.entry = entry;
        this.segments = segments;
        this.symbols = symbols;
        this.data = data;
    }

    public byte[] data() {
        return data;
    }

    public static ElfImage parse(String name, byte[] d) throws ImageException {
        if (d.length < 64) throw new ImageException(name + ": not an ELF image (file is " + d.length + " bytes, shorter than an ELF header)");
        if (d[0] != 0x7F || d[1] != 'E' || d[2] != 'L' || d[3] != 'F') throw new ImageException(name + ": not an ELF image (bad magic)");
        if (d[4] != 2) throw new ImageException(name + ": not ELF64 (class " + d[4] + ")");
        if (d[5] != 1) throw new ImageException(name + ": not little-endian ELF");
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xFFFF, machine = b.getShort(18) & 0xFFFF;
        if (machine != EM_X86_64) throw new ImageException(name + ": not an x86-64 image (e_machine " + machine + ")");
        if (type != ET_EXEC) throw new ImageException(name + ": not an executable (e_type " + type + ", need ET_EXEC)");
        long entry = b.getLong(24);
        long phoff = b.getLong(32), shoff = b.getLong(40);
        int phentsize = b.getShort(54) & 0xFFFF, phnum = b.getShort(56) & 0xFFFF;
        int shentsize = b.getShort(58) & 0xFFFF, shnum = b.getShort(60) & 0xFFFF;
        if (phnum == 0) throw new ImageException(name + ": no program headers");
        if (phentsize < 56) throw new ImageException(name + ": program header size " + phentsize + " is too small");
        if (!fits(phoff, (long) phnum * phentsize, d.length)) throw new ImageException(name + ": truncated (program headers past the end of the file)");
        List<Segment> segs = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int o = (int) (phoff + (long) i * phentsize);
            if (b.getInt(o) != PT_LOAD) continue;
            long off = b.getLong(o + 8), paddr = b.getLong(o + 24), filesz = b.getLong(o + 32), memsz = b.getLong(o + 40);
            if (filesz < 0 || memsz < 0 || filesz > memsz) throw new ImageException(name + ": segment " + i + " has file size 0x" + Long.toHexString(filesz) + " larger than memory size 0x" + Long.toHexString(memsz));
            if (!fits(off, filesz, d.length)) throw new ImageException(name + ": truncated (segment " + i + " data past the end of the file)");
            if (memsz == 0) continue;
            segs.add(new Segment(paddr, filesz, memsz, (int) off));
        }
        if (segs.isEmpty()) throw new ImageException(name + ": no loadable segments");
        Symbols syms = Symbols.NONE;
        if (shnum > 0 && shoff > 0) {
            if (shentsize < 64 || !fits(shoff, (long) shnum * shentsize, d.length)) throw new ImageException(name + ": truncated (section headers past the end of the file)");
            syms = readSymbols(name, b, d, shoff, shentsize, shnum);
        }
        return new ElfImage(name, entry, segs, syms, d);
    }

    /** [off, off + len) lies inside a file of {@code total} bytes, without overflow. */
    private static boolean fits(long off, long len, long total) {
        return off >= 0 && len >= 0 && off <= total && len <= total - off;
    }

    private static Symbols readSymbols(String name, ByteBuffer b, byte[] d, long shoff, int shentsize, int shnum) throws ImageException {
        TreeMap<Long, String> table = new TreeMap<>();
        for (int i = 0; i < shnum; i++) {
            int o = (int) (shoff + (long) i * shentsize);
            if (b.getInt(o + 4) != SHT_SYMTAB) continue;
            long off = b.getLong(o + 24), size = b.getLong(o + 32);
            int link = b.getInt(o + 40);
            long entsize = b.getLong(o + 56);
            if (entsize != 24 || !fits(off, size, d.length) || link < 0 || link >= shnum) throw new ImageException(name + ": malformed symbol table");
            int so = (int) (shoff + (long) link * shentsize);
            long stroff = b.getLong(so + 24), strsize = b.getLong(so + 32);
            if (!fits(stroff, strsize, d.length)) throw new ImageException(name + ": malformed string table");
            long count = size / entsize;
            for (long k = 0; k < count; k++) {
                long p = off + k * entsize; // off + size <= length was checked, so no overflow
                int nameOff = b.getInt((int) p);
                int info = d[(int) p + 4] & 0xFF;
                int shndx = b.getShort((int) p + 6) & 0xFFFF;
                long value = b.getLong((int) p + 8);
                int stype = info & 0xF;
                if (shndx == 0 || stype > 2 || nameOff <= 0 || nameOff >= strsize) continue; // NOTYPE, OBJECT, FUNC
                int start = (int) (stroff + nameOff), end = start;
                while (end < stroff + strsize && d[end] != 0) end++;
                String sym = new String(d, start, end - start, StandardCharsets.UTF_8);
                if (sym.isEmpty() || sym.startsWith(".L")) continue;
                // prefer global names over local ones at the same address
                if (!table.containsKey(value) || (info >> 4) == 1) table.put(value, sym);
            }
        }
        return new Symbols(table);
    }
}
