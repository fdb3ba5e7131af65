package org.hvlab.machine.boot;

import java.nio.charset.StandardCharsets;
import org.hvlab.machine.apic.LocalApic;
import org.hvlab.machine.mem.PhysicalMemory;

/**
 * Builds the machine state of docs/boot-protocol.md v1: identity page tables for 0-4 GiB, the GDT,
 * the boot information block, the image; the bootstrap processor state is set by the caller.
 * The memory map matches the reference runner hwrun: [0, 1 MiB) reserved, the rest usable.
 */
public final class BootLoader {
    public static final long PML4 = 0x1000, PDPT = 0x2000, PD0 = 0x3000, GDT = 0x7000, BOOT_INFO = 0x8000;
    public static final long BSP_STACK_TOP = 0x80000, IMAGE_MIN = 0x100000;
    public static final int MAGIC = 0x424C5648, VERSION = 1, MAX_CMDLINE = 0xE00;
    /** GDT entries: null, 64-bit code, flat data, flat 32-bit code, flat 16-bit code. */
    static final long[] GDT_ENTRIES = {0, 0x00209A0000000000L, 0x00CF92000000FFFFL, 0x00CF9A000000FFFFL, 0x00009A000000FFFFL};

    /** A reserved region a hypervisor takes for itself (reported as memory-map type 2). */
    public record Reserved(long base, long length) {}

    private BootLoader() {}

    /** Checks the image fits before anything is written. */
    public static void check(ElfImage img, long ramSize, Reserved reserved) throws ImageException {
        for (ElfImage.Segment s : img.segments) {
            long end = s.paddr() + s.memsz();
            if (s.paddr() < IMAGE_MIN) {
                throw new ImageException(String.format("%s: segment at 0x%x overlaps reserved low memory (images load at 0x100000 or above)", img.name, s.paddr()));
            }
            if (end > ramSize || end < s.paddr()) {
                throw new ImageException(String.format("%s: segment 0x%x-0x%x lies outside RAM (0x%x bytes)", img.name, s.paddr(), end, ramSize));
            }
            if (s.paddr() < LocalApic.DEFAULT_BASE + 0x1000 && end > LocalApic.DEFAULT_BASE) {
                throw new ImageException(String.format("%s: segment 0x%x-0x%x overlaps the local APIC page", img.name, s.paddr(), end));
            }
            if (reserved != null && s.paddr() < reserved.base() + reserved.length() && end > reserved.base()) {
                throw new ImageException(String.format("%s: segment 0x%x-0x%x overlaps hypervisor memory 0x%x-0x%x", img.name, s.paddr(), end, reserved.base(), reserved.base() + reserved.length()));
            }
        }
        if (img.entry < IMAGE_MIN || img.entry >= ramSize) {
            throw new ImageException(String.format("%s: entry point 0x%x is not in loaded RAM", img.name, img.entry));
        }
    }

    public static void load(PhysicalMemory mem, ElfImage img, int cpus, String cmdline, Reserved reserved) throws ImageException {
        check(img, mem.size(), reserved);
        byte[] cmd = cmdline.getBytes(StandardCharsets.UTF_8);
        if (cmd.length + 1 > MAX_CMDLINE) throw new ImageException("command line is " + cmd.length + " bytes; at most " + (MAX_CMDLINE - 1) + " fit");
        // page tables: PML4[0] -> PDPT; PDPT[0..3] -> four PDs of 2 MiB pages, present+writable
        mem.write64(PML4, PDPT | 3);
        for (int i = 0; i < 4; i++) mem.write64(PDPT + 8L * i, (PD0 + 0x1000L * i) | 3);
        for (long j = 0; j < 2048; j++) mem.write64(PD0 + 8 * j, (j << 21) | 0x83);
        for (int i = 0; i < GDT_ENTRIES.length; i++) mem.write64(GDT + 8L * i, GDT_ENTRIES[i]);
        // boot information
        mem.write32(BOOT_INFO, MAGIC);
        mem.write32(BOOT_INFO + 4, VERSION);
        mem.write32(BOOT_INFO + 8, cpus);
        mem.write32(BOOT_INFO + 12, 0);
        mem.write64(BOOT_INFO + 16, mem.size());
        long[][] map = reserved == null
                ? new long[][] {{0, IMAGE_MIN, 2}, {IMAGE_MIN, mem.size() - IMAGE_MIN, 1}}
                : memoryMapWith(mem.size(), reserved);
        mem.write32(BOOT_INFO + 24, map.length);
        mem.write32(BOOT_INFO + 28, 0);
        for (int i = 0; i < map.length; i++) {
            long e = BOOT_INFO + 32 + 24L * i;
            mem.write64(e, map[i][0]);
            mem.write64(e + 8, map[i][1]);
            mem.write32(e + 16, (int) map[i][2]);
            mem.write32(e + 20, 0);
        }
        mem.writeBytes(BOOT_INFO + 0x200, cmd, 0, cmd.length);
        mem.write8(BOOT_INFO + 0x200 + cmd.length, 0);
        byte[] d = img.data();
        for (ElfImage.Segment s : img.segments) {
            mem.writeBytes(s.paddr(), d, s.offset(), (int) s.filesz());
            for (long a = s.paddr() + s.filesz(); a < s.paddr() + s.memsz(); a++) mem.write8(a, 0);
        }
    }

    /** Memory map with a hypervisor's region carved out as type 2 (docs/boot-protocol.md "A hypervisor ..."). */
    static long[][] memoryMapWith(long ram, Reserved r) {
        java.util.List<long[]> m = new java.util.ArrayList<>();
        m.add(new long[] {0, IMAGE_MIN, 2});
        if (r.base() > IMAGE_MIN) m.add(new long[] {IMAGE_MIN, r.base() - IMAGE_MIN, 1});
        m.add(new long[] {r.base(), r.length(), 2});
        long end = r.base() + r.length();
        if (end < ram) m.add(new long[] {end, ram - end, 1});
        return m.toArray(new long[0][]);
    }
}
