package org.hvlab.machine.cpu;

import org.hvlab.machine.events.MachineEvent;

import org.hvlab.machine.apic.LocalApic;
import org.hvlab.machine.mem.Page;
import org.hvlab.machine.mem.PhysicalMemory;

/**
 * One logical processor: architectural state, the memory path (segmentation, a software TLB
 * over the page walker, MMIO), the decoded-instruction fetch cache and the step loop with
 * event checks at instruction boundaries. Instruction semantics live in {@link Interpreter},
 * event delivery in {@link Interrupts}, the page walk in {@link Paging}.
 */
public final class Cpu {
    public static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    public static final String[] REG_NAMES = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

    // activity states (numbered as the VMCS activity-state field, SDM Vol.3C 24.4.2)
    public static final int ACTIVE = 0, HLT = 1, SHUTDOWN = 2, WAIT_SIPI = 3;
    // interruptibility (numbered as the VMCS guest-interruptibility field)
    public static final int BLOCK_STI = 1, BLOCK_MOVSS = 2;

    public static final long CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20,
            CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1L << 31;
    public static final long CR4_VME = 1, CR4_PVI = 2, CR4_TSD = 4, CR4_DE = 8, CR4_PSE = 0x10, CR4_PAE = 0x20,
            CR4_MCE = 0x40, CR4_PGE = 0x80, CR4_PCE = 0x100, CR4_OSFXSR = 0x200, CR4_OSXMMEXCPT = 0x400,
            CR4_VMXE = 0x2000, CR4_FSGSBASE = 0x10000, CR4_PCIDE = 0x20000, CR4_OSXSAVE = 0x40000,
            CR4_SMEP = 0x100000, CR4_SMAP = 0x200000;
    public static final long EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

    public final int index;
    final PhysicalMemory mem;
    final Platform platform;
    public final LocalApic apic;
    final Interpreter interp;
    final Interrupts ints;
    final Paging paging;
    final Decoder decoder;
    public final Msrs msrs;
    private final int cpuCount;
    /** The processor model: VMX capabilities and implementation choices. */
    public final org.hvlab.machine.vmx.CpuProfile profile;
    /** Profile choice nmi-exit-while-guest-nmi-blocked = exit (KVM's nested VMX; VmExits.nmiExitBlocked). */
    final boolean nmiExitIgnoresGuestBlocking;
    /** VMX operation state. */
    public final org.hvlab.machine.vmx.VmxState vmx = new org.hvlab.machine.vmx.VmxState();

    // ---- architectural state
    public final long[] r = new long[16];
    public long rip;
    public final LazyFlags fl = new LazyFlags();
    public final Segment[] seg = new Segment[6];
    public final Segment ldtr = new Segment(), tr = new Segment();
    public long gdtrBase, idtrBase;
    public int gdtrLimit, idtrLimit = 0xFFFF;
    public long cr0 = 0x60000010L, cr2, cr3, cr4, efer, xcr0 = 1;
    public final long[] dr = new long[8];
    public int cpl;
    public int activity = ACTIVE;

    // ---- events
    /** An NMI is latched (at most one, SDM Vol.3A 6.7.1). */
    public boolean nmiPending;
    /** NMIs are blocked from NMI delivery until the next IRET. */
    public boolean nmiBlocked;
    /** STI / MOV-SS blocking for the boundary after the current instruction. */
    int shadow;
    boolean initPending;
    /** The vector of an accepted SIPI not yet acted on, or -1. */
    int sipiVector = -1;
    /** Set by an IRET that unblocked (virtual) NMIs, for bit 12 of a fault exit during that IRET. */
    boolean iretUnblockedNmi;
    /** STI/MOV-SS blocking in force when the current instruction began (VM entry checks it). */
    int blockingAtStart;
    /** Set when anything may need attention at the next boundary. */
    boolean events;

    /** Observer of architectural events, or null. */
    /** Timeline recording, or null (off). */
    /** Where this CPU publishes its events (the machine's one stream; a CPU of its own outside a machine). */
    public final org.hvlab.machine.events.EventBus bus;

    // ---- derived mode
    int decodeMode = Insn.MODE16;
    boolean m64;
    long ipMask = 0xFFFF;

    // ---- execution
    /** Address of the instruction after the one executing; branches overwrite it. */
    long nrip;
    public long instructions;
    /** Events delivered (faults, NMIs, interrupts): steps too, so a fault loop still reaches the step limit. */
    public long deliveries;
    long budget;

    // ---- software TLB: linear page -> physical page with permissions for CPL 0-2 and 3
    static final int TLB_BITS = 10, TLB_SIZE = 1 << TLB_BITS;
    static final int P_RS = 1, P_WS = 2, P_XS = 4, P_RU = 8, P_WU = 16, P_XU = 32;
    // the arrays of the current tagged set (TlbContexts); VM entry and exit switch them
    long[] tlbVpn;
    long[] tlbPa;
    Page[] tlbPage;
    int[] tlbPerm;
    final TlbContexts tlbs;
    final Ept ept;
    int permR = P_RS, permW = P_WS, permX = P_XS;

    // ---- fetch cache
    private long fetchVpn = -1;
    private Page fetchPage;
    private Object[] fetchCode;

    public Cpu(int index, int cpuCount, PhysicalMemory mem, Platform platform, LocalApic apic) {
        this(index, cpuCount, mem, platform, apic, org.hvlab.machine.vmx.CpuProfile.defaultProfile());
    }

    public Cpu(int index, int cpuCount, PhysicalMemory mem, Platform platform, LocalApic apic, org.hvlab.machine.vmx.CpuProfile profile) {
        this(index, cpuCount, mem, platform, apic, profile, new org.hvlab.machine.events.EventBus(), true);
    }

    /** A CPU of a machine: it publishes on the machine's {@code bus}; {@code yieldOnPause}: PAUSE ends its quantum. */
    public Cpu(int index, int cpuCount, PhysicalMemory mem, Platform platform, LocalApic apic, org.hvlab.machine.vmx.CpuProfile profile,
            org.hvlab.machine.events.EventBus bus, boolean yieldOnPause) {
        this.bus = bus;
        this.yieldOnPause = yieldOnPause;
        this.index = index;
        this.profile = profile;
        this.nmiExitIgnoresGuestBlocking = profile.is(org.hvlab.machine.vmx.CpuProfile.Choice.NMI_EXIT_WHILE_GUEST_NMI_BLOCKED, "exit");
        this.cpuCount = cpuCount;
        this.mem = mem;
        this.platform = platform;
        this.apic = apic;
        for (int i = 0; i < 6; i++) seg[i] = new Segment();
        this.msrs = new Msrs(this);
        this.paging = new Paging(this);
        this.ept = new Ept(this);
        this.tlbs = new TlbContexts(this);
        tlbSwitched();
        this.ints = new Interrupts(this);
        this.decoder = new Decoder(this);
        this.interp = new Interpreter(this);
        flushTlb();
        resetToWaitForSipi();
    }

    public int cpuCount() { return cpuCount; }
    public int apicId() { return apic.id(); }
    public PhysicalMemory memory() { return mem; }

    // =========================================================================================
    // Mode bookkeeping

    /** Recompute the decode mode, CPL-dependent permission masks and flush derived caches. */
    void modeChanged() {
        boolean lma = (efer & EFER_LMA) != 0;
        Segment cs = seg[Segment.CS];
        if ((cr0 & CR0_PE) == 0) {
            decodeMode = Insn.MODE16;
            cpl = 0;
        } else if (lma && cs.longMode()) {
            decodeMode = Insn.MODE64;
        } else {
            decodeMode = cs.big() ? Insn.MODE32 : Insn.MODE16;
        }
        m64 = decodeMode == Insn.MODE64;
        ipMask = m64 ? -1L : decodeMode == Insn.MODE32 ? 0xFFFFFFFFL : 0xFFFFL;
        boolean user = cpl == 3;
        permR = user ? P_RU : P_RS;
        permW = user ? P_WU : P_WS;
        permX = user ? P_XU : P_XS;
        fetchVpn = -1;
    }

    public boolean longModeActive() { return (efer & EFER_LMA) != 0; }
    public boolean is64() { return m64; }
    public int decodeMode() { return decodeMode; }

    public void flushTlb() {
        tlbs.current.flush();
        fetchVpn = -1;
    }

    /** Memory was written from outside the CPUs (run control): decode again from memory, keep the TLB (its staleness is architectural). */
    public void dropFetchCache() {
        fetchVpn = -1;
    }

    /** The isolation watch, when one is installed (Machine.memoryWatch). */
    public MemoryWatch watch;

    /** A watched page must not be reached through the fetch cache any more (the TLB's fast path checks the flag). */
    void unlinkPage(Page p) {
        if (fetchPage == p) fetchVpn = -1;
    }

    /** The current TLB set changed (VM entry/exit, INVVPID): index the new one. */
    void tlbSwitched() {
        TlbContexts.Set t = tlbs.current;
        tlbVpn = t.vpn;
        tlbPa = t.pa;
        tlbPage = t.page;
        tlbPerm = t.perm;
        fetchVpn = -1;
    }

    // =========================================================================================
    // Registers

    public long reg(int n, int size) {
        if (n >= 16) return (r[n - 16] >>> 8) & 0xFF;
        long v = r[n];
        return switch (size) {
            case 1 -> v & 0xFF;
            case 2 -> v & 0xFFFF;
            case 4 -> v & 0xFFFFFFFFL;
            default -> v;
        };
    }

    /** Register write with x86-64 rules: 32-bit writes zero the upper half, 8/16-bit merge. */
    public void setReg(int n, int size, long v) {
        switch (size) {
            case 1 -> {
                if (n >= 16) r[n - 16] = (r[n - 16] & ~0xFF00L) | ((v & 0xFF) << 8);
                else r[n] = (r[n] & ~0xFFL) | (v & 0xFF);
            }
            case 2 -> r[n] = (r[n] & ~0xFFFFL) | (v & 0xFFFF);
            case 4 -> r[n] = v & 0xFFFFFFFFL;
            default -> r[n] = v;
        }
    }

    public long rflags() { return fl.get(); }
    public void setRflags(long v) { fl.setAll(v); }

    // =========================================================================================
    // Segmented addressing

    static boolean canonical(long la) {
        return ((la << 16) >> 16) == la;
    }

    /** Linear address for a data access, with segment and canonical checks (SDM Vol.3A 5.3). */
    long linear(int s, long off, int size, boolean write) {
        if (m64) {
            long la = s >= Segment.FS ? off + seg[s].base : off;
            if (!canonical(la) || !canonical(la + size - 1)) throw s == Segment.SS ? CpuFault.ss(0) : CpuFault.gp0();
            return la;
        }
        Segment sg = seg[s];
        if ((cr0 & CR0_PE) != 0) {
            if (sg.unusable()) throw s == Segment.SS ? CpuFault.ss(0) : CpuFault.gp0();
            int t = sg.type();
            if (write && ((t & 8) != 0 || (t & 2) == 0)) throw s == Segment.SS ? CpuFault.ss(0) : CpuFault.gp0();
            if (!write && (t & 0xA) == 8) throw CpuFault.gp0(); // execute-only code
            if ((t & 0xC) == 4) { // expand-down data: valid offsets lie above the limit
                long top = sg.big() ? 0xFFFFFFFFL : 0xFFFFL;
                if (off <= sg.limit || off + size - 1 > top) throw s == Segment.SS ? CpuFault.ss(0) : CpuFault.gp0();
                return (sg.base + off) & 0xFFFFFFFFL;
            }
        }
        if (off + size - 1 > sg.limit) throw s == Segment.SS ? CpuFault.ss(0) : CpuFault.gp0();
        return (sg.base + off) & 0xFFFFFFFFL;
    }

    public long read(int s, long off, int size) {
        return readLin(linear(s, off, size, false), size);
    }

    public void write(int s, long off, int size, long v) {
        writeLin(linear(s, off, size, true), size, v);
    }

    // =========================================================================================
    // Linear accesses through the TLB

    public long readLin(long la, int size) {
        int off = (int) la & Page.MASK;
        if (off <= Page.SIZE - size) {
            long vpn = la >>> 12;
            int i = (int) vpn & (TLB_SIZE - 1);
            if (tlbVpn[i] == vpn && (tlbPerm[i] & permR) != 0) {
                Page p = tlbPage[i];
                if (p != null && !p.watched) return PhysicalMemory.get(p.data, off, size);
            }
        }
        return readLinSlow(la, size, permR, Paging.READ);
    }

    public void writeLin(long la, int size, long v) {
        int off = (int) la & Page.MASK;
        if (off <= Page.SIZE - size) {
            long vpn = la >>> 12;
            int i = (int) vpn & (TLB_SIZE - 1);
            if (tlbVpn[i] == vpn && (tlbPerm[i] & permW) != 0) {
                Page p = tlbPage[i];
                if (p != null && !p.watched) {
                    PhysicalMemory.put(p.data, off, size, v);
                    p.code = null;
                    return;
                }
            }
        }
        writeLinSlow(la, size, v, permW);
    }

    /** Supervisor-mode implicit accesses (descriptor tables, IDT, TSS, SDM Vol.3A 4.6). */
    long readSys(long la, int size) {
        return readLinSlow(la, size, P_RS, Paging.READ | Paging.IMPLICIT);
    }

    void writeSys(long la, int size, long v) {
        writeLinSlow(la, size, v, P_WS | (Paging.IMPLICIT << 8));
    }

    /** Translate one linear address; fills the TLB; raises #PF. */
    long translate(long la, int access, int perm) {
        long vpn = la >>> 12;
        int i = (int) vpn & (TLB_SIZE - 1);
        if (tlbVpn[i] == vpn && (tlbPerm[i] & perm) != 0) return tlbPa[i] | (la & Page.MASK);
        return paging.walk(la, access, i);
    }

    private long readLinSlow(long la, int size, int perm, int access) {
        int off = (int) la & Page.MASK;
        if (off + size > Page.SIZE) {
            long v = 0;
            for (int k = 0; k < size; k++) v |= readPhys(translate(la + k, access, perm), 1) << (8 * k);
            return v;
        }
        return readPhys(translate(la, access, perm), size);
    }

    private void writeLinSlow(long la, int size, long v, int permAndFlags) {
        int perm = permAndFlags & 0xFF;
        int access = Paging.WRITE | (permAndFlags >>> 8);
        int off = (int) la & Page.MASK;
        if (off + size > Page.SIZE) {
            // translate both pages before writing anything (the write must not happen in part)
            int first = Page.SIZE - off;
            long pa1 = translate(la, access, perm);
            long pa2 = translate(la + first, access, perm);
            for (int k = 0; k < size; k++) {
                long pa = k < first ? pa1 + k : pa2 + (k - first);
                writePhys(pa, 1, v >>> (8 * k));
            }
            return;
        }
        writePhys(translate(la, access, perm), size, v);
    }

    /**
     * The quadword at linear address {@code la} as this CPU sees it now, or -1 when it is not
     * mapped or not RAM; it changes nothing (no accessed bits, TLB, faults or exits), so
     * oracles and reports can look without disturbing the run.
     */
    public long readLinQuietly(long la) {
        long v = 0, pa = -1;
        for (int k = 0; k < 8; k++) {
            // one walk per page the quadword touches
            if (k == 0 || ((la + k) & 0xFFF) == 0) pa = paging.peek(la + k);
            else pa++;
            if (pa < 0 || !mem.isRam(pa)) return -1;
            v |= (long) mem.read8(pa) << (8 * k);
        }
        return v;
    }

    /** Physical read: RAM, this CPU's xAPIC page, or all ones for nothing. */
    public long readPhys(long pa, int size) {
        if (watch != null && watch.watched(pa)) watch.check(this, pa, Paging.READ);
        if (apic.mmioHit(pa)) return apic.mmioRead(pa, size);
        if (mem.isRam(pa)) return mem.read(pa, size);
        return LazyFlags.mask(size);
    }

    public void writePhys(long pa, int size, long v) {
        if (watch != null && watch.watched(pa)) watch.check(this, pa, Paging.WRITE);
        if (apic.mmioHit(pa)) { apic.mmioWrite(pa, size, v); return; }
        mem.write(pa, size, v);
    }

    // =========================================================================================
    // Instruction fetch

    int fetchCode(long la) {
        // code fetch from a non-canonical address raises #GP(0) (SDM Vol.1 3.3.7.1) instead of
        // being translated through the page tables (which would alias it to a canonical page)
        if (m64 && !canonical(la)) throw CpuFault.gp0();
        return (int) readLinSlow(la, 1, permX, Paging.FETCH) & 0xFF;
    }

    private Insn fetch() {
        long la = m64 ? rip : (seg[Segment.CS].base + rip) & 0xFFFFFFFFL;
        long vpn = la >>> 12;
        Object[] code = fetchCode;
        if (vpn != fetchVpn || fetchPage.code != code) {
            code = refillFetch(la);
            if (code == null) return decoder.decode(la, decodeMode); // executing outside RAM
        }
        int off = (int) la & Page.MASK;
        Object o = code[off];
        if (o != null) {
            Insn in = (Insn) o;
            if (in.mode == decodeMode) return in;
        }
        Insn in = decoder.decode(la, decodeMode);
        if (!decoder.crossedPage && fetchPage.code == code) code[off] = in;
        return in;
    }

    private Object[] refillFetch(long la) {
        if (m64 && !canonical(la)) throw CpuFault.gp0(); // as in fetchCode
        long pa = translate(la, Paging.FETCH, permX);
        Page p = apic.mmioHit(pa) ? null : mem.page(pa);
        if (p == null) {
            fetchVpn = -1;
            return null;
        }
        if (p.watched && watch != null) watch.check(this, pa, Paging.FETCH);
        if (p.code == null) p.code = new Object[Page.SIZE];
        fetchVpn = la >>> 12;
        fetchPage = p;
        fetchCode = p.code;
        return fetchCode;
    }

    // =========================================================================================
    // Execution

    /**
     * Runs up to {@code n} instructions. Returns early when the CPU stops being able to run
     * (HLT with nothing to wake it, wait-for-SIPI, shutdown) or the run ends.
     */
    public long run(long n) {
        if (stopRequested) return 0;
        budget = n;
        long start = instructions;
        while (budget > 0) {
            if (events || activity != ACTIVE) {
                if (!serviceEvents()) break;
                if (platform.stopped()) break;
                if (javaHost && !vmx.nonRoot) break; // a VM exit returns to the Java host
            }
            if (breakpoints != null && atBreakpoint()) break;
            if (bus.wants(MachineEvent.Kind.INSTRUCTION)) bus.publish(new MachineEvent.InstructionBoundary(index, rip));
            step();
            budget--;
        }
        return instructions - start;
    }

    /** Run control: stop before executing these RIPs (null: none, the common case, one check per instruction). */
    private java.util.Set<Long> breakpoints;
    /** The breakpoint this CPU stopped at last: the next instruction there runs (resuming from it). */
    private long resumeFrom = -1;

    /** Stops this CPU before the instruction at {@code rip} from now on. */
    public void addBreakpoint(long rip) {
        if (breakpoints == null) breakpoints = new java.util.HashSet<>();
        breakpoints.add(rip);
    }

    public void removeBreakpoint(long rip) {
        if (breakpoints == null) return;
        breakpoints.remove(rip);
        if (breakpoints.isEmpty()) breakpoints = null;
    }

    private boolean atBreakpoint() {
        if (!breakpoints.contains(rip)) return false;
        if (resumeFrom == rip) {
            resumeFrom = -1;
            return false;
        }
        resumeFrom = rip;
        endQuantum();
        platform.breakpointHit(this);
        return true;
    }

    /** One instruction, or the delivery of the fault it raised. */
    void step() {
        blockingAtStart = shadow;
        if (iretUnblockedNmi) iretUnblockedNmi = false;
        shadow = 0; // a shadow covers only the boundary right after the instruction that set it
        long startRip = rip;
        try {
            Insn in = fetch();
            boolean singleStep = (fl.bits & LazyFlags.TF) != 0;
            nrip = (rip + in.len) & ipMask;
            interp.exec(in);
            rip = nrip;
            instructions++;
            if (singleStep) singleStepTrap(in);
        } catch (CpuFault f) {
            rip = startRip;
            shadow = 0;
            deliveries++;
            ints.deliverException(f, startRip);
        }
    }

    /**
     * RFLAGS.TF at the start of an instruction raises a #DB trap after it (SDM Vol.3B 17.3.1.4):
     * DR6.BS is set, the saved RIP is the next instruction. Not after INT n / INT3 / INTO, whose
     * delivery clears TF, and not after MOV SS / POP SS, which suppress it for one instruction.
     */
    private void singleStepTrap(Insn in) {
        if (in.op == Op.INT || in.op == Op.INT3 || in.op == Op.INTO || in.op == Op.INT1) return;
        if ((shadow & BLOCK_MOVSS) != 0) return;
        dr[6] |= 0x4000;
        ints.deliverDebugTrap();
    }

    /**
     * Handles pending events at an instruction boundary (SDM Vol.3A 6.9 priorities: INIT, NMI,
     * maskable interrupts). Returns false when the CPU cannot execute now.
     */
    private boolean serviceEvents() {
        for (;;) {
            int blocking = activity == ACTIVE ? shadow : 0;
            PendingEvent p = PendingEvent.next(this, blocking);
            switch (p) {
                case INIT_EXIT -> {
                    initPending = false;
                    VmExits.exit(this, org.hvlab.machine.vmx.ExitReason.INIT_SIGNAL.code, 0, 0);
                    return true;
                }
                case INIT_RESET -> {
                    initPending = false;
                    resetToWaitForSipi();
                    apic.resetOnInit();
                }
                case SIPI_EXIT -> {
                    int v = sipiVector;
                    sipiVector = -1;
                    VmExits.exit(this, org.hvlab.machine.vmx.ExitReason.SIPI.code, v, 0);
                    return true;
                }
                case SIPI_START -> {
                    startAtSipi(sipiVector);
                    sipiVector = -1;
                }
                case MTF_EXIT, PREEMPTION_TIMER_EXIT, NMI_WINDOW_EXIT, NMI_EXIT, INTERRUPT_WINDOW_EXIT, EXTERNAL_INTERRUPT_EXIT -> {
                    // an exit at this boundary saves the blocking in effect here, not the one before the
                    // previous instruction (SDM Vol.3C 27.3.4: the state when the VM exit commences)
                    blockingAtStart = blocking;
                    VmExits.boundaryExit(this, p);
                    return true;
                }
                case NMI -> {
                    nmiPending = false;
                    activity = ACTIVE;
                    deliveries++;
                    ints.deliverNmi();
                    return true;
                }
                case INTERRUPT -> {
                    int v = apic.acknowledge();
                    if (v >= 0) {
                        activity = ACTIVE;
                        deliveries++;
                        ints.deliverExternal(v);
                        return true;
                    }
                    return idle();
                }
                case NONE -> {
                    return idle();
                }
            }
        }
    }

    /** Nothing to take at this boundary: whether the CPU executes on, and whether later boundaries need checking. */
    private boolean idle() {
        if (activity == WAIT_SIPI || activity == SHUTDOWN) {
            if (activity == WAIT_SIPI) events = false;
            return false;
        }
        // something may still be pending (NMI blocked, IF clear): keep checking each boundary
        events = vmx.nonRoot && VmExits.watchesBoundaries(this) || nmiPending || initPending || apic.hasPendingInterrupt();
        return activity == ACTIVE;
    }

    /**
     * True when an event could be taken at the next boundary (ignoring the one-instruction
     * shadows): a repeated string instruction stops between iterations only for these, not for
     * events that stay blocked (an NMI inside an NMI handler, interrupts with IF = 0).
     */
    boolean eventDeliverable() {
        return PendingEvent.next(this, 0) != PendingEvent.NONE;
    }

    /** Something changed that may make an event deliverable (APIC, NMI pin, INIT, SIPI). */
    public void kick() {
        events = true;
    }

    public void raiseNmi() {
        raiseNmi(false);
    }

    /** An NMI at this CPU's pin; {@code fromHost} when the Java host software sent it (accounting only). */
    public void raiseNmi(boolean fromHost) {
        if (bus.wants(MachineEvent.Kind.NMI_RAISED)) bus.publish(new MachineEvent.NmiRaised(index, fromHost, nmiPending));
        nmiPending = true; // a second NMI while one is latched is lost (at most one latched)
        events = true;
    }

    public void raiseInit() {
        initPending = true;
        sipiVector = -1; // a SIPI accepted before this INIT is void
        events = true;
    }

    /**
     * A SIPI counts only in wait-for-SIPI, which includes a CPU whose INIT is still pending: the
     * INIT and the SIPI are processed in the order they were sent (SDM Vol.3A 8.4.4).
     */
    public void raiseSipi(int vector) {
        if ((activity == WAIT_SIPI || initPending) && sipiVector < 0) sipiVector = vector;
        events = true;
    }

    /** True when this CPU can make progress if scheduled. */
    public boolean runnable() {
        // HLT, shutdown, wait-for-SIPI: whatever the next boundary would take wakes the CPU (SDM Vol.2 HLT)
        return activity == ACTIVE || PendingEvent.next(this, 0) != PendingEvent.NONE;
    }

    /** Time-stamp counter: retired instructions, one cycle each (deterministic). */
    public long tsc() {
        return instructions + msrs.tscAdjust;
    }

    /** PAUSE in a spin loop: give the rest of the quantum to the other CPUs when so configured. */
    void pauseHint() {
        if (yieldOnPause) endQuantum();
    }

    /** The host is a Java hypervisor (HostBridge): VM exits return from {@link #run} to it. */
    boolean javaHost;

    /** Whether PAUSE ends the quantum (default on: spin-waits then cost one quantum, not many). */
    private final boolean yieldOnPause;

    /** Ends the current quantum after this instruction (HLT, PAUSE, shutdown). */
    void endQuantum() {
        budget = 0;
    }

    /** The run has ended: stop at the end of this instruction and never run again. */
    public void requestStop() {
        stopRequested = true;
        budget = 0;
    }

    /** Set once the run has a verdict; the run loop and repeated string instructions check it. */
    boolean stopRequested;

    // =========================================================================================
    // Reset states (docs/boot-protocol.md)

    /** INIT: the processor waits for a start-up IPI (SDM Vol.3A 8.4, 10.6.1). */
    public void resetToWaitForSipi() {
        java.util.Arrays.fill(r, 0);
        fl.setAll(2);
        cr0 = 0x60000010L;
        cr2 = cr3 = cr4 = 0;
        efer = 0;
        for (Segment s : seg) s.realMode(0);
        gdtrBase = idtrBase = 0;
        gdtrLimit = idtrLimit = 0xFFFF;
        ldtr.set(0, 0, 0xFFFF, 0x82);
        tr.set(0, 0, 0xFFFF, 0x8B);
        cpl = 0;
        if (bus.wants(MachineEvent.Kind.INIT_RESET)) bus.publish(new MachineEvent.InitReset(index, nmiPending));
        nmiPending = false;
        nmiBlocked = false;
        shadow = 0;
        activity = WAIT_SIPI;
        rip = 0;
        modeChanged();
        flushTlb();
    }

    /** SIPI with vector V: real mode at V:0000 (docs/boot-protocol.md "Application processors"). */
    void startAtSipi(int vector) {
        seg[Segment.CS].realMode(vector << 8);
        rip = 0;
        activity = ACTIVE;
        modeChanged();
    }

    /** The boot-protocol state of the bootstrap processor. */
    public void bootstrapLongMode(long entry, long rsp, long rdi) {
        java.util.Arrays.fill(r, 0);
        cr0 = 0x80010033L;
        cr3 = 0x1000;
        cr4 = 0x20;
        efer = 0x500;
        gdtrBase = 0x7000;
        gdtrLimit = 0x27;
        idtrBase = 0;
        idtrLimit = 0;
        seg[Segment.CS].set(0x08, 0, 0xFFFFFFFFL, 0xA09B); // 64-bit code, DPL 0
        for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS, Segment.FS, Segment.GS}) {
            seg[s].set(0x10, 0, 0xFFFFFFFFL, 0xC093);
        }
        ldtr.set(0, 0, 0, Segment.UNUSABLE);
        tr.set(0, 0, 0, 0x8B);
        fl.setAll(2);
        cpl = 0;
        rip = entry;
        r[RSP] = rsp;
        r[RDI] = rdi;
        activity = ACTIVE;
        modeChanged();
        flushTlb();
    }

    @Override
    public String toString() {
        return "CPU " + index + " rip=" + Long.toHexString(rip);
    }
}
