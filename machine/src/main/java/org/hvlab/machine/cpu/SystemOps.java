package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.hvlab.machine.cpu.LazyFlags.*;

/**
 * System instructions: segment loads and descriptor tables, far transfers and IRET, control
 * and debug registers, MSRs, I/O with its permission checks, CPUID, HLT, INT n, SYSCALL/SYSRET
 * (SDM Vol.2 and Vol.3A chapters 2, 3, 5, 6).
 */
final class SystemOps {
    private final Cpu c;
    private final Interpreter it;

    final VmxOps vmxOps;

    SystemOps(Cpu c, Interpreter it) {
        this.c = c;
        this.it = it;
        this.vmxOps = new VmxOps(c, it);
    }

    private boolean protectedMode() {
        return (c.cr0 & Cpu.CR0_PE) != 0;
    }

    private void requireCpl0() {
        if (c.cpl != 0) throw CpuFault.gp0();
    }

    private int iopl() {
        return (int) (c.fl.bits & IOPL) >>> 12;
    }

    void exec(Insn in) {
        switch (in.op) {
            case Op.MOV_E_SREG -> {
                int sel = c.seg[in.reg].selector;
                if (in.mem) c.write(in.seg, it.ea(in), 2, sel);
                else c.setReg(in.rm, in.osz == 2 ? 2 : in.osz, sel); // register forms zero-extend
            }
            case Op.MOV_SREG_E -> {
                int sel = (int) it.readE(in, 2);
                loadSegment(in.reg, sel);
                if (in.reg == Segment.SS) c.shadow = Cpu.BLOCK_MOVSS;
            }
            case Op.PUSH_SREG -> it.push(in.osz, c.seg[in.sub].selector);
            case Op.POP_SREG -> {
                long sp = c.r[Cpu.RSP] & it.spMask();
                int sel = (int) c.read(Segment.SS, sp, 2);
                loadSegment(in.sub, sel);
                it.setSp(sp + in.osz);
                if (in.sub == Segment.SS) c.shadow = Cpu.BLOCK_MOVSS;
            }
            case Op.JMP_FAR_PTR -> farJump((int) in.imm2, in.imm, in.osz);
            case Op.JMP_FAR_M -> {
                long a = it.ea(in);
                long off = c.read(in.seg, a, in.osz);
                int sel = (int) c.read(in.seg, (a + in.osz) & Interpreter.mask(in.asz), 2);
                farJump(sel, off, in.osz);
            }
            case Op.CALL_FAR_PTR -> farCall((int) in.imm2, in.imm, in.osz);
            case Op.CALL_FAR_M -> {
                long a = it.ea(in);
                long off = c.read(in.seg, a, in.osz);
                int sel = (int) c.read(in.seg, (a + in.osz) & Interpreter.mask(in.asz), 2);
                farCall(sel, off, in.osz);
            }
            case Op.RETF -> farReturn(in.osz, in.imm);
            case Op.IRET -> iret(in.osz);
            case Op.INT -> {
                if (protectedMode() && (c.fl.bits & VM) != 0 && iopl() < 3) throw CpuFault.gp0();
                c.ints.deliverSoftware((int) in.imm, Interrupts.SW_INTERRUPT, c.rip, c.nrip);
                c.nrip = c.rip;
            }
            case Op.INT3 -> { c.ints.deliverSoftware(CpuFault.BP, Interrupts.SW_EXCEPTION, c.rip, c.nrip); c.nrip = c.rip; }
            case Op.INTO -> {
                if (c.fl.of()) { c.ints.deliverSoftware(CpuFault.OF, Interrupts.SW_EXCEPTION, c.rip, c.nrip); c.nrip = c.rip; }
            }
            case Op.INT1 -> { c.ints.deliverSoftware(CpuFault.DB, Interrupts.PRIV_SW_EXCEPTION, c.rip, c.nrip); c.nrip = c.rip; }
            case Op.HLT -> {
                requireCpl0();
                if (c.vmx.nonRoot && (c.vmx.current.get(PROC_BASED_CONTROLS) & VmxControls.PROC_HLT_EXITING) != 0) { VmExits.exit(c, org.hvlab.machine.vmx.ExitReason.HLT.code, 0, in.len); return; }
                c.activity = Cpu.HLT;
                c.endQuantum();
            }
            case Op.IN_I, Op.IN_DX -> {
                int port = in.op == Op.IN_I ? (int) in.imm : (int) c.r[Cpu.RDX] & 0xFFFF;
                checkIo(port, in.osz);
                if (c.vmx.nonRoot && ioExits(port, in.osz)) { VmExits.exit(c, org.hvlab.machine.vmx.ExitReason.IO_INSTRUCTION.code, ioQualification(in, port, true), in.len); return; }
                c.setReg(Cpu.RAX, in.osz, c.platform.ioIn(c, port, in.osz) & 0xFFFFFFFFL);
            }
            case Op.OUT_I, Op.OUT_DX -> {
                int port = in.op == Op.OUT_I ? (int) in.imm : (int) c.r[Cpu.RDX] & 0xFFFF;
                checkIo(port, in.osz);
                if (c.vmx.nonRoot && ioExits(port, in.osz)) { VmExits.exit(c, org.hvlab.machine.vmx.ExitReason.IO_INSTRUCTION.code, ioQualification(in, port, false), in.len); return; }
                c.platform.ioOut(c, port, in.osz, (int) c.reg(Cpu.RAX, in.osz));
            }
            case Op.CPUID -> {
                if (c.vmx.nonRoot) { VmExits.exit(c, org.hvlab.machine.vmx.ExitReason.CPUID.code, 0, in.len); return; } // unconditional (SDM 25.1.2)
                int[] v = Cpuid.query(c, (int) c.r[Cpu.RAX], (int) c.r[Cpu.RCX]);
                c.setReg(Cpu.RAX, 4, v[0] & 0xFFFFFFFFL);
                c.setReg(Cpu.RBX, 4, v[1] & 0xFFFFFFFFL);
                c.setReg(Cpu.RCX, 4, v[2] & 0xFFFFFFFFL);
                c.setReg(Cpu.RDX, 4, v[3] & 0xFFFFFFFFL);
            }
            case Op.RDMSR -> {
                requireCpl0();
                if (c.vmx.nonRoot && msrExits((int) c.r[Cpu.RCX], false)) { VmExits.exit(c, org.hvlab.machine.vmx.ExitReason.RDMSR.code, 0, in.len); return; }
                long v = c.msrs.read((int) c.r[Cpu.RCX]);
                c.setReg(Cpu.RAX, 4, v & 0xFFFFFFFFL);
                c.setReg(Cpu.RDX, 4, v >>> 32);
            }
            case Op.WRMSR -> {
                requireCpl0();
                if (c.vmx.nonRoot && msrExits((int) c.r[Cpu.RCX], true)) { VmExits.exit(c, org.hvlab.machine.vmx.ExitReason.WRMSR.code, 0, in.len); return; }
                c.msrs.write((int) c.r[Cpu.RCX], (c.r[Cpu.RAX] & 0xFFFFFFFFL) | (c.r[Cpu.RDX] << 32));
            }
            case Op.RDTSC, Op.RDTSCP -> {
                // RDTSCP in VMX non-root operation needs "enable RDTSCP", else #UD (SDM Vol.3C 25.3)
                if (in.op == Op.RDTSCP && c.vmx.nonRoot && (c.vmx.proc2 & (1 << 3)) == 0) throw CpuFault.ud();
                if ((c.cr4 & Cpu.CR4_TSD) != 0 && c.cpl != 0) throw CpuFault.gp0();
                if (c.vmx.nonRoot && (c.vmx.current.get(PROC_BASED_CONTROLS) & VmxControls.PROC_RDTSC_EXITING) != 0) {
                    VmExits.exit(c, in.op == Op.RDTSC ? org.hvlab.machine.vmx.ExitReason.RDTSC.code : 51, 0, in.len);
                    return;
                }
                long t = c.tsc();
                c.setReg(Cpu.RAX, 4, t & 0xFFFFFFFFL);
                c.setReg(Cpu.RDX, 4, t >>> 32);
                if (in.op == Op.RDTSCP) c.setReg(Cpu.RCX, 4, c.msrs.tscAux & 0xFFFFFFFFL);
            }
            case Op.MOV_R_CR -> {
                requireCpl0();
                long val = readCr(in.reg);
                if (c.vmx.nonRoot) {
                    if (NonRootCr.movFrom(c, in, in.reg)) return;
                    val = NonRootCr.read(c, in.reg, val);
                }
                c.setReg(in.rm, in.osz, val);
            }
            case Op.MOV_CR_R -> {
                requireCpl0();
                long val = c.reg(in.rm, in.osz);
                if (c.vmx.nonRoot) {
                    readCr(in.reg); // #UD for a CR that does not exist comes before the exit
                    if (NonRootCr.movTo(c, in, in.reg, val)) return;
                    if (in.reg == 0 || in.reg == 4) val = NonRootCr.merge(c, in.reg, val);
                }
                writeCr(in.reg, val);
            }
            case Op.MOV_R_DR -> {
                requireCpl0();
                if (c.vmx.nonRoot && (c.vmx.current.get(PROC_BASED_CONTROLS) & VmxControls.PROC_MOV_DR_EXITING) != 0) {
                    VmExits.exit(c, NonRootCr.MOV_DR, drIndex(in.reg) | (1 << 4) | ((long) in.rm << 8), in.len);
                    return;
                }
                c.setReg(in.rm, in.osz, c.dr[drIndex(in.reg)]);
            }
            case Op.MOV_DR_R -> {
                requireCpl0();
                if (c.vmx.nonRoot && (c.vmx.current.get(PROC_BASED_CONTROLS) & VmxControls.PROC_MOV_DR_EXITING) != 0) {
                    VmExits.exit(c, NonRootCr.MOV_DR, drIndex(in.reg) | ((long) in.rm << 8), in.len);
                    return;
                }
                int n = drIndex(in.reg);
                long v = c.reg(in.rm, in.osz);
                if ((n == 6 || n == 7) && (v >>> 32) != 0) throw CpuFault.gp0();
                c.dr[n] = n == 6 ? (v | 0xFFFF0FF0L) & 0xFFFFFFFFL : n == 7 ? (v | 0x400) & 0xFFFFFFFFL : v;
            }
            case Op.LGDT, Op.LIDT -> {
                requireCpl0();
                long a = it.ea(in);
                int limit = (int) c.read(in.seg, a, 2);
                long base = c.read(in.seg, (a + 2) & Interpreter.mask(in.asz), c.m64 ? 8 : 4);
                if (!c.m64 && in.osz == 2) base &= 0xFFFFFF;
                if (c.m64 && !Cpu.canonical(base)) throw CpuFault.gp0();
                if (in.op == Op.LGDT) { c.gdtrBase = base; c.gdtrLimit = limit; }
                else { c.idtrBase = base; c.idtrLimit = limit; }
            }
            case Op.SGDT, Op.SIDT -> {
                long a = it.ea(in);
                boolean g = in.op == Op.SGDT;
                c.linear(in.seg, a, c.m64 ? 10 : 6, true);
                c.write(in.seg, a, 2, g ? c.gdtrLimit : c.idtrLimit);
                c.write(in.seg, (a + 2) & Interpreter.mask(in.asz), c.m64 ? 8 : 4, g ? c.gdtrBase : c.idtrBase);
            }
            case Op.LTR, Op.LLDT -> {
                if (!protectedMode() || (c.fl.bits & VM) != 0) throw CpuFault.ud();
                requireCpl0();
                int sel = (int) it.readE(in, 2);
                if (in.op == Op.LTR) loadTr(sel);
                else loadLdt(sel);
            }
            case Op.STR, Op.SLDT -> {
                if (!protectedMode() || (c.fl.bits & VM) != 0) throw CpuFault.ud();
                int sel = in.op == Op.STR ? c.tr.selector : c.ldtr.selector;
                it.writeE(in, in.mem ? 2 : in.osz, sel);
            }
            case Op.SMSW -> it.writeE(in, in.mem ? 2 : in.osz, c.vmx.nonRoot ? NonRootCr.read(c, 0, c.cr0) : c.cr0);
            case Op.LMSW -> {
                requireCpl0();
                long v = it.readE(in, 2) & 0xF;
                if (c.vmx.nonRoot) {
                    if (NonRootCr.lmsw(c, in, v)) return;
                    v = NonRootCr.merge(c, 0, (c.cr0 & ~0xFL) | v) & 0xF;
                }
                long pe = c.cr0 & Cpu.CR0_PE; // LMSW cannot clear PE
                writeCr(0, (c.cr0 & ~0xEL & ~1L) | v | pe);
            }
            case Op.INVLPG -> {
                requireCpl0();
                if (c.vmx.nonRoot && (c.vmx.current.get(PROC_BASED_CONTROLS) & VmxControls.PROC_INVLPG_EXITING) != 0) {
                    VmExits.exit(c, org.hvlab.machine.vmx.ExitReason.INVLPG.code, it.ea(in) + (c.m64 && in.seg >= Segment.FS ? c.seg[in.seg].base : 0), in.len);
                    return;
                }
                c.flushTlb(); // flushing more than the one page is allowed (SDM Vol.3A 4.10.4.1)
            }
            case Op.WBINVD, Op.INVD -> requireCpl0();
            case Op.CLTS -> {
                requireCpl0();
                if (c.vmx.nonRoot) {
                    if (NonRootCr.clts(c, in)) return;
                    if ((c.vmx.current.get(CR0_GUEST_HOST_MASK) & Cpu.CR0_TS) != 0) break; // host-owned TS with shadow 0: no change
                }
                c.cr0 &= ~Cpu.CR0_TS;
            }
            case Op.SWAPGS -> {
                requireCpl0();
                long t = c.seg[Segment.GS].base;
                c.seg[Segment.GS].base = c.msrs.kernelGsBase;
                c.msrs.kernelGsBase = t;
            }
            case Op.SYSCALL -> syscall();
            case Op.SYSRET -> sysret(in);
            case Op.VMX -> vmxOps.exec(in);
            case Op.XSETBV, Op.XGETBV -> throw CpuFault.ud(); // no XSAVE
            default -> throw CpuFault.ud();
        }
    }

    /** RDMSR/WRMSR exit unless "use MSR bitmaps" is set and the bitmap bit is clear (SDM 25.1.3). */
    private boolean msrExits(int msr, boolean write) {
        var v = c.vmx.current;
        if ((v.get(PROC_BASED_CONTROLS) & VmxControls.PROC_USE_MSR_BITMAPS) == 0) return true;
        long base = v.get(MSR_BITMAP) + (write ? 2048 : 0);
        long offset;
        if (msr >= 0 && msr <= 0x1FFF) offset = 0;
        else if (msr >= 0xC0000000 && msr <= 0xC0001FFF) offset = 1024;
        else return true;
        int bit = msr & 0x1FFF;
        return (c.mem.read8(base + offset + (bit >>> 3)) & (1 << (bit & 7))) != 0;
    }

    /** I/O exits: "unconditional I/O exiting" or, with "use I/O bitmaps", any set bit of the accessed ports (25.1.3). */
    private boolean ioExits(int port, int size) {
        long proc = c.vmx.current.get(PROC_BASED_CONTROLS);
        if ((proc & (1L << 25)) == 0) return (proc & (1L << 24)) != 0;
        for (int p = port; p < port + size; p++) {
            int q = p & 0xFFFF;
            long bitmap = c.vmx.current.get(q < 0x8000 ? IO_BITMAP_A : IO_BITMAP_B);
            if ((c.mem.read8(bitmap + ((q & 0x7FFF) >>> 3)) & (1 << (q & 7))) != 0 || p > 0xFFFF) return true;
        }
        return false;
    }

    /** Exit qualification for I/O instructions (SDM Table 27-5): size-1, direction, string, REP, operand encoding, port. */
    private static long ioQualification(Insn in, int port, boolean in_) {
        boolean dx = in.op == Op.IN_DX || in.op == Op.OUT_DX;
        return (in.osz - 1) | (in_ ? 8 : 0) | (dx ? 0 : 64) | ((long) port << 16);
    }

    private static int drIndex(int n) {
        if (n == 4 || n == 5) return n + 2; // aliases of DR6/DR7 while CR4.DE = 0
        if (n > 7) throw CpuFault.ud();
        return n;
    }

    // ---- flags

    void popf(int osz) {
        if (protectedMode() && (c.fl.bits & VM) != 0 && iopl() < 3) throw CpuFault.gp0();
        long v = it.pop(osz);
        long m = WRITABLE & ~RF;
        if (protectedMode()) {
            if (c.cpl > 0) m &= ~IOPL;
            if (c.cpl > iopl()) m &= ~IF;
        }
        if (osz == 2) m &= 0xFFFF;
        long old = c.fl.get();
        c.fl.setAll((old & ~m) | (v & m));
        c.kick();
    }

    void cli() {
        if (protectedMode() && c.cpl > iopl()) throw CpuFault.gp0();
        c.fl.bits &= ~IF;
    }

    void sti() {
        if (protectedMode() && c.cpl > iopl()) throw CpuFault.gp0();
        if ((c.fl.bits & IF) == 0) {
            c.fl.bits |= IF;
            c.shadow = Cpu.BLOCK_STI; // interrupts stay blocked for one more instruction
            c.kick();
        }
    }

    /** I/O permission: CPL <= IOPL, else the TSS I/O bitmap (SDM Vol.1 18.5). */
    void checkIo(int port, int size) {
        if (!protectedMode() || (c.cpl <= iopl() && (c.fl.bits & VM) == 0)) return;
        if (c.tr.limit < 0x67) throw CpuFault.gp0();
        long base = c.readSys(c.tr.base + 0x66, 2) & 0xFFFF;
        long byteOff = base + (port >>> 3);
        if (byteOff + 1 > c.tr.limit) throw CpuFault.gp0();
        long bits = c.readSys(c.tr.base + byteOff, 2);
        if (((bits >>> (port & 7)) & ((1 << size) - 1)) != 0) throw CpuFault.gp0();
    }

    // ---- descriptors

    /** Reads the descriptor a selector names; #GP(selector) if it lies outside the table. */
    long descriptor(int sel, int ext) {
        boolean ldt = (sel & 4) != 0;
        long base = ldt ? c.ldtr.base : c.gdtrBase;
        long limit = ldt ? (c.ldtr.unusable() ? -1 : c.ldtr.limit) : c.gdtrLimit;
        int off = sel & ~7;
        if (off + 7 > limit) throw CpuFault.gp((sel & ~3) + ext);
        return c.readSys(base + off, 8);
    }

    void writeDescriptor(int sel, long d) {
        boolean ldt = (sel & 4) != 0;
        long base = ldt ? c.ldtr.base : c.gdtrBase;
        c.writeSys(base + (sel & ~7), 8, d);
    }

    /** MOV/POP to a data segment register or SS (SDM Vol.2 MOV, Vol.3A 5.5-5.7). */
    void loadSegment(int s, int sel) {
        Segment sg = c.seg[s];
        if (!protectedMode() || (c.fl.bits & VM) != 0) {
            sg.selector = sel;
            sg.base = (long) sel << 4;
            if (s == Segment.SS || s == Segment.CS) c.modeChanged();
            return;
        }
        if ((sel & ~3) == 0) {
            if (s == Segment.SS && !(c.m64 && c.cpl != 3 && (sel & 3) == c.cpl)) throw CpuFault.gp0();
            sg.set(sel, 0, 0, Segment.UNUSABLE | (s == Segment.SS ? c.cpl << 5 : 0));
            return;
        }
        long d = descriptor(sel, 0);
        Segment n = new Segment();
        n.loadDescriptor(sel, d);
        int rpl = sel & 3;
        if (s == Segment.SS) {
            if (rpl != c.cpl || n.dpl() != c.cpl || n.system() || n.isCode() || (n.type() & 2) == 0) throw CpuFault.gp(sel & ~3);
            if (!n.present()) throw CpuFault.ss(sel & ~3);
        } else {
            if (n.system() || (n.isCode() && (n.type() & 2) == 0)) throw CpuFault.gp(sel & ~3);
            boolean conformingCode = n.isCode() && (n.type() & 4) != 0;
            if (!conformingCode && n.dpl() < Math.max(c.cpl, rpl)) throw CpuFault.gp(sel & ~3);
            if (!n.present()) throw CpuFault.np(sel & ~3);
        }
        if ((d & (1L << 40)) == 0) {
            d |= 1L << 40;
            writeDescriptor(sel, d);
            n.attr |= 1;
        }
        sg.copyFrom(n);
        if (s == Segment.SS) c.modeChanged();
    }

    private void loadTr(int sel) {
        if ((sel & ~3) == 0 || (sel & 4) != 0) throw CpuFault.gp(sel & ~3);
        long d = descriptor(sel, 0);
        Segment n = new Segment();
        n.loadDescriptor(sel, d);
        int t = n.type();
        if (!n.system() || (c.longModeActive() ? t != 9 : (t != 9 && t != 1))) throw CpuFault.gp(sel & ~3);
        if (!n.present()) throw CpuFault.np(sel & ~3);
        if (c.longModeActive()) n.base |= (c.readSys(c.gdtrBase + (sel & ~7) + 8, 4) & 0xFFFFFFFFL) << 32;
        writeDescriptor(sel, d | (2L << 40)); // mark busy
        n.attr |= 2;
        c.tr.copyFrom(n);
    }

    private void loadLdt(int sel) {
        if ((sel & ~3) == 0) {
            c.ldtr.set(sel, 0, 0, Segment.UNUSABLE);
            return;
        }
        if ((sel & 4) != 0) throw CpuFault.gp(sel & ~3);
        long d = descriptor(sel, 0);
        Segment n = new Segment();
        n.loadDescriptor(sel, d);
        if (!n.system() || n.type() != 2) throw CpuFault.gp(sel & ~3);
        if (!n.present()) throw CpuFault.np(sel & ~3);
        if (c.longModeActive()) n.base |= (c.readSys(c.gdtrBase + (sel & ~7) + 8, 4) & 0xFFFFFFFFL) << 32;
        c.ldtr.copyFrom(n);
    }

    /** Checks for a far JMP/CALL target code segment at the same privilege (no gates). */
    private Segment codeSegmentForFar(int sel) {
        if ((sel & ~3) == 0) throw CpuFault.gp0();
        long d = descriptor(sel, 0);
        Segment n = new Segment();
        n.loadDescriptor(sel, d);
        if (n.system()) throw CpuFault.gp(sel & ~3); // call gates, task gates and TSSs are not supported
        if (!n.isCode()) throw CpuFault.gp(sel & ~3);
        boolean conforming = (n.type() & 4) != 0;
        if (conforming ? n.dpl() > c.cpl : ((sel & 3) > c.cpl || n.dpl() != c.cpl)) throw CpuFault.gp(sel & ~3);
        if (!n.present()) throw CpuFault.np(sel & ~3);
        n.selector = (sel & ~3) | c.cpl;
        if ((d & (1L << 40)) == 0) writeDescriptor(sel, d | (1L << 40));
        return n;
    }

    private void farJump(int sel, long off, int osz) {
        if (!protectedMode() || (c.fl.bits & VM) != 0) {
            Segment cs = c.seg[Segment.CS];
            cs.selector = sel;
            cs.base = (long) sel << 4;
            c.nrip = off & (osz == 2 ? 0xFFFF : 0xFFFFFFFFL);
            c.modeChanged();
            return;
        }
        Segment n = codeSegmentForFar(sel);
        long target = checkTarget(n, off, osz);
        c.seg[Segment.CS].copyFrom(n);
        c.nrip = target;
        c.modeChanged();
    }

    private long checkTarget(Segment n, long off, int osz) {
        boolean to64 = c.longModeActive() && n.longMode();
        long t = osz == 8 ? off : osz == 4 ? off & 0xFFFFFFFFL : off & 0xFFFF;
        if (to64) {
            if (!Cpu.canonical(t)) throw CpuFault.gp0();
        } else if (t > n.limit) {
            throw CpuFault.gp0();
        }
        return t;
    }

    private void farCall(int sel, long off, int osz) {
        int oldCs = c.seg[Segment.CS].selector;
        long ret = c.nrip;
        if (!protectedMode() || (c.fl.bits & VM) != 0) {
            it.push(osz, oldCs);
            it.push(osz, ret);
            farJump(sel, off, osz);
            return;
        }
        Segment n = codeSegmentForFar(sel);
        long target = checkTarget(n, off, osz);
        long sp0 = c.r[Cpu.RSP];
        it.push(osz, oldCs);
        try {
            it.push(osz, ret);
        } catch (CpuFault f) {
            c.r[Cpu.RSP] = sp0;
            throw f;
        }
        c.seg[Segment.CS].copyFrom(n);
        c.nrip = target;
        c.modeChanged();
    }

    private void farReturn(int osz, long release) {
        long off = it.peek(osz, 0);
        int sel = (int) it.peek(osz, osz) & 0xFFFF;
        if (!protectedMode() || (c.fl.bits & VM) != 0) {
            it.setSp((c.r[Cpu.RSP] & it.spMask()) + 2L * osz + release);
            Segment cs = c.seg[Segment.CS];
            cs.selector = sel;
            cs.base = (long) sel << 4;
            c.nrip = off & (osz == 2 ? 0xFFFF : 0xFFFFFFFFL);
            c.modeChanged();
            return;
        }
        int rpl = sel & 3;
        if (rpl < c.cpl) throw CpuFault.gp(sel & ~3);
        Segment n = returnCodeSegment(sel);
        if (rpl == c.cpl) {
            long t = checkTarget(n, off, osz);
            it.setSp((c.r[Cpu.RSP] & it.spMask()) + 2L * osz + release);
            c.seg[Segment.CS].copyFrom(n);
            c.nrip = t;
            c.modeChanged();
            return;
        }
        // return to an outer privilege level: SS:RSP follow the parameters
        long newSp = it.peek(osz, 2L * osz + release);
        int ssSel = (int) it.peek(osz, 3L * osz + release) & 0xFFFF;
        long t = checkTarget(n, off, osz);
        returnToOuter(n, t, ssSel, newSp + release, osz);
    }

    private Segment returnCodeSegment(int sel) {
        if ((sel & ~3) == 0) throw CpuFault.gp0();
        long d = descriptor(sel, 0);
        Segment n = new Segment();
        n.loadDescriptor(sel, d);
        int rpl = sel & 3;
        if (n.system() || !n.isCode()) throw CpuFault.gp(sel & ~3);
        boolean conforming = (n.type() & 4) != 0;
        if (conforming ? n.dpl() > rpl : n.dpl() != rpl) throw CpuFault.gp(sel & ~3);
        if (!n.present()) throw CpuFault.np(sel & ~3);
        if ((d & (1L << 40)) == 0) writeDescriptor(sel, d | (1L << 40));
        return n;
    }

    /**
     * The SS a far return or IRET loads: a writable data segment at the new CPL, or, returning
     * to 64-bit mode at CPL < 3, a null selector with RPL = CPL (SDM Vol.2 IRET, RET).
     */
    private Segment returnStackSegment(int ssSel, int newCpl, boolean to64) {
        Segment nss = new Segment();
        if ((ssSel & ~3) == 0) {
            if (!(to64 && newCpl != 3 && (ssSel & 3) == newCpl)) throw CpuFault.gp0();
            nss.set(ssSel, 0, 0, Segment.UNUSABLE | (newCpl << 5));
            return nss;
        }
        long d = descriptor(ssSel, 0);
        nss.loadDescriptor(ssSel, d);
        if ((ssSel & 3) != newCpl || nss.dpl() != newCpl || nss.system() || nss.isCode() || (nss.type() & 2) == 0) throw CpuFault.gp(ssSel & ~3);
        if (!nss.present()) throw CpuFault.ss(ssSel & ~3);
        if ((d & (1L << 40)) == 0) writeDescriptor(ssSel, d | (1L << 40));
        return nss;
    }

    /** Loads CS, SS, RSP for a return to CPL = RPL(CS) and nulls data segments it may not use. */
    private void returnToOuter(Segment ncs, long rip, int ssSel, long rsp, int osz) {
        int newCpl = ncs.selector & 3;
        boolean to64 = c.longModeActive() && ncs.longMode();
        Segment nss = returnStackSegment(ssSel, newCpl, to64);
        c.seg[Segment.CS].copyFrom(ncs);
        c.seg[Segment.SS].copyFrom(nss);
        c.cpl = newCpl;
        c.r[Cpu.RSP] = to64 ? rsp : nss.big() ? rsp & 0xFFFFFFFFL : (c.r[Cpu.RSP] & ~0xFFFFL) | (rsp & 0xFFFF);
        c.nrip = rip;
        for (int s : new int[] {Segment.ES, Segment.DS, Segment.FS, Segment.GS}) {
            Segment sg = c.seg[s];
            boolean conformingCode = sg.isCode() && (sg.type() & 4) != 0;
            if (!sg.unusable() && !conformingCode && sg.dpl() < newCpl && !(s >= Segment.FS && c.m64)) {
                sg.set(0, 0, 0, Segment.UNUSABLE);
            }
        }
        c.modeChanged();
    }

    /** IRET/IRETD/IRETQ (SDM Vol.2 IRET). Unblocks NMIs at once, even if it then faults. */
    void iret(int osz) {
        if (c.bus.wants(org.hvlab.machine.events.MachineEvent.Kind.IRET)) c.bus.publish(new org.hvlab.machine.events.MachineEvent.Iret(c.index, c.rip));
        // guest IRET (docs/vmx-facts.md): NMI exiting = 0 unblocks NMIs; = 1 leaves them; with virtual NMIs it clears virtual-NMI blocking
        if (c.vmx.nonRoot && (c.vmx.current.get(PIN_BASED_CONTROLS) & VmxControls.PIN_NMI_EXITING) != 0) {
            if ((c.vmx.current.get(PIN_BASED_CONTROLS) & VmxControls.PIN_VIRTUAL_NMIS) != 0) {
                c.iretUnblockedNmi = c.vmx.virtualNmiBlocked;
                c.vmx.virtualNmiBlocked = false;
            }
        } else {
            c.iretUnblockedNmi = c.vmx.nonRoot && c.nmiBlocked;
            c.nmiBlocked = false;
        }
        c.kick();
        if (!protectedMode()) {
            long ip = it.peek(osz, 0);
            int sel = (int) it.peek(osz, osz) & 0xFFFF;
            long fl = it.peek(osz, 2L * osz);
            if (ip > c.seg[Segment.CS].limit) throw CpuFault.gp0();
            it.setSp((c.r[Cpu.RSP] & it.spMask()) + 3L * osz);
            Segment cs = c.seg[Segment.CS];
            cs.selector = sel;
            cs.base = (long) sel << 4;
            long m = WRITABLE & ~RF;
            if (osz == 2) m &= 0xFFFF;
            c.fl.setAll((c.fl.get() & ~m) | (fl & m));
            c.nrip = ip;
            c.modeChanged();
            return;
        }
        // NT = 1: #GP(0) in IA-32e mode (SDM Vol.2 IRET); a task return in legacy mode, which is not modelled
        if ((c.fl.bits & NT) != 0) throw CpuFault.gp0();
        long ip = it.peek(osz, 0);
        int sel = (int) it.peek(osz, osz) & 0xFFFF;
        long fl = it.peek(osz, 2L * osz);
        boolean popStack = c.m64 || (sel & 3) > c.cpl;
        long newSp = popStack ? it.peek(osz, 3L * osz) : 0;
        int ssSel = popStack ? (int) it.peek(osz, 4L * osz) & 0xFFFF : 0;
        if ((fl & VM) != 0 && c.cpl == 0 && !c.longModeActive()) throw CpuFault.gp0(); // virtual-8086 mode is not modelled
        int rpl = sel & 3;
        if (rpl < c.cpl) throw CpuFault.gp(sel & ~3);
        Segment n = returnCodeSegment(sel);
        long t = checkTarget(n, ip, osz);
        // RFLAGS: IOPL only at CPL 0, IF only if CPL <= IOPL (of the old CPL)
        long m = WRITABLE | VIF | VIP;
        if (c.cpl > 0) m &= ~(IOPL | VIF | VIP);
        if (c.cpl > iopl()) m &= ~IF;
        if (osz == 2) m &= 0xFFFF;
        long newFlags = (c.fl.get() & ~m) | (fl & m);
        if (popStack && (rpl != c.cpl || c.m64)) {
            if (rpl == c.cpl) {
                // 64-bit IRET to the same privilege still reloads SS:RSP
                returnToOuterSameCpl(n, t, ssSel, newSp, osz);
            } else {
                returnToOuter(n, t, ssSel, newSp, osz);
            }
        } else {
            it.setSp((c.r[Cpu.RSP] & it.spMask()) + 3L * osz);
            c.seg[Segment.CS].copyFrom(n);
            c.nrip = t;
        }
        c.fl.setAll(newFlags);
        c.modeChanged();
    }

    private void returnToOuterSameCpl(Segment ncs, long rip, int ssSel, long rsp, int osz) {
        boolean to64 = ncs.longMode();
        Segment nss = returnStackSegment(ssSel, c.cpl, to64);
        c.seg[Segment.CS].copyFrom(ncs);
        c.seg[Segment.SS].copyFrom(nss);
        c.r[Cpu.RSP] = to64 || osz == 8 ? rsp : rsp & 0xFFFFFFFFL;
        c.nrip = rip;
    }

    // ---- control registers (SDM Vol.3A 2.5, Vol.2 MOV CR)

    long readCr(int n) {
        return switch (n) {
            case 0 -> c.cr0;
            case 2 -> c.cr2;
            case 3 -> c.cr3;
            case 4 -> c.cr4;
            case 8 -> (c.apic.tpr() >>> 4) & 0xF;
            default -> throw CpuFault.ud();
        };
    }

    /**
     * CR4 bits of features CPUID reports; the others are reserved and setting them is #GP
     * (SDM Vol.3A 2.5). No VME/PVI, DE, MCE, FXSR/SSE, FSGSBASE, SMEP or SMAP here.
     */
    static final long CR4_SUPPORTED = Cpu.CR4_TSD | Cpu.CR4_PSE | Cpu.CR4_PAE | Cpu.CR4_PGE | Cpu.CR4_PCE | Cpu.CR4_VMXE;

    void writeCr(int n, long v) {
        switch (n) {
            case 0 -> {
                if (!c.m64) v &= 0xFFFFFFFFL;
                if ((v >>> 32) != 0) throw CpuFault.gp0();
                if ((v & Cpu.CR0_PG) != 0 && (v & Cpu.CR0_PE) == 0) throw CpuFault.gp0();
                if ((v & Cpu.CR0_NW) != 0 && (v & Cpu.CR0_CD) == 0) throw CpuFault.gp0();
                // in VMX operation CR0 must keep the IA32_VMX_CR0_FIXED bits (SDM Vol.3C 23.8); an
                // unrestricted guest may clear PE and PG (25.3, 24.6.2)
                boolean unrestricted = c.vmx.nonRoot && (c.vmx.proc2 & VmxControls.PROC2_UNRESTRICTED_GUEST) != 0;
                long checked = unrestricted ? v | Cpu.CR0_ET | Cpu.CR0_PE | Cpu.CR0_PG : v | Cpu.CR0_ET;
                if (c.vmx.inVmxOperation && !vmxOps.fixed(checked, org.hvlab.machine.vmx.CpuProfile.IA32_VMX_CR0_FIXED0,
                        org.hvlab.machine.vmx.CpuProfile.IA32_VMX_CR0_FIXED1)) throw CpuFault.gp0();
                boolean pgOn = (v & Cpu.CR0_PG) != 0 && (c.cr0 & Cpu.CR0_PG) == 0;
                boolean pgOff = (v & Cpu.CR0_PG) == 0 && (c.cr0 & Cpu.CR0_PG) != 0;
                if (pgOn && (c.efer & Cpu.EFER_LME) != 0) {
                    // entering IA-32e mode (SDM Vol.3A 9.8.5)
                    if ((c.cr4 & Cpu.CR4_PAE) == 0 || c.seg[Segment.CS].longMode()) throw CpuFault.gp0();
                    c.efer |= Cpu.EFER_LMA;
                }
                if (pgOff && c.longModeActive()) {
                    if (c.m64) throw CpuFault.gp0();
                    c.efer &= ~Cpu.EFER_LMA;
                }
                if ((v & Cpu.CR0_PE) == 0) c.cpl = 0;
                c.cr0 = v | Cpu.CR0_ET;
                c.flushTlb();
                c.modeChanged();
            }
            case 2 -> c.cr2 = v;
            case 3 -> {
                if (c.longModeActive() && (v & ~((1L << Cpuid.MAXPHYADDR) - 1)) != 0) throw CpuFault.gp0();
                c.cr3 = c.longModeActive() ? v : v & 0xFFFFFFFFL;
                c.flushTlb();
            }
            case 4 -> {
                if ((v & ~CR4_SUPPORTED) != 0) throw CpuFault.gp0();
                if (c.longModeActive() && (v & Cpu.CR4_PAE) == 0) throw CpuFault.gp0();
                if (c.vmx.inVmxOperation && !vmxOps.fixed(v, org.hvlab.machine.vmx.CpuProfile.IA32_VMX_CR4_FIXED0,
                        org.hvlab.machine.vmx.CpuProfile.IA32_VMX_CR4_FIXED1)) throw CpuFault.gp0();
                c.cr4 = v;
                c.flushTlb();
                c.modeChanged();
            }
            case 8 -> {
                if ((v & ~0xFL) != 0) throw CpuFault.gp0();
                c.apic.setTpr((int) v << 4);
                c.kick();
            }
            default -> throw CpuFault.ud();
        }
    }

    // ---- fast system calls (SDM Vol.2 SYSCALL/SYSRET)

    private void syscall() {
        if ((c.efer & Cpu.EFER_SCE) == 0 || !c.longModeActive()) throw CpuFault.ud();
        long star = c.msrs.star;
        int sel = (int) (star >>> 32) & 0xFFFC;
        c.r[Cpu.RCX] = c.nrip;
        c.r[11] = c.fl.get() & ~RF;
        c.seg[Segment.CS].set(sel, 0, 0xFFFFFFFFL, 0xA09B);
        c.seg[Segment.SS].set(sel + 8, 0, 0xFFFFFFFFL, 0xC093);
        c.cpl = 0;
        c.fl.setAll(c.fl.get() & ~c.msrs.fmask & ~RF);
        c.nrip = c.msrs.lstar;
        c.modeChanged();
    }

    private void sysret(Insn in) {
        if ((c.efer & Cpu.EFER_SCE) == 0) throw CpuFault.ud();
        requireCpl0();
        boolean to64 = (in.prefixes & Insn.P_REXW) != 0;
        if (to64 && !Cpu.canonical(c.r[Cpu.RCX])) throw CpuFault.gp0(); // Intel faults at CPL 0 here
        int base = (int) (c.msrs.star >>> 48) & 0xFFFF;
        if (to64) c.seg[Segment.CS].set((base + 16) | 3, 0, 0xFFFFFFFFL, 0xA0FB);
        else c.seg[Segment.CS].set(base | 3, 0, 0xFFFFFFFFL, 0xC0FB);
        c.seg[Segment.SS].set((base + 8) | 3, 0, 0xFFFFFFFFL, 0xC0F3);
        c.cpl = 3;
        c.fl.setAll((c.r[11] & 0x3C7FD7L) | 2);
        c.nrip = to64 ? c.r[Cpu.RCX] : c.r[Cpu.RCX] & 0xFFFFFFFFL;
        c.modeChanged();
    }
}
