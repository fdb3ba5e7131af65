package org.hvlab.xmhf.memprot;

import org.hvlab.machine.host.HostCpu;
import org.hvlab.xmhf.runtime.HypervisorMemory;

/**
 * EPT01 (docs/xmhf-facts.md "memprot"): the identity map of guest RAM with the memory types of the
 * guest's MTRRs, XMHF's own memory absent, and the local APIC page mapped read-only so that a
 * guest's xAPIC writes exit (SmpGuest intercepts INIT and SIPI there). 2 MiB pages where a 2 MiB
 * range has one memory type, 4 KiB pages where it does not. Every CPU has its own EPT root,
 * PDPT and the directory of the fourth GiB (where the APIC is); the other directories are
 * shared. Changes take the EPT lock and are followed by INVEPT on every CPU (quiesce).
 */
public final class Ept01 {
    static final long R = 1, W = 2, X = 4, RWX = 7, LARGE = 1 << 7;
    static final long APIC_PAGE = 0xFEE00000L;
    private static final long TWO_MB = 2L << 20;

    private final HypervisorMemory mem;
    private final int cpus;
    private final int gibs;
    /** Memory type of each 2 MiB range of RAM below XMHF's memory (-1: mixed, mapped by a page table). */
    private int[] chunkType;
    private long[] chunkTable;
    private int nextPt;
    /** Guest pages a hypapp took away (TrustVisor's PAL pages): not present in EPT01. */
    private final java.util.Set<Long> absent = new java.util.HashSet<>();
    private Mtrrs mtrrs;

    public Ept01(HypervisorMemory mem, int cpus) {
        this.mem = mem;
        this.cpus = cpus;
        this.gibs = (int) Math.max(4, (mem.ramSize + (1L << 30) - 1) >>> 30);
        if (gibs > 64) throw new IllegalArgumentException("EPT01 covers at most 64 GiB");
    }

    /** The EPTP of CPU {@code cpu}: write-back, 4-level walk (SDM Vol.3C 24.6.11). */
    public long eptp(int cpu) {
        return mem.eptPml4(cpu) | 6 | (3 << 3);
    }

    /** Builds the tables (on the bootstrap processor, before any guest runs). */
    public void build(HostCpu cpu, Mtrrs mtrrs) {
        long chunks = mem.base / TWO_MB;
        chunkType = new int[(int) chunks];
        chunkTable = new long[(int) chunks];
        java.util.Arrays.fill(chunkType, Integer.MIN_VALUE);
        for (int g = 0; g < gibs; g++) cpu.zero(mem.eptPd(g), 0x1000);
        for (int c = 0; c < cpus; c++) {
            cpu.zero(mem.eptPml4(c), 0x1000);
            cpu.zero(mem.eptPdpt(c), 0x1000);
            cpu.write64(mem.eptPml4(c), mem.eptPdpt(c) | RWX);
            for (int g = 0; g < gibs; g++) cpu.write64(mem.eptPdpt(c) + 8L * g, (g == 3 ? mem.eptPdGib3(c) : mem.eptPd(g)) | RWX);
            cpu.zero(mem.eptPdGib3(c), 0x1000);
            // the local APIC page, read-only: writes exit to XMHF
            cpu.zero(mem.eptPtApic(c), 0x1000);
            cpu.write64(mem.eptPdGib3(c) + 8 * pdIndex(APIC_PAGE), mem.eptPtApic(c) | RWX);
            apicReadOnly(cpu, c);
        }
        this.mtrrs = mtrrs;
        applyMemoryTypes(cpu, mtrrs);
    }

    /**
     * Takes guest pages out of EPT01 ({@code absent}) or puts them back, splitting their 2 MiB
     * ranges into page tables. The caller quiesces, holds the EPT lock and has every CPU execute
     * INVEPT before its guest runs again. Returns false when a page cannot be taken (not guest
     * RAM below XMHF's memory, or no page table left to split its range).
     */
    public boolean setAbsent(HostCpu cpu, java.util.Collection<Long> gpas, boolean take) {
        java.util.Set<Integer> needTables = new java.util.HashSet<>();
        for (long gpa : gpas) {
            if (gpa < 0 || gpa >= mem.base || isApicPage(gpa)) return false;
            int i = (int) (gpa / TWO_MB);
            if (chunkTable[i] == 0 && (gpa & ~(TWO_MB - 1)) != (APIC_PAGE & ~(TWO_MB - 1))) needTables.add(i);
        }
        // a range with a page taken away needs its own table: the uncached 2 MiB fallback would map it
        if (take && needTables.size() > mem.ptPoolPages() - nextPt) return false;
        java.util.Set<Integer> chunks = new java.util.TreeSet<>();
        for (long gpa : gpas) {
            long page = gpa & ~0xFFFL;
            if (take) absent.add(page >>> 12);
            else absent.remove(page >>> 12);
            int i = (int) (gpa / TWO_MB);
            boolean apicRange = (page & ~(TWO_MB - 1)) == (APIC_PAGE & ~(TWO_MB - 1));
            if (chunkType[i] == -1 && !apicRange) {
                cpu.write64(chunkTable[i] + 8L * ((page >>> 12) & 0x1FF), leaf4k(page, mtrrs)); // already split: one entry
            } else {
                chunks.add(i);
            }
        }
        for (int i : chunks) applyChunk(cpu, mtrrs, i); // ranges still mapped large (or the APIC's): split or re-type them
        return true;
    }

    private boolean anyAbsent(long start) {
        if (absent.isEmpty()) return false;
        for (long p = start >>> 12; p < (start + TWO_MB) >>> 12; p++) if (absent.contains(p)) return true;
        return false;
    }

    /** An EPT01 leaf for a 4 KiB page: identity with its memory type, or not present when a hypapp took it. */
    private long leaf4k(long pa, Mtrrs mtrrs) {
        return absent.contains(pa >>> 12) ? 0 : pa | ((long) mtrrs.typeOf(pa) << 3) | RWX;
    }

    private static int pdIndex(long pa) {
        return (int) ((pa >>> 21) & 0x1FF);
    }

    /** Writes a page-directory entry of GiB {@code g}: the shared directory, or every CPU's own for GiB 3. */
    private void setPde(HostCpu cpu, long pa, long entry) {
        int g = (int) (pa >>> 30);
        if (g == 3) {
            for (int c = 0; c < cpus; c++) cpu.write64(mem.eptPdGib3(c) + 8L * pdIndex(pa), entry);
        } else {
            cpu.write64(mem.eptPd(g) + 8L * pdIndex(pa), entry);
        }
    }

    /**
     * Sets each 2 MiB range of guest RAM to its MTRR memory type (SDM Vol.3C 28.2.6: EPT gives
     * the memory type, ignoring the guest's MTRRs). Writes only entries that change; the caller
     * holds the EPT lock and makes every CPU execute INVEPT before it runs its guest again.
     */
    public void applyMemoryTypes(HostCpu cpu, Mtrrs mtrrs) {
        for (int i = 0; i < chunkType.length; i++) applyChunk(cpu, mtrrs, i);
    }

    /** One 2 MiB range of {@link #applyMemoryTypes}. */
    private void applyChunk(HostCpu cpu, Mtrrs mtrrs, int i) {
        {
            long start = i * TWO_MB;
            if (start == (APIC_PAGE & ~(TWO_MB - 1))) {
                // RAM reaching the local APIC's 2 MiB: keep each CPU's page table there (the APIC
                // page stays read-only for the INIT/SIPI interception); type the other 511 pages
                for (int c = 0; c < cpus; c++) {
                    for (int k = 0; k < 512; k++) {
                        long pa = start + 0x1000L * k;
                        if (pa != APIC_PAGE) cpu.write64(mem.eptPtApic(c) + 8L * k, leaf4k(pa, mtrrs));
                    }
                }
                return;
            }
            int t = mtrrs.typeOf(start);
            boolean uniform = !anyAbsent(start);
            for (long pa = start + 0x1000; pa < start + TWO_MB && uniform; pa += 0x1000) uniform = mtrrs.typeOf(pa) == t;
            if (uniform) {
                if (chunkType[i] != t) setPde(cpu, start, start | LARGE | ((long) t << 3) | RWX);
                chunkType[i] = t;
                return;
            }
            if (chunkTable[i] == 0) {
                if (nextPt == mem.ptPoolPages()) {
                    // out of page tables (a guest can make every 2 MiB range mixed with odd
                    // MTRR masks): the whole range uncached, the type that is safe for any mix
                    if (chunkType[i] != Mtrrs.UC) setPde(cpu, start, start | LARGE | ((long) Mtrrs.UC << 3) | RWX);
                    chunkType[i] = Mtrrs.UC;
                    return;
                }
                chunkTable[i] = mem.eptPt(nextPt++);
            }
            long pt = chunkTable[i];
            for (int k = 0; k < 512; k++) {
                long pa = start + 0x1000L * k;
                cpu.write64(pt + 8L * k, leaf4k(pa, mtrrs));
            }
            if (chunkType[i] != -1) setPde(cpu, start, pt | RWX);
            chunkType[i] = -1;
        }
    }

    /** The local APIC page of CPU {@code c}'s EPT: the real APIC, read-only (writes exit). */
    public void apicReadOnly(HostCpu cpu, int c) {
        cpu.write64(mem.eptPtApic(c) + 8 * ((APIC_PAGE >>> 12) & 0x1FF), APIC_PAGE | R | (0L << 3));
    }

    /** The local APIC page of CPU {@code c}'s EPT: the CPU's shadow page, writable (one intercepted write). */
    public void apicShadow(HostCpu cpu, int c) {
        cpu.write64(mem.eptPtApic(c) + 8 * ((APIC_PAGE >>> 12) & 0x1FF), mem.apicShadow(c) | R | W | (0L << 3));
    }

    /** Whether {@code gpa} is the local APIC page. */
    public static boolean isApicPage(long gpa) {
        return (gpa & ~0xFFFL) == APIC_PAGE;
    }
}
