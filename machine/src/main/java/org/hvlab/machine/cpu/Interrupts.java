package org.hvlab.machine.cpu;

import org.hvlab.machine.events.MachineEvent;

import static org.hvlab.machine.cpu.LazyFlags.*;

/**
 * Event delivery through the IVT (real mode), 32-bit IDT gates and 64-bit IDT gates with IST
 * (SDM Vol.3A chapter 6), including the double-fault rules of Table 6-5 and shutdown on a
 * fault while delivering #DF.
 */
final class Interrupts {
    /** Event types, numbered as the VMCS interruption-type field (SDM Vol.3C 24.8.3). */
    static final int EXTERNAL = 0, NMI = 2, HW_EXCEPTION = 3, SW_INTERRUPT = 4, PRIV_SW_EXCEPTION = 5,
            SW_EXCEPTION = 6;

    private final Cpu c;

    /** An event injected by VM entry is being delivered (NMI deliveries say so). */
    private boolean injecting;

    Interrupts(Cpu c) {
        this.c = c;
    }

    private static boolean contributory(int v) {
        return v == CpuFault.DE || (v >= CpuFault.TS && v <= CpuFault.GP);
    }

    /** A fault raised by the instruction at {@code rip}. */
    void deliverException(CpuFault f, long rip) {
        if (!f.isVmExit() && c.bus.wants(MachineEvent.Kind.EXCEPTION)) c.bus.publish(new MachineEvent.ExceptionRaised(c.index, f.vector, f.hasError, f.error, rip));
        if (c.vmx.nonRoot && VmExits.faultExits(c, f)) {
            VmExits.faultExit(c, f);
            return;
        }
        deliver(f.vector, HW_EXCEPTION, f.hasError, f.error, rip, rip, f.address);
    }

    /**
     * Event injection on VM entry (SDM Vol.3C 26.5): delivered through the guest's IDT as if it
     * occurred at the guest RIP; software types return after the instruction length.
     */
    void deliverInjected(int vector, int type, boolean hasErr, int err, long guestRip, long length) {
        if (c.bus.wants(MachineEvent.Kind.EVENT_INJECTED)) c.bus.publish(new MachineEvent.EventInjected(c.index, vector, type, guestRip));
        boolean software = type == SW_INTERRUPT || type == SW_EXCEPTION || type == PRIV_SW_EXCEPTION;
        long ret = software ? guestRip + length : guestRip;
        injecting = true;
        try {
            deliver(vector, type, hasErr, err, ret, guestRip, c.cr2);
        } finally {
            injecting = false;
        }
    }

    /** A #DB trap (single step): the saved RIP is the next instruction. */
    void deliverDebugTrap() {
        if (c.bus.wants(MachineEvent.Kind.EXCEPTION)) c.bus.publish(new MachineEvent.ExceptionRaised(c.index, CpuFault.DB, false, 0, c.rip));
        deliver(CpuFault.DB, HW_EXCEPTION, false, 0, c.rip, c.rip, 0);
    }

    void deliverNmi() {
        c.nmiBlocked = true; // blocks further NMIs until the next IRET (SDM Vol.3A 6.7.1)
        deliver(CpuFault.NMI, NMI, false, 0, c.rip, c.rip, 0);
    }

    void deliverExternal(int vector) {
        if (c.bus.wants(MachineEvent.Kind.INTERRUPT)) c.bus.publish(new MachineEvent.InterruptDelivered(c.index, vector));
        deliver(vector, EXTERNAL, false, 0, c.rip, c.rip, 0);
    }

    /** INT n, INT3, INTO, INT1: traps whose return address is the next instruction. */
    void deliverSoftware(int vector, int type, long instrRip, long nextRip) {
        deliver(vector, type, false, 0, nextRip, instrRip, 0);
    }

    /**
     * Delivers one event; a fault during delivery is combined with it by the double-fault rules.
     * {@code faultRip} is the address a fault during delivery reports.
     */
    private void deliver(int vector, int type, boolean hasErr, int err, long retRip, long faultRip, long cr2) {
        try {
            if (vector == CpuFault.PF && type == HW_EXCEPTION) c.cr2 = cr2;
            long rspBefore = c.r[Cpu.RSP];
            boolean toGuest = c.vmx.nonRoot;
            deliverOnce(vector, type, hasErr, err, retRip);
            // published once the delivery completed (not when it faulted into an exit)
            if (type == NMI && c.bus.wants(MachineEvent.Kind.NMI_DELIVERED)) {
                c.bus.publish(new MachineEvent.NmiDelivered(c.index, retRip, rspBefore, c.r[Cpu.RSP], injecting, toGuest, c.instructions));
            }
        } catch (CpuFault second) {
            if (c.vmx.nonRoot && VmExits.faultExits(c, second)) {
                // a fault during delivery that the hypervisor intercepts: the exit reports the event
                // being delivered as IDT-vectoring information (SDM Vol.3C 27.2.3)
                c.rip = faultRip;
                VmExits.exitDuringDelivery(c, second, vector, type, hasErr, err, retRip - faultRip);
                return;
            }
            boolean first = type == HW_EXCEPTION;
            if (first && vector == CpuFault.DF) {
                shutdown("triple fault: " + second.getMessage() + " while delivering #DF");
                return;
            }
            boolean df = first && ((contributory(vector) && contributory(second.vector))
                    || (vector == CpuFault.PF && (contributory(second.vector) || second.vector == CpuFault.PF)));
            if (df) {
                deliver(CpuFault.DF, HW_EXCEPTION, true, 0, faultRip, faultRip, 0);
            } else {
                deliver(second.vector, HW_EXCEPTION, second.hasError, second.error, faultRip, faultRip, second.address);
            }
        }
    }

    void shutdown(String why) {
        if (c.vmx.nonRoot) { // a triple fault in VMX non-root operation is VM exit 2 (SDM Vol.3C 25.2, Vol.3D Table C-1)
            VmExits.exit(c, org.hvlab.machine.vmx.ExitReason.TRIPLE_FAULT.code, 0, 0);
            return;
        }
        c.activity = Cpu.SHUTDOWN;
        c.endQuantum();
        c.platform.shutdown(c, why);
    }

    private void deliverOnce(int vector, int type, boolean hasErr, int err, long retRip) {
        // EXT is clear only for INT n, INT3 and INTO (SDM Vol.3A 6.13); INT1 counts as external
        boolean software = type == SW_INTERRUPT || type == SW_EXCEPTION;
        int ext = software ? 0 : 1;
        c.activity = Cpu.ACTIVE;
        if ((c.cr0 & Cpu.CR0_PE) == 0) {
            deliverReal(vector, retRip);
        } else if (c.longModeActive()) {
            deliver64(vector, type, hasErr, err, retRip, ext);
        } else {
            deliver32(vector, type, hasErr, err, retRip, ext);
        }
    }

    /** Real-address mode: the IVT (SDM Vol.3B 20.1.4). */
    private void deliverReal(int vector, long retRip) {
        if ((long) vector * 4 + 3 > c.idtrLimit) throw CpuFault.gp0();
        long ent = c.readSys(c.idtrBase + vector * 4L, 4);
        Interpreter it = c.interp;
        long flags = c.fl.get();
        it.push(2, flags);
        it.push(2, c.seg[Segment.CS].selector);
        it.push(2, retRip);
        c.fl.bits &= ~(IF | TF | AC | RF);
        Segment cs = c.seg[Segment.CS];
        cs.selector = (int) (ent >>> 16) & 0xFFFF;
        cs.base = (long) cs.selector << 4;
        c.rip = ent & 0xFFFF;
        c.modeChanged();
    }

    private CpuFault idtFault(int vector, int ext) {
        return CpuFault.gp(vector * 8 + 2 + ext);
    }

    /** IA-32e mode: 16-byte gates, IST, 16-byte aligned frames of 8-byte slots (SDM Vol.3A 6.14). */
    private void deliver64(int vector, int type, boolean hasErr, int err, long retRip, int ext) {
        if ((long) vector * 16 + 15 > c.idtrLimit) throw idtFault(vector, ext);
        long gateAddr = c.idtrBase + vector * 16L;
        long lo = c.readSys(gateAddr, 8), hi = c.readSys(gateAddr + 8, 8);
        int gtype = (int) (lo >>> 40) & 0xF;
        int gdpl = (int) (lo >>> 45) & 3;
        if ((lo & (1L << 44)) != 0 || (gtype != 0xE && gtype != 0xF)) throw idtFault(vector, ext); // must be a system descriptor
        if (ext == 0 && type != PRIV_SW_EXCEPTION && gdpl < c.cpl) throw idtFault(vector, 0);
        if ((lo & (1L << 47)) == 0) throw CpuFault.np(vector * 8 + 2 + ext);
        int sel = (int) (lo >>> 16) & 0xFFFF;
        long target = (lo & 0xFFFF) | ((lo >>> 32) & 0xFFFF0000L) | (hi << 32);
        int ist = (int) (lo >>> 32) & 7;
        if ((sel & ~3) == 0) throw CpuFault.gp(ext);
        long d = c.interp.sys.descriptor(sel, ext);
        Segment ncs = new Segment();
        ncs.loadDescriptor(sel, d);
        if (!ncs.isCode() || !ncs.longMode() || ncs.big() || ncs.dpl() > c.cpl) throw CpuFault.gp((sel & ~3) + ext);
        if (!ncs.present()) throw CpuFault.np((sel & ~3) + ext);
        markAccessed(sel, d); // may fault: before anything is committed
        boolean conforming = (ncs.type() & 4) != 0;
        int newCpl = conforming ? c.cpl : ncs.dpl();
        long rsp = c.r[Cpu.RSP];
        boolean privChange = newCpl < c.cpl;
        if (ist != 0) {
            rsp = readTss(0x24 + 8L * (ist - 1), 8, ext);
        } else if (privChange) {
            rsp = readTss(4 + 8L * newCpl, 8, ext);
        }
        rsp &= ~0xFL;
        if (!Cpu.canonical(rsp) || !Cpu.canonical(rsp - 48)) throw CpuFault.ss(ext);
        // SDM Vol.2 INT n, 64-Bit Mode Exceptions: #GP(0) if the gate's instruction pointer is non-canonical
        if (!Cpu.canonical(target)) throw CpuFault.gp0();
        long flags = c.fl.get();
        int oldCs = c.seg[Segment.CS].selector, oldSs = c.seg[Segment.SS].selector;
        long oldRsp = c.r[Cpu.RSP];
        int savedCpl = c.cpl;
        long[] frame = hasErr ? new long[] {oldSs, oldRsp, flags, oldCs, retRip, err & 0xFFFFFFFFL}
                : new long[] {oldSs, oldRsp, flags, oldCs, retRip};
        // the frame is written with the privilege of the handler (SDM Vol.3A 6.12.1)
        c.cpl = newCpl;
        c.modeChanged();
        try {
            for (int i = 0; i < frame.length; i++) c.writeLin(rsp - 8L * (i + 1), 8, frame[i]);
        } catch (CpuFault f) {
            c.cpl = savedCpl;
            c.modeChanged();
            throw f;
        }
        c.r[Cpu.RSP] = rsp - 8L * frame.length;
        ncs.selector = (sel & ~3) | newCpl;
        c.seg[Segment.CS].copyFrom(ncs);
        if (privChange) c.seg[Segment.SS].set(newCpl, 0, 0, Segment.UNUSABLE | (newCpl << 5));
        c.fl.materialize();
        c.fl.bits &= ~(TF | NT | RF | VM);
        if (gtype == 0xE) c.fl.bits &= ~IF;
        c.rip = target;
        c.modeChanged();
    }

    /** Protected mode: 8-byte gates, 32- or 16-bit, stack switch through the 32-bit TSS. */
    private void deliver32(int vector, int type, boolean hasErr, int err, long retRip, int ext) {
        if ((long) vector * 8 + 7 > c.idtrLimit) throw idtFault(vector, ext);
        long g = c.readSys(c.idtrBase + vector * 8L, 8);
        int gtype = (int) (g >>> 40) & 0xF;
        int gdpl = (int) (g >>> 45) & 3;
        if ((g & (1L << 44)) != 0 || (gtype != 0x6 && gtype != 0x7 && gtype != 0xE && gtype != 0xF)) throw idtFault(vector, ext); // task gates unsupported
        if (ext == 0 && type != PRIV_SW_EXCEPTION && gdpl < c.cpl) throw idtFault(vector, 0);
        if ((g & (1L << 47)) == 0) throw CpuFault.np(vector * 8 + 2 + ext);
        int sel = (int) (g >>> 16) & 0xFFFF;
        long target = (g & 0xFFFF) | ((g >>> 32) & 0xFFFF0000L);
        boolean gate32 = (gtype & 8) != 0;
        int w = gate32 ? 4 : 2;
        if (!gate32) target &= 0xFFFF;
        if ((sel & ~3) == 0) throw CpuFault.gp(ext);
        long d = c.interp.sys.descriptor(sel, ext);
        Segment ncs = new Segment();
        ncs.loadDescriptor(sel, d);
        if (!ncs.isCode() || ncs.dpl() > c.cpl) throw CpuFault.gp((sel & ~3) + ext);
        if (!ncs.present()) throw CpuFault.np((sel & ~3) + ext);
        if (target > ncs.limit) throw CpuFault.gp(ext);
        markAccessed(sel, d); // may fault: before anything is committed
        boolean conforming = (ncs.type() & 4) != 0;
        int newCpl = conforming ? c.cpl : ncs.dpl();
        boolean privChange = newCpl < c.cpl;
        long flags = c.fl.get();
        int oldCs = c.seg[Segment.CS].selector, oldSs = c.seg[Segment.SS].selector;
        long oldEsp = c.r[Cpu.RSP];
        Segment nss = c.seg[Segment.SS];
        long esp;
        if (privChange) {
            esp = readTss(4 + 8L * newCpl, 4, ext);
            int ssSel = (int) readTss(8 + 8L * newCpl, 2, ext);
            if ((ssSel & ~3) == 0) throw CpuFault.ts(ext);
            long sd = c.interp.sys.descriptor(ssSel, ext);
            nss = new Segment();
            nss.loadDescriptor(ssSel, sd);
            if ((ssSel & 3) != newCpl || nss.dpl() != newCpl || nss.isCode() || (nss.type() & 2) == 0) throw CpuFault.ts((ssSel & ~3) + ext);
            if (!nss.present()) throw CpuFault.ss((ssSel & ~3) + ext);
            markAccessed(ssSel, sd);
        } else {
            esp = oldEsp;
        }
        long spMask = nss.big() ? 0xFFFFFFFFL : 0xFFFF;
        long[] frame = privChange
                ? (hasErr ? new long[] {oldSs, oldEsp, flags, oldCs, retRip, err} : new long[] {oldSs, oldEsp, flags, oldCs, retRip})
                : (hasErr ? new long[] {flags, oldCs, retRip, err} : new long[] {flags, oldCs, retRip});
        int savedCpl = c.cpl;
        c.cpl = newCpl;
        c.modeChanged();
        long sp = esp;
        try {
            for (long v : frame) {
                sp = (sp - w) & spMask;
                if (sp + w - 1 > nss.limit) throw CpuFault.ss(ext);
                c.writeLin((nss.base + sp) & 0xFFFFFFFFL, w, v);
            }
        } catch (CpuFault f) {
            c.cpl = savedCpl;
            c.modeChanged();
            throw f;
        }
        if (privChange) c.seg[Segment.SS].copyFrom(nss);
        if (spMask == 0xFFFF) c.r[Cpu.RSP] = (c.r[Cpu.RSP] & ~0xFFFFL) | sp;
        else c.r[Cpu.RSP] = sp;
        ncs.selector = (sel & ~3) | newCpl;
        c.seg[Segment.CS].copyFrom(ncs);
        c.fl.materialize();
        c.fl.bits &= ~(TF | NT | RF | VM);
        if ((gtype & 1) == 0) c.fl.bits &= ~IF;
        c.rip = target;
        c.modeChanged();
    }

    private long readTss(long offset, int size, int ext) {
        if (offset + size - 1 > c.tr.limit) throw CpuFault.ts((c.tr.selector & ~3) + ext);
        return c.readSys(c.tr.base + offset, size);
    }

    private void markAccessed(int sel, long d) {
        if ((d & (1L << 40)) == 0) c.interp.sys.writeDescriptor(sel, d | (1L << 40));
    }
}
