package org.hvlab.machine.cpu;

import static org.hvlab.machine.cpu.Insn.P_REP;
import static org.hvlab.machine.cpu.Insn.P_REPNE;

/**
 * MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS with REP/REPE/REPNE (SDM Vol.2 REP). A repeated
 * instruction runs a bounded number of iterations per step and then re-executes itself, so
 * interrupts and NMIs are taken between iterations as on hardware; a fault leaves the registers
 * as of the completed iterations with RIP at the instruction.
 */
final class StringOps {
    private static final int ITERATIONS_PER_STEP = 1024;

    private StringOps() {}

    static void exec(Cpu c, Interpreter it, Insn in) {
        int size = in.osz, as = in.asz;
        boolean rep = (in.prefixes & (P_REP | P_REPNE)) != 0;
        long delta = (c.fl.bits & LazyFlags.DF) != 0 ? -size : size;
        if (in.op == Op.INS || in.op == Op.OUTS) c.interp.sys.checkIo((int) c.r[Cpu.RDX] & 0xFFFF, size);
        int n = rep ? ITERATIONS_PER_STEP : 1;
        for (int i = 0; i < n; i++) {
            if (rep && c.reg(Cpu.RCX, as) == 0) return;
            long si = c.reg(Cpu.RSI, as), di = c.reg(Cpu.RDI, as);
            boolean cmp = false;
            switch (in.op) {
                case Op.MOVS -> {
                    long v = c.read(in.seg, si, size);
                    c.write(Segment.ES, di, size, v);
                    c.setReg(Cpu.RSI, as, si + delta);
                    c.setReg(Cpu.RDI, as, di + delta);
                }
                case Op.STOS -> {
                    c.write(Segment.ES, di, size, c.r[Cpu.RAX]);
                    c.setReg(Cpu.RDI, as, di + delta);
                }
                case Op.LODS -> {
                    long v = c.read(in.seg, si, size);
                    c.setReg(Cpu.RAX, size, v);
                    c.setReg(Cpu.RSI, as, si + delta);
                }
                case Op.CMPS -> {
                    long a = c.read(in.seg, si, size);
                    long b = c.read(Segment.ES, di, size);
                    it.alu(7, size, a, b);
                    c.setReg(Cpu.RSI, as, si + delta);
                    c.setReg(Cpu.RDI, as, di + delta);
                    cmp = true;
                }
                case Op.SCAS -> {
                    long b = c.read(Segment.ES, di, size);
                    it.alu(7, size, c.reg(Cpu.RAX, size), b);
                    c.setReg(Cpu.RDI, as, di + delta);
                    cmp = true;
                }
                case Op.INS -> {
                    c.linear(Segment.ES, di, size, true);
                    long v = c.platform.ioIn(c, (int) c.r[Cpu.RDX] & 0xFFFF, size) & 0xFFFFFFFFL;
                    c.write(Segment.ES, di, size, v);
                    c.setReg(Cpu.RDI, as, di + delta);
                }
                default -> { // OUTS
                    long v = c.read(in.seg, si, size);
                    c.platform.ioOut(c, (int) c.r[Cpu.RDX] & 0xFFFF, size, (int) v);
                    c.setReg(Cpu.RSI, as, si + delta);
                }
            }
            if (!rep) return;
            long cnt = (c.reg(Cpu.RCX, as) - 1) & LazyFlags.mask(as);
            c.setReg(Cpu.RCX, as, cnt);
            if (cnt == 0) return;
            if (cmp) {
                boolean zf = c.fl.zf();
                if ((in.prefixes & P_REP) != 0 ? !zf : zf) return; // REPE stops on ZF=0, REPNE on ZF=1
            }
            if (c.stopRequested || (c.events && c.eventDeliverable())) break;
        }
        c.nrip = c.rip; // not finished: run this instruction again
    }
}
