package org.hvlab.machine.apic;

import org.hvlab.machine.cpu.Cpu;

/**
 * A local APIC (SDM Vol.3A chapter 10): xAPIC MMIO and x2APIC MSR interfaces, ID, version,
 * TPR/PPR, EOI, ISR/IRR, LDR/DFR, SVR, ICR with fixed, NMI, INIT and SIPI delivery and all
 * shorthands. IPIs are delivered instantly, so the ICR delivery-status bit always reads idle.
 * The APIC timer is not modelled (its registers hold values; the counter reads 0).
 */
public final class LocalApic {
    public static final long DEFAULT_BASE = 0xFEE00000L;
    public static final int DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_SIPI = 6;
    static final long BASE_BSP = 1 << 8, BASE_X2APIC = 1 << 10, BASE_ENABLE = 1 << 11;
    /** Version register: version 0x14, max LVT entry 6 (seven LVT entries). */
    static final int VERSION = 0x00060014;

    private final int id;
    private final ApicBus bus;
    private Cpu cpu;
    private long apicBase;
    private int tpr, ldr, dfr = 0xFFFFFFFF, svr = 0xFF, esr;
    private long icr;
    private final int[] lvt = new int[7];
    private int timerInitial, timerDivide;
    private final int[] irr = new int[8], isr = new int[8], tmr = new int[8];
    private int pendingCount;

    public LocalApic(int id, boolean bsp, ApicBus bus) {
        this.id = id;
        this.bus = bus;
        this.apicBase = DEFAULT_BASE | BASE_ENABLE | (bsp ? BASE_BSP : 0);
        java.util.Arrays.fill(lvt, 0x10000); // masked after reset
        bus.attach(this);
    }

    public void attach(Cpu cpu) {
        this.cpu = cpu;
    }

    public int id() { return id; }
    public Cpu cpu() { return cpu; }
    public long apicBase() { return apicBase; }
    public int tpr() { return tpr; }
    public boolean x2apic() { return (apicBase & BASE_X2APIC) != 0; }
    private boolean globallyEnabled() { return (apicBase & BASE_ENABLE) != 0; }
    private boolean softwareEnabled() { return (svr & 0x100) != 0; }

    public void setTpr(int v) {
        tpr = v & 0xFF;
    }

    /** IA32_APIC_BASE write (SDM Vol.3A 10.12.5 for the legal mode transitions). */
    public void setApicBase(long v) {
        long physMask = (1L << org.hvlab.machine.cpu.Cpuid.MAXPHYADDR) - 1;
        long reserved = ~(physMask & ~0xFFFL | BASE_BSP | BASE_X2APIC | BASE_ENABLE);
        if ((v & reserved) != 0) throw org.hvlab.machine.cpu.CpuFault.gp0();
        boolean en = (v & BASE_ENABLE) != 0, x2 = (v & BASE_X2APIC) != 0;
        if (x2 && !en) throw org.hvlab.machine.cpu.CpuFault.gp0();
        if (x2apic() && en && !x2) throw org.hvlab.machine.cpu.CpuFault.gp0(); // x2APIC -> xAPIC needs disable first
        if (!globallyEnabled() && x2) throw org.hvlab.machine.cpu.CpuFault.gp0(); // disabled -> x2APIC needs xAPIC first (10.12.5)
        apicBase = v; // the BSP flag is R/W too (SDM Vol.3C Table 35-2, IA32_APIC_BASE bit 8)
        if (x2) ldr = ((id >> 4) << 16) | (1 << (id & 0xF)); // x2APIC logical ID is derived (10.12.10.2)
        cpu.flushTlb(); // the MMIO page appears or disappears
    }

    // ---- MMIO (xAPIC)

    public boolean mmioHit(long pa) {
        return (pa & ~0xFFFL) == (apicBase & ((1L << org.hvlab.machine.cpu.Cpuid.MAXPHYADDR) - 1) & ~0xFFFL)
                && globallyEnabled() && !x2apic();
    }

    public long mmioRead(long pa, int size) {
        int off = (int) (pa & 0xFFF);
        long v = read(off & 0xFF0) & 0xFFFFFFFFL;
        int sh = (off & 3) * 8;
        return (v >>> sh) & (size >= 4 ? 0xFFFFFFFFL : (1L << (size * 8)) - 1);
    }

    public void mmioWrite(long pa, int size, long v) {
        int off = (int) (pa & 0xFFF);
        if ((off & 0xF) != 0) return; // only aligned 32-bit writes reach a register
        write(off & 0xFF0, (int) v);
    }

    // ---- x2APIC MSRs 0x800-0x8FF: register offset = (index - 0x800) << 4

    public long x2apicRead(int index) {
        if (!x2apic()) throw org.hvlab.machine.cpu.CpuFault.gp0();
        int off = (index - 0x800) << 4;
        if (off == 0x300) return icr;
        if (off == 0x310 || off == 0x0B0 || off == 0x3F0 || off == 0x090) throw org.hvlab.machine.cpu.CpuFault.gp0();
        if (off == 0x020) return id;
        return read(off) & 0xFFFFFFFFL;
    }

    public void x2apicWrite(int index, long v) {
        if (!x2apic()) throw org.hvlab.machine.cpu.CpuFault.gp0();
        int off = (index - 0x800) << 4;
        switch (off) {
            case 0x300 -> { icr = v; sendIpi((int) v, v >>> 32, true); }
            case 0x3F0 -> sendIpi(0x40000 | ((int) v & 0xFF), 0, true); // SELF IPI
            case 0x020, 0x030, 0x0A0, 0x0D0, 0x390 -> throw org.hvlab.machine.cpu.CpuFault.gp0(); // read-only (10.12.1.2)
            default -> {
                if ((v >>> 32) != 0 || (off >= 0x100 && off < 0x280)) throw org.hvlab.machine.cpu.CpuFault.gp0(); // ISR/TMR/IRR read-only
                write(off, (int) v);
            }
        }
    }

    // ---- registers

    private int read(int off) {
        if (off >= 0x100 && off < 0x180) return isr[(off - 0x100) >> 4];
        if (off >= 0x180 && off < 0x200) return tmr[(off - 0x180) >> 4];
        if (off >= 0x200 && off < 0x280) return irr[(off - 0x200) >> 4];
        return switch (off) {
            case 0x020 -> id << 24;
            case 0x030 -> VERSION;
            case 0x080 -> tpr;
            case 0x0A0 -> ppr();
            case 0x0D0 -> ldr;
            case 0x0E0 -> dfr;
            case 0x0F0 -> svr;
            case 0x280 -> esr;
            case 0x300 -> (int) icr & ~(1 << 12); // delivery status: idle
            case 0x310 -> (int) (icr >>> 32);
            case 0x2F0 -> lvt[6];
            case 0x320, 0x330, 0x340, 0x350, 0x360, 0x370 -> lvt[(off - 0x320) >> 4];
            case 0x380 -> timerInitial;
            case 0x390 -> 0;
            case 0x3E0 -> timerDivide;
            default -> 0;
        };
    }

    private void write(int off, int v) {
        switch (off) {
            case 0x080 -> { tpr = v & 0xFF; cpu.kick(); }
            case 0x0B0 -> eoi();
            case 0x0D0 -> { if (!x2apic()) ldr = v & 0xFF000000; }
            case 0x0E0 -> dfr = v | 0x0FFFFFFF;
            case 0x0F0 -> { svr = v & 0x13FF; cpu.kick(); }
            case 0x280 -> esr = 0;
            case 0x300 -> {
                icr = (icr & 0xFFFFFFFF00000000L) | (v & 0xFFFFFFFFL);
                sendIpi(v, (icr >>> 56) & 0xFF, false);
            }
            case 0x310 -> icr = (icr & 0xFFFFFFFFL) | ((long) v << 32);
            case 0x2F0 -> lvt[6] = v;
            case 0x320, 0x330, 0x340, 0x350, 0x360, 0x370 -> lvt[(off - 0x320) >> 4] = softwareEnabled() ? v : v | 0x10000;
            case 0x380 -> timerInitial = v;
            case 0x3E0 -> timerDivide = v & 0xB;
            default -> { }
        }
    }

    /**
     * An IPI as a write of the ICR would send it ({@code icrLow}: vector, delivery mode,
     * destination mode and shorthand as in ICR bits 19:0), to {@code dest} (an APIC ID, or a
     * logical destination). For hypervisors written in Java.
     */
    /** An ICR write by the Java host software: NMIs it sends are the host's own (accounting only). */
    public void sendIcrAsHost(int icrLow, int dest) {
        hostSending = true;
        try {
            sendIcr(icrLow, dest);
        } finally {
            hostSending = false;
        }
    }

    private boolean hostSending;

    boolean hostSending() {
        return hostSending;
    }

    public void sendIcr(int icrLow, int dest) {
        sendIpi(icrLow, dest & 0xFFFFFFFFL, x2apic());
    }

    private void sendIpi(int lo, long dest, boolean x2) {
        int vector = lo & 0xFF;
        int mode = (lo >> 8) & 7;
        boolean logical = (lo & (1 << 11)) != 0;
        boolean level = (lo & (1 << 14)) != 0;
        boolean trigger = (lo & (1 << 15)) != 0;
        int shorthand = (lo >> 18) & 3;
        bus.send(this, mode, vector, shorthand, logical, dest, x2, level, trigger);
    }

    boolean matchesLogical(long dest, boolean x2) {
        if (x2) {
            if (dest == 0xFFFFFFFFL) return true;
            return ((dest >>> 16) == (ldr >>> 16)) && ((dest & ldr & 0xFFFF) != 0);
        }
        int logicalId = ldr >>> 24;
        if (dest == 0xFF) return true;
        if ((dfr >>> 28) == 0xF) return (logicalId & dest) != 0; // flat model
        return (dest >>> 4) == (logicalId >>> 4) && (dest & logicalId & 0xF) != 0; // cluster model
    }

    /** An interrupt message arrives at this APIC. */
    void accept(int mode, int vector, boolean fromHost) {
        switch (mode) {
            case DM_FIXED, DM_LOWEST -> {
                if (!globallyEnabled() || !softwareEnabled() || vector < 16) return; // illegal vectors are dropped (ESR not modelled)
                if (!bit(irr, vector)) {
                    set(irr, vector, true);
                    pendingCount++;
                }
                cpu.kick();
            }
            case DM_NMI -> cpu.raiseNmi(fromHost);
            case DM_INIT -> cpu.raiseInit();
            case DM_SIPI -> cpu.raiseSipi(vector);
            default -> { } // SMI and reserved modes: nothing modelled
        }
    }

    private static boolean bit(int[] a, int v) {
        return (a[v >> 5] & (1 << (v & 31))) != 0;
    }

    private static void set(int[] a, int v, boolean on) {
        if (on) a[v >> 5] |= 1 << (v & 31);
        else a[v >> 5] &= ~(1 << (v & 31));
    }

    private static int highest(int[] a) {
        for (int i = 7; i >= 0; i--) if (a[i] != 0) return i * 32 + 31 - Integer.numberOfLeadingZeros(a[i]);
        return -1;
    }

    /** Processor priority (SDM Vol.3A 10.8.3.1). */
    int ppr() {
        int isrv = highest(isr);
        int isrClass = isrv < 0 ? 0 : isrv & 0xF0;
        return (tpr & 0xF0) >= isrClass ? tpr : isrClass;
    }

    /** True when a fixed interrupt could be delivered now (ignoring RFLAGS.IF). */
    public boolean hasPendingInterrupt() {
        if (pendingCount == 0) return false;
        int v = highest(irr);
        return v >= 0 && (v & 0xF0) > (ppr() & 0xF0);
    }

    /** INTA: moves the highest deliverable IRR bit to ISR and returns its vector, or -1. */
    public int acknowledge() {
        if (!hasPendingInterrupt()) return -1;
        int v = highest(irr);
        set(irr, v, false);
        pendingCount--;
        set(isr, v, true);
        return v;
    }

    private void eoi() {
        int v = highest(isr);
        if (v >= 0) set(isr, v, false);
        cpu.kick();
    }

    /** Raise a fixed interrupt locally (for devices and tests). */
    public void raiseFixed(int vector) {
        accept(DM_FIXED, vector, false);
    }

    /** INIT resets the APIC state except ID and base (SDM Vol.3A 10.4.7.3). */
    public void resetOnInit() {
        tpr = 0;
        svr = 0xFF;
        java.util.Arrays.fill(irr, 0);
        java.util.Arrays.fill(isr, 0);
        java.util.Arrays.fill(tmr, 0);
        java.util.Arrays.fill(lvt, 0x10000);
        pendingCount = 0;
    }
}
