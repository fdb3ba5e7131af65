package org.hvlab.xmhf.runtime;

/**
 * Where XMHF keeps what the hardware reads (docs/architecture.md: VMCS regions, EPT tables, MSR
 * lists and bitmaps) in simulated physical memory: the top {@link #SIZE} bytes of RAM, 2 MiB
 * aligned, reported to the guest as reserved (memory map type 2, docs/boot-protocol.md) and absent
 * from EPT01, so a guest access to it is an EPT violation.
 *
 * <p>Layout: EPT PML4, PDPT, one page directory per GiB of RAM, a page-table pool (EPT
 * entries split to 4 KiB where memory types differ), then one block per CPU: VMXON region,
 * VMCS, MSR bitmap, MSR lists, shadow APIC page, and the CPU's own EPT root, PDPT, page
 * directory of the fourth GiB and page table of the local APIC's 2 MiB (each CPU intercepts
 * its guest's xAPIC writes on its own, SmpGuest).
 */
public final class HypervisorMemory {
    public static final long SIZE = 8L << 20;
    static final long PER_CPU = 0x10000;
    public static final int MAX_CPUS = 64;
    static final int PT_POOL_PAGES = 512;

    public final long base;
    public final long ramSize;

    public HypervisorMemory(long ramSize) {
        if (ramSize < 16L << 20) throw new IllegalArgumentException("XMHF needs at least 16 MiB of RAM, the machine has " + ramSize);
        this.ramSize = ramSize;
        this.base = (ramSize - SIZE) & ~((2L << 20) - 1);
    }

    /** XMHF's memory: from {@link #base} to the end of RAM (at least {@link #SIZE}). */
    public boolean contains(long pa) {
        return pa >= base && pa < ramSize;
    }

    /** The EPT page directory of GiB {@code gib} (at most 64). */
    public long eptPd(int gib) { return base + 0x2000 + 0x1000L * gib; }
    /** Page {@code i} of the pool for EPT page tables. */
    public long eptPt(int i) {
        if (i >= PT_POOL_PAGES) throw new IllegalStateException("EPT page-table pool exhausted");
        return base + 0x42000 + 0x1000L * i;
    }
    public int ptPoolPages() { return PT_POOL_PAGES; }

    private long cpuBlock(int cpu) {
        if (cpu >= MAX_CPUS) throw new IllegalArgumentException("XMHF supports at most " + MAX_CPUS + " CPUs");
        return base + 0x242000 + PER_CPU * cpu;
    }

    public long vmxon(int cpu) { return cpuBlock(cpu); }
    public long vmcs(int cpu) { return cpuBlock(cpu) + 0x1000; }
    public long msrBitmap(int cpu) { return cpuBlock(cpu) + 0x2000; }
    /** The guest's MSR area: VM-entry MSR-load list and VM-exit MSR-store list (the same entries). */
    public long guestMsrArea(int cpu) { return cpuBlock(cpu) + 0x3000; }
    /** The host's VM-exit MSR-load list. */
    public long hostMsrArea(int cpu) { return cpuBlock(cpu) + 0x3800; }
    /** The page a guest's xAPIC write lands in while XMHF intercepts it. */
    public long apicShadow(int cpu) { return cpuBlock(cpu) + 0x4000; }
    public long eptPml4(int cpu) { return cpuBlock(cpu) + 0x5000; }
    public long eptPdpt(int cpu) { return cpuBlock(cpu) + 0x6000; }
    /** The CPU's own page directory for GiB 3 (0xC0000000-0xFFFFFFFF), where the local APIC is. */
    public long eptPdGib3(int cpu) { return cpuBlock(cpu) + 0x7000; }
    /** The CPU's own page table for the 2 MiB holding the local APIC page. */
    public long eptPtApic(int cpu) { return cpuBlock(cpu) + 0x8000; }

    /** First page of the hypapp's pool (TrustVisor's PAL page tables), after the 64 CPU blocks. */
    static final long HYPAPP_POOL = 0x650000;

    /** Page {@code i} of the hypapp's pool. */
    public long hypappPage(int i) {
        if (i < 0 || i >= hypappPages()) throw new IllegalArgumentException("hypapp page " + i);
        return base + HYPAPP_POOL + 0x1000L * i;
    }

    /** Pages in the hypapp's pool. */
    public int hypappPages() {
        return (int) ((SIZE - HYPAPP_POOL) >>> 12);
    }
}
