package org.hvlab.machine.cpu;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.hvlab.machine.cpu.LazyFlags.*;

/**
 * Semantics of user-level instructions (SDM Vol.2). Every instruction reads its operands and
 * performs every access that can fault before it commits register state, so a fault leaves
 * the instruction without effect (string instructions commit per iteration, as the SDM allows).
 * System instructions are in {@link SystemOps}.
 */
final class Interpreter {
    private final Cpu c;
    private final LazyFlags f;
    private final long[] r;
    final SystemOps sys;

    Interpreter(Cpu c) {
        this.c = c;
        this.f = c.fl;
        this.r = c.r;
        this.sys = new SystemOps(c, this);
    }

    // ---- operand helpers

    long ea(Insn in) {
        long a = in.disp;
        if (in.base >= 0) a += r[in.base];
        if (in.index >= 0) a += r[in.index] << in.scale;
        if (in.ripRel) a += c.nrip;
        return in.asz == 8 ? a : in.asz == 4 ? a & 0xFFFFFFFFL : a & 0xFFFF;
    }

    long readE(Insn in, int size) {
        return in.mem ? c.read(in.seg, ea(in), size) : c.reg(in.rm, size);
    }

    void writeE(Insn in, int size, long v) {
        if (in.mem) c.write(in.seg, ea(in), size, v);
        else c.setReg(in.rm, size, v);
    }

    static long mask(int size) { return LazyFlags.mask(size); }

    static long sext(long v, int size) { return LazyFlags.signExtend(v, size); }

    // ---- stack

    int stackAddrSize() {
        return c.m64 ? 8 : c.seg[Segment.SS].big() ? 4 : 2;
    }

    long spMask() {
        int s = stackAddrSize();
        return s == 8 ? -1L : s == 4 ? 0xFFFFFFFFL : 0xFFFF;
    }

    void setSp(long sp) {
        int s = stackAddrSize();
        if (s == 8) r[Cpu.RSP] = sp;
        else if (s == 4) r[Cpu.RSP] = sp & 0xFFFFFFFFL;
        else r[Cpu.RSP] = (r[Cpu.RSP] & ~0xFFFFL) | (sp & 0xFFFF);
    }

    void push(int size, long v) {
        long sp = (r[Cpu.RSP] - size) & spMask();
        c.write(Segment.SS, sp, size, v);
        setSp(sp);
    }

    long pop(int size) {
        long sp = r[Cpu.RSP] & spMask();
        long v = c.read(Segment.SS, sp, size);
        setSp(sp + size);
        return v;
    }

    /** Reads the stack at RSP + offset without moving RSP. */
    long peek(int size, long offset) {
        return c.read(Segment.SS, (r[Cpu.RSP] + offset) & spMask(), size);
    }

    // ---- branches

    void jumpTo(long target, int osz) {
        long t = osz == 8 ? target : osz == 4 ? target & 0xFFFFFFFFL : target & 0xFFFF;
        if (c.m64) {
            if (!Cpu.canonical(t)) throw CpuFault.gp0();
        } else if (t > c.seg[Segment.CS].limit) {
            throw CpuFault.gp0();
        }
        c.nrip = t;
    }

    // ---- the dispatcher

    void exec(Insn in) {
        switch (in.op) {
            case Op.ALU_EG -> aluEG(in);
            case Op.ALU_GE -> {
                long b = readE(in, in.osz);
                long a = c.reg(in.reg, in.osz);
                long res = alu(in.sub, in.osz, a, b);
                if (in.sub != 7) c.setReg(in.reg, in.osz, res);
            }
            case Op.ALU_EI -> aluEI(in);
            case Op.TEST_EG -> { long a = readE(in, in.osz); f.set(LazyFlags.LOGIC, in.osz, 0, 0, a & c.reg(in.reg, in.osz)); }
            case Op.TEST_EI -> { long a = readE(in, in.osz); f.set(LazyFlags.LOGIC, in.osz, 0, 0, a & in.imm); }
            case Op.INC, Op.DEC -> incDec(in);
            case Op.NOT -> rmw(in, 0, 0);
            case Op.NEG -> rmw(in, 1, 0);
            case Op.MUL -> mul(in);
            case Op.IMUL1 -> imul1(in);
            case Op.DIV -> div(in);
            case Op.IDIV -> idiv(in);
            case Op.IMUL_GE -> c.setReg(in.reg, in.osz, imul(in.osz, c.reg(in.reg, in.osz), readE(in, in.osz)));
            case Op.IMUL_GEI -> c.setReg(in.reg, in.osz, imul(in.osz, readE(in, in.osz), in.imm));
            case Op.MOV_EG -> writeE(in, in.osz, c.reg(in.reg, in.osz));
            case Op.MOV_GE -> c.setReg(in.reg, in.osz, readE(in, in.osz));
            case Op.MOV_EI -> writeE(in, in.osz, in.imm);
            case Op.MOVZX -> c.setReg(in.reg, in.osz, readE(in, in.sub));
            case Op.MOVSX -> c.setReg(in.reg, in.osz, sext(readE(in, in.sub), in.sub));
            case Op.LEA -> c.setReg(in.reg, in.osz, ea(in));
            case Op.XCHG -> xchg(in);
            case Op.CMPXCHG -> cmpxchg(in);
            case Op.XADD -> xadd(in);
            case Op.CMPXCHG8B -> cmpxchg8b(in);
            case Op.SHIFT_EI -> shift(in, (int) in.imm);
            case Op.SHIFT_ECL -> shift(in, (int) r[Cpu.RCX] & 0xFF);
            case Op.SHLD, Op.SHRD -> shiftDouble(in);
            case Op.BT_EG, Op.BT_EI -> bt(in);
            case Op.BSF, Op.BSR, Op.TZCNT, Op.LZCNT, Op.POPCNT -> bitScan(in);
            case Op.SETCC -> writeE(in, 1, f.cond(in.sub) ? 1 : 0);
            case Op.CMOVCC -> {
                long v = readE(in, in.osz); // the source is read (and may fault) either way
                if (f.cond(in.sub)) c.setReg(in.reg, in.osz, v);
                else if (in.osz == 4) c.setReg(in.reg, 4, c.reg(in.reg, 4)); // 32-bit form zero-extends always
            }
            case Op.JCC -> {
                // JZ/JNZ close most loops: test ZF directly rather than through cond()
                boolean taken = (in.sub & ~1) == 4 ? f.zf() ^ (in.sub == 5) : f.cond(in.sub);
                if (taken) jumpTo(c.nrip + in.imm, in.osz);
            }
            case Op.JMP_REL -> jumpTo(c.nrip + in.imm, in.osz);
            case Op.JMP_E -> jumpTo(readE(in, in.osz), in.osz);
            case Op.CALL_REL -> {
                long t = c.nrip + in.imm;
                long ret = c.nrip;
                jumpTo(t, in.osz);
                push(in.osz, ret);
            }
            case Op.CALL_E -> {
                long t = readE(in, in.osz);
                long ret = c.nrip;
                jumpTo(t, in.osz);
                push(in.osz, ret);
            }
            case Op.RET -> {
                long t = peek(in.osz, 0);
                jumpTo(t, in.osz);
                setSp((r[Cpu.RSP] & spMask()) + in.osz + in.imm);
            }
            case Op.LOOP -> loop(in);
            case Op.PUSH_R -> push(in.osz, r[in.reg]);
            case Op.POP_R -> { long v = pop(in.osz); c.setReg(in.reg, in.osz, v); }
            case Op.PUSH_I -> push(in.osz, in.imm);
            case Op.PUSH_E -> push(in.osz, readE(in, in.osz));
            case Op.POP_E -> popE(in);
            case Op.PUSHF -> pushf(in);
            case Op.POPF -> sys.popf(in.osz);
            case Op.PUSHA -> pusha(in);
            case Op.POPA -> popa(in);
            case Op.ENTER -> enter(in);
            case Op.LEAVE -> {
                long sp = r[Cpu.RBP] & spMask();
                long v = c.read(Segment.SS, sp, in.osz);
                setSp(sp + in.osz);
                c.setReg(Cpu.RBP, in.osz, v);
            }
            case Op.MOVS, Op.STOS, Op.LODS, Op.CMPS, Op.SCAS, Op.INS, Op.OUTS -> StringOps.exec(c, this, in);
            case Op.CBW -> {
                int h = in.osz / 2;
                c.setReg(Cpu.RAX, in.osz, sext(c.reg(Cpu.RAX, h), h));
            }
            case Op.CWD -> {
                long a = c.reg(Cpu.RAX, in.osz);
                c.setReg(Cpu.RDX, in.osz, (a & LazyFlags.sign(in.osz)) != 0 ? -1L : 0);
            }
            case Op.CLC -> f.setFlag(CF, false);
            case Op.STC -> f.setFlag(CF, true);
            case Op.CMC -> f.setFlag(CF, !f.cf());
            case Op.CLD -> f.bits &= ~DF;
            case Op.STD -> f.bits |= DF;
            case Op.CLI -> sys.cli();
            case Op.STI -> sys.sti();
            case Op.SAHF -> {
                f.materialize();
                long ah = (r[Cpu.RAX] >>> 8) & (SF | ZF | AF | PF | CF);
                f.bits = (f.bits & ~(SF | ZF | AF | PF | CF)) | ah;
            }
            case Op.LAHF -> c.setReg(16 + Cpu.RAX, 1, (f.get() & (SF | ZF | AF | PF | CF)) | 2);
            case Op.NOP, Op.FENCE -> { }
            case Op.PAUSE -> {
                if (c.vmx.nonRoot && (c.vmx.current.get(PROC_BASED_CONTROLS) & org.hvlab.machine.vmx.VmxControls.PROC_PAUSE_EXITING) != 0) { VmExits.exit(c, org.hvlab.machine.vmx.ExitReason.PAUSE.code, 0, in.len); return; }
                c.pauseHint();
            }
            case Op.CLFLUSH -> c.read(in.seg, ea(in), 1);
            case Op.XLAT -> {
                long a = (r[Cpu.RBX] + (r[Cpu.RAX] & 0xFF)) & mask(in.asz);
                c.setReg(Cpu.RAX, 1, c.read(in.seg, a, 1));
            }
            case Op.BSWAP -> {
                if (in.osz == 8) r[in.reg] = Long.reverseBytes(r[in.reg]);
                else if (in.osz == 4) c.setReg(in.reg, 4, Integer.reverseBytes((int) r[in.reg]) & 0xFFFFFFFFL);
                else c.setReg(in.reg, 2, 0); // 16-bit BSWAP is undefined; hardware gives 0
            }
            case Op.UD -> throw CpuFault.ud();
            default -> sys.exec(in);
        }
    }

    // ---- ALU

    long alu(int kind, int size, long a, long b) {
        long res;
        switch (kind) {
            case 0 -> { res = a + b; f.set(LazyFlags.ADD, size, a, b, res); }
            case 1 -> { res = a | b; f.set(LazyFlags.LOGIC, size, 0, 0, res); }
            case 2 -> { boolean cin = f.cf(); res = a + b + (cin ? 1 : 0); f.setCarry(LazyFlags.ADC, size, a, b, res, cin); }
            case 3 -> { boolean cin = f.cf(); res = a - b - (cin ? 1 : 0); f.setCarry(LazyFlags.SBB, size, a, b, res, cin); }
            case 4 -> { res = a & b; f.set(LazyFlags.LOGIC, size, 0, 0, res); }
            case 5, 7 -> { res = a - b; f.set(LazyFlags.SUB, size, a, b, res); }
            default -> { res = a ^ b; f.set(LazyFlags.LOGIC, size, 0, 0, res); }
        }
        return res & mask(size);
    }

    private void aluEG(Insn in) {
        long b = c.reg(in.reg, in.osz);
        if (!in.mem) {
            long res = alu(in.sub, in.osz, c.reg(in.rm, in.osz), b);
            if (in.sub != 7) c.setReg(in.rm, in.osz, res);
            return;
        }
        long la = c.linear(in.seg, ea(in), in.osz, in.sub != 7);
        long res = alu(in.sub, in.osz, c.readLin(la, in.osz), b);
        if (in.sub != 7) c.writeLin(la, in.osz, res);
    }

    private void aluEI(Insn in) {
        long b = in.imm;
        if (!in.mem) {
            long res = alu(in.sub, in.osz, c.reg(in.rm, in.osz), b);
            if (in.sub != 7) c.setReg(in.rm, in.osz, res);
            return;
        }
        long la = c.linear(in.seg, ea(in), in.osz, in.sub != 7);
        long res = alu(in.sub, in.osz, c.readLin(la, in.osz), b);
        if (in.sub != 7) c.writeLin(la, in.osz, res);
    }

    private void incDec(Insn in) {
        boolean inc = in.op == Op.INC;
        if (!in.mem) {
            long a = c.reg(in.rm, in.osz);
            long res = inc ? a + 1 : a - 1;
            f.setIncDec(inc ? LazyFlags.INC : LazyFlags.DEC, in.osz, a, res);
            c.setReg(in.rm, in.osz, res);
            return;
        }
        long la = c.linear(in.seg, ea(in), in.osz, true);
        long a = c.readLin(la, in.osz);
        long res = inc ? a + 1 : a - 1;
        c.writeLin(la, in.osz, res);
        f.setIncDec(inc ? LazyFlags.INC : LazyFlags.DEC, in.osz, a, res);
    }

    /** NOT (kind 0) and NEG (kind 1) on r/m. */
    private void rmw(Insn in, int kind, int unused) {
        long la = in.mem ? c.linear(in.seg, ea(in), in.osz, true) : 0;
        long a = in.mem ? c.readLin(la, in.osz) : c.reg(in.rm, in.osz);
        long res = kind == 0 ? ~a : -a;
        if (in.mem) c.writeLin(la, in.osz, res);
        else c.setReg(in.rm, in.osz, res);
        if (kind == 1) f.set(LazyFlags.NEG, in.osz, a, 0, res);
    }

    private void xchg(Insn in) {
        long b = c.reg(in.reg, in.osz);
        if (!in.mem) {
            long a = c.reg(in.rm, in.osz);
            c.setReg(in.rm, in.osz, b);
            c.setReg(in.reg, in.osz, a);
            return;
        }
        long la = c.linear(in.seg, ea(in), in.osz, true);
        long a = c.readLin(la, in.osz);
        c.writeLin(la, in.osz, b);
        c.setReg(in.reg, in.osz, a);
    }

    private void cmpxchg(Insn in) {
        long acc = c.reg(Cpu.RAX, in.osz);
        long la = in.mem ? c.linear(in.seg, ea(in), in.osz, true) : 0;
        long dst = in.mem ? c.readLin(la, in.osz) : c.reg(in.rm, in.osz);
        alu(7, in.osz, acc, dst);
        if (acc == dst) {
            long src = c.reg(in.reg, in.osz);
            if (in.mem) c.writeLin(la, in.osz, src);
            else c.setReg(in.rm, in.osz, src);
        } else {
            if (in.mem) c.writeLin(la, in.osz, dst); // the destination is always written (SDM CMPXCHG)
            c.setReg(Cpu.RAX, in.osz, dst);
        }
    }

    private void xadd(Insn in) {
        long src = c.reg(in.reg, in.osz);
        long la = in.mem ? c.linear(in.seg, ea(in), in.osz, true) : 0;
        long dst = in.mem ? c.readLin(la, in.osz) : c.reg(in.rm, in.osz);
        long sum = alu(0, in.osz, dst, src);
        if (in.mem) {
            c.writeLin(la, in.osz, sum);
            c.setReg(in.reg, in.osz, dst);
        } else {
            c.setReg(in.reg, in.osz, dst);
            c.setReg(in.rm, in.osz, sum);
        }
    }

    private void cmpxchg8b(Insn in) {
        long a = ea(in);
        if (in.sub == 16) {
            if ((a & 15) != 0) throw CpuFault.gp0(); // CMPXCHG16B needs a 16-byte aligned operand
            long la = c.linear(in.seg, a, 16, true);
            long lo = c.readLin(la, 8), hi = c.readLin(la + 8, 8);
            if (lo == r[Cpu.RAX] && hi == r[Cpu.RDX]) {
                c.writeLin(la, 8, r[Cpu.RBX]);
                c.writeLin(la + 8, 8, r[Cpu.RCX]);
                f.setFlag(ZF, true);
            } else {
                c.writeLin(la, 8, lo);
                c.writeLin(la + 8, 8, hi);
                r[Cpu.RAX] = lo;
                r[Cpu.RDX] = hi;
                f.setFlag(ZF, false);
            }
            return;
        }
        long la = c.linear(in.seg, a, 8, true);
        long m = c.readLin(la, 8);
        long cmp = (r[Cpu.RAX] & 0xFFFFFFFFL) | (r[Cpu.RDX] << 32);
        if (m == cmp) {
            c.writeLin(la, 8, (r[Cpu.RBX] & 0xFFFFFFFFL) | (r[Cpu.RCX] << 32));
            f.setFlag(ZF, true);
        } else {
            c.writeLin(la, 8, m);
            c.setReg(Cpu.RAX, 4, m);
            c.setReg(Cpu.RDX, 4, m >>> 32);
            f.setFlag(ZF, false);
        }
    }

    // ---- multiply and divide

    private void mul(Insn in) {
        long b = readE(in, in.osz);
        long a = c.reg(Cpu.RAX, in.osz);
        boolean high;
        long lo;
        switch (in.osz) {
            case 1 -> { long p = a * b; c.setReg(Cpu.RAX, 2, p); high = (p & 0xFF00) != 0; lo = p; }
            case 2 -> { long p = a * b; c.setReg(Cpu.RAX, 2, p); c.setReg(Cpu.RDX, 2, p >>> 16); high = (p >>> 16) != 0; lo = p; }
            case 4 -> { long p = a * b; c.setReg(Cpu.RAX, 4, p); c.setReg(Cpu.RDX, 4, p >>> 32); high = (p >>> 32) != 0; lo = p; }
            default -> {
                long h = Math.unsignedMultiplyHigh(a, b);
                lo = a * b;
                r[Cpu.RAX] = lo;
                r[Cpu.RDX] = h;
                high = h != 0;
            }
        }
        f.setCarry(LazyFlags.MUL, in.osz, 0, 0, lo, high);
    }

    private void imul1(Insn in) {
        long b = sext(readE(in, in.osz), in.osz);
        long a = sext(c.reg(Cpu.RAX, in.osz), in.osz);
        boolean ovf;
        long lo;
        switch (in.osz) {
            case 1 -> { long p = a * b; c.setReg(Cpu.RAX, 2, p); ovf = p != (byte) p; lo = p; }
            case 2 -> { long p = a * b; c.setReg(Cpu.RAX, 2, p); c.setReg(Cpu.RDX, 2, p >> 16); ovf = p != (short) p; lo = p; }
            case 4 -> { long p = a * b; c.setReg(Cpu.RAX, 4, p); c.setReg(Cpu.RDX, 4, p >> 32); ovf = p != (int) p; lo = p; }
            default -> {
                long h = Math.multiplyHigh(a, b);
                lo = a * b;
                r[Cpu.RAX] = lo;
                r[Cpu.RDX] = h;
                ovf = h != (lo >> 63);
            }
        }
        f.setCarry(LazyFlags.MUL, in.osz, 0, 0, lo, ovf);
    }

    /** Two- and three-operand IMUL: truncated product; CF = OF = the product did not fit. */
    private long imul(int size, long x, long y) {
        long a = sext(x, size), b = sext(y, size);
        long p = a * b;
        boolean ovf = size == 8 ? Math.multiplyHigh(a, b) != (p >> 63) : p != sext(p, size);
        f.setCarry(LazyFlags.MUL, size, 0, 0, p, ovf);
        return p;
    }

    private void div(Insn in) {
        long d = readE(in, in.osz);
        if (d == 0) throw CpuFault.of(CpuFault.DE);
        switch (in.osz) {
            case 1 -> {
                long n = r[Cpu.RAX] & 0xFFFF;
                long q = n / d;
                if (q > 0xFF) throw CpuFault.of(CpuFault.DE);
                c.setReg(Cpu.RAX, 2, (q & 0xFF) | ((n % d) << 8));
            }
            case 2 -> {
                long n = ((r[Cpu.RDX] & 0xFFFF) << 16) | (r[Cpu.RAX] & 0xFFFF);
                long q = n / d;
                if (q > 0xFFFF) throw CpuFault.of(CpuFault.DE);
                c.setReg(Cpu.RAX, 2, q);
                c.setReg(Cpu.RDX, 2, n % d);
            }
            case 4 -> {
                long n = ((r[Cpu.RDX] & 0xFFFFFFFFL) << 32) | (r[Cpu.RAX] & 0xFFFFFFFFL);
                long q = Long.divideUnsigned(n, d);
                if (Long.compareUnsigned(q, 0xFFFFFFFFL) > 0) throw CpuFault.of(CpuFault.DE);
                c.setReg(Cpu.RAX, 4, q);
                c.setReg(Cpu.RDX, 4, Long.remainderUnsigned(n, d));
            }
            default -> {
                long hi = r[Cpu.RDX], lo = r[Cpu.RAX];
                if (Long.compareUnsigned(hi, d) >= 0) throw CpuFault.of(CpuFault.DE);
                long q, rem;
                if (hi == 0) {
                    q = Long.divideUnsigned(lo, d);
                    rem = Long.remainderUnsigned(lo, d);
                } else {
                    // 128/64 restoring division; hi < d guarantees a 64-bit quotient
                    q = 0;
                    rem = hi;
                    for (int i = 63; i >= 0; i--) {
                        boolean carry = rem < 0;
                        rem = (rem << 1) | ((lo >>> i) & 1);
                        q <<= 1;
                        if (carry || Long.compareUnsigned(rem, d) >= 0) {
                            rem -= d;
                            q |= 1;
                        }
                    }
                }
                r[Cpu.RAX] = q;
                r[Cpu.RDX] = rem;
            }
        }
    }

    private void idiv(Insn in) {
        long d = sext(readE(in, in.osz), in.osz);
        if (d == 0) throw CpuFault.of(CpuFault.DE);
        switch (in.osz) {
            case 1 -> {
                long n = (short) r[Cpu.RAX];
                long q = n / d;
                if (q != (byte) q) throw CpuFault.of(CpuFault.DE);
                c.setReg(Cpu.RAX, 2, (q & 0xFF) | ((n % d & 0xFF) << 8));
            }
            case 2 -> {
                long n = (int) (((r[Cpu.RDX] & 0xFFFF) << 16) | (r[Cpu.RAX] & 0xFFFF));
                long q = n / d;
                if (q != (short) q) throw CpuFault.of(CpuFault.DE);
                c.setReg(Cpu.RAX, 2, q);
                c.setReg(Cpu.RDX, 2, n % d);
            }
            case 4 -> {
                long n = ((r[Cpu.RDX] & 0xFFFFFFFFL) << 32) | (r[Cpu.RAX] & 0xFFFFFFFFL);
                if (n == Long.MIN_VALUE && d == -1) throw CpuFault.of(CpuFault.DE);
                long q = n / d;
                if (q != (int) q) throw CpuFault.of(CpuFault.DE);
                c.setReg(Cpu.RAX, 4, q);
                c.setReg(Cpu.RDX, 4, n % d);
            }
            default -> {
                java.math.BigInteger n = java.math.BigInteger.valueOf(r[Cpu.RDX]).shiftLeft(64)
                        .or(new java.math.BigInteger(Long.toUnsignedString(r[Cpu.RAX])));
                java.math.BigInteger[] qr = n.divideAndRemainder(java.math.BigInteger.valueOf(d));
                if (qr[0].bitLength() > 63) throw CpuFault.of(CpuFault.DE);
                r[Cpu.RAX] = qr[0].longValue();
                r[Cpu.RDX] = qr[1].longValue();
            }
        }
    }

    // ---- shifts and rotates (SDM Vol.2 SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR)

    private void shift(Insn in, int count) {
        int size = in.osz;
        int bits = size << 3;
        int cnt = count & (size == 8 ? 0x3F : 0x1F);
        long la = in.mem ? c.linear(in.seg, ea(in), size, true) : 0;
        long a = (in.mem ? c.readLin(la, size) : c.reg(in.rm, size)) & mask(size);
        if (cnt == 0) {
            // no change to the operand or the flags, but a 32-bit register destination is still
            // written and so zero-extended to 64 bits (SDM Vol.1 3.4.1.1)
            if (!in.mem && size == 4) c.setReg(in.rm, 4, a);
            return;
        }
        long res;
        switch (in.sub) {
            case 0, 1 -> { // ROL, ROR
                int n = cnt % bits;
                res = in.sub == 0 ? rotl(a, n, bits) : rotl(a, (bits - n) % bits, bits);
                f.materialize();
                boolean cf, of;
                if (in.sub == 0) {
                    cf = (res & 1) != 0;
                    of = ((res >>> (bits - 1)) & 1) != 0 ^ cf;
                } else {
                    cf = ((res >>> (bits - 1)) & 1) != 0;
                    of = cf ^ (((res >>> (bits - 2)) & 1) != 0);
                }
                f.bits = (f.bits & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
            }
            case 2, 3 -> { // RCL, RCR: rotate through CF, count modulo width+1 for 8/16-bit
                int n = size <= 2 ? cnt % (bits + 1) : cnt;
                boolean cf = f.cf();
                f.materialize();
                res = a;
                boolean ofRcr = ((res >>> (bits - 1)) & 1) != 0 ^ cf;
                for (int i = 0; i < n; i++) {
                    if (in.sub == 2) {
                        boolean out = ((res >>> (bits - 1)) & 1) != 0;
                        res = ((res << 1) | (cf ? 1 : 0)) & mask(size);
                        cf = out;
                    } else {
                        boolean out = (res & 1) != 0;
                        res = (res >>> 1) | (cf ? 1L << (bits - 1) : 0);
                        cf = out;
                    }
                }
                boolean of = in.sub == 2 ? (((res >>> (bits - 1)) & 1) != 0 ^ cf) : ofRcr;
                f.bits = (f.bits & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
            }
            case 4, 6 -> { res = (a << cnt) & mask(size); f.set(LazyFlags.SHL, size, a, cnt, res); }
            case 5 -> { res = cnt >= 64 ? 0 : a >>> cnt; f.set(LazyFlags.SHR, size, a, cnt, res); }
            default -> { res = (sext(a, size) >> Math.min(cnt, 63)) & mask(size); f.set(LazyFlags.SAR, size, a, cnt, res); }
        }
        if (in.mem) c.writeLin(la, size, res);
        else c.setReg(in.rm, size, res);
    }

    private static long rotl(long a, int n, int bits) {
        if (n == 0) return a;
        if (bits == 64) return Long.rotateLeft(a, n);
        long m = (1L << bits) - 1;
        return ((a << n) | (a >>> (bits - n))) & m;
    }

    private void shiftDouble(Insn in) {
        int size = in.osz, bits = size << 3;
        int cnt = (int) (in.sub == 1 ? in.imm : r[Cpu.RCX]) & (size == 8 ? 0x3F : 0x1F);
        long la = in.mem ? c.linear(in.seg, ea(in), size, true) : 0;
        long a = (in.mem ? c.readLin(la, size) : c.reg(in.rm, size)) & mask(size);
        long b = c.reg(in.reg, size);
        if (cnt == 0) {
            // flags and value unchanged, but a 32-bit register destination is zero-extended (SDM Vol.1 3.4.1.1)
            if (!in.mem && size == 4) c.setReg(in.rm, 4, a);
            return;
        }
        long res;
        if (in.op == Op.SHLD) {
            // operate on the 2*width concatenation a:b (for 16-bit, counts > 16 are undefined)
            if (size == 8) res = (a << cnt) | (b >>> (64 - cnt));
            else if (cnt <= bits) res = ((a << cnt) | (b >>> (bits - cnt))) & mask(size);
            else res = ((a << cnt) | (b << (cnt - 16)) | (a >>> (32 - cnt))) & 0xFFFF; // 16-bit, count > 16: undefined
            f.set(LazyFlags.SHL, size, a, cnt, res);
        } else {
            res = size == 8 ? (a >>> cnt) | (b << (64 - cnt)) : ((a >>> cnt) | (b << (bits - cnt))) & mask(size);
            boolean cf = ((a >>> (cnt - 1)) & 1) != 0;
            boolean of = ((res ^ a) & LazyFlags.sign(size)) != 0;
            setLogicWith(size, res, cf, of);
        }
        if (in.mem) c.writeLin(la, size, res);
        else c.setReg(in.rm, size, res);
    }

    /** ZF, SF, PF from a result; CF and OF given; AF cleared. */
    void setLogicWith(int size, long res, boolean cf, boolean of) {
        f.set(LazyFlags.LOGIC, size, 0, 0, res);
        f.materialize();
        f.bits = (f.bits & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
    }

    // ---- bit test and scan

    private void bt(Insn in) {
        int size = in.osz, bits = size << 3;
        long off;
        long la = 0;
        long v;
        if (in.op == Op.BT_EI) {
            off = in.imm & (bits - 1);
            if (in.mem) la = c.linear(in.seg, ea(in), size, in.sub != 0);
        } else {
            long raw = c.reg(in.reg, size);
            if (in.mem) {
                // a register bit offset addresses memory beyond the operand (SDM BT: bit base)
                long s = sext(raw, size);
                long a = (ea(in) + (s >> (size == 8 ? 6 : size == 4 ? 5 : 4)) * size) & mask(in.asz);
                la = c.linear(in.seg, a, size, in.sub != 0);
                off = s & (bits - 1);
            } else {
                off = raw & (bits - 1);
            }
        }
        v = in.mem ? c.readLin(la, size) : c.reg(in.rm, size);
        boolean bit = ((v >>> off) & 1) != 0;
        long nv = switch (in.sub) {
            case 1 -> v | (1L << off);
            case 2 -> v & ~(1L << off);
            case 3 -> v ^ (1L << off);
            default -> v;
        };
        if (in.sub != 0) {
            if (in.mem) c.writeLin(la, size, nv);
            else c.setReg(in.rm, size, nv);
        }
        f.setFlag(CF, bit);
    }

    private void bitScan(Insn in) {
        int size = in.osz, bits = size << 3;
        long v = readE(in, size) & mask(size);
        switch (in.op) {
            case Op.BSF, Op.BSR -> {
                if (v == 0) { f.setFlag(ZF, true); return; } // destination unchanged
                long idx = in.op == Op.BSF ? Long.numberOfTrailingZeros(v) : 63 - Long.numberOfLeadingZeros(v);
                c.setReg(in.reg, size, idx);
                f.setFlag(ZF, false);
            }
            case Op.TZCNT, Op.LZCNT -> {
                long n = v == 0 ? bits : in.op == Op.TZCNT ? Long.numberOfTrailingZeros(v)
                        : Long.numberOfLeadingZeros(v) - (64 - bits);
                c.setReg(in.reg, size, n);
                f.materialize();
                f.bits = (f.bits & ~(CF | ZF)) | (v == 0 ? CF : 0) | (n == 0 ? ZF : 0);
            }
            default -> { // POPCNT
                long n = Long.bitCount(v);
                c.setReg(in.reg, size, n);
                f.materialize();
                f.bits = (f.bits & ~ARITH) | (v == 0 ? ZF : 0);
            }
        }
    }

    // ---- loops, stack forms

    private void loop(Insn in) {
        int cs = in.asz;
        long cnt = c.reg(Cpu.RCX, cs);
        boolean jump;
        if (in.sub == 3) {
            jump = cnt == 0; // JrCXZ
        } else {
            cnt = (cnt - 1) & mask(cs);
            jump = cnt != 0 && (in.sub == 2 || (in.sub == 1) == f.zf());
        }
        if (jump) jumpTo(c.nrip + in.imm, in.osz);
        if (in.sub != 3) c.setReg(Cpu.RCX, cs, cnt);
    }

    private void popE(Insn in) {
        long sp = r[Cpu.RSP] & spMask();
        long v = c.read(Segment.SS, sp, in.osz);
        long old = r[Cpu.RSP];
        setSp(sp + in.osz); // POP r/m computes a RSP-based address after the increment
        try {
            writeE(in, in.osz, v);
        } catch (CpuFault e) {
            r[Cpu.RSP] = old;
            throw e;
        }
    }

    private void pushf(Insn in) {
        if ((c.cr0 & Cpu.CR0_PE) != 0 && (c.fl.bits & VM) != 0 && ((c.fl.bits & IOPL) >>> 12) < 3) throw CpuFault.gp0();
        push(in.osz, f.get() & ~(RF | VM)); // RF and VM read as 0 in the pushed image
    }

    private void pusha(Insn in) {
        int s = in.osz;
        long sp0 = r[Cpu.RSP];
        long base = (sp0 - 8L * s) & spMask();
        c.linear(Segment.SS, base, 8 * s, true); // all-or-nothing limit check
        long[] vals = {r[0], r[1], r[2], r[3], sp0, r[5], r[6], r[7]};
        try {
            for (int i = 0; i < 8; i++) push(s, vals[i]);
        } catch (CpuFault f) {
            r[Cpu.RSP] = sp0; // a fault leaves the instruction without effect (SDM Vol.3A 6.5)
            throw f;
        }
    }

    private void popa(Insn in) {
        int s = in.osz;
        long[] v = new long[8];
        for (int i = 0; i < 8; i++) v[i] = peek(s, (long) i * s);
        for (int i = 7; i >= 0; i--) if (i != 4) c.setReg(i, s, v[7 - i]);
        setSp((r[Cpu.RSP] & spMask()) + 8L * s);
    }

    private void enter(Insn in) {
        int s = in.osz;
        long sp0 = r[Cpu.RSP];
        try {
            enterFrame(in, s);
        } catch (CpuFault f) {
            r[Cpu.RSP] = sp0;
            throw f;
        }
    }

    private void enterFrame(Insn in, int s) {
        int level = (int) in.imm2 & 0x1F;
        long size = in.imm;
        push(s, r[Cpu.RBP]);
        long frame = r[Cpu.RSP] & spMask();
        if (level > 0) {
            long bp = r[Cpu.RBP];
            for (int i = 1; i < level; i++) {
                bp = (bp - s) & spMask();
                push(s, c.read(Segment.SS, bp, s));
            }
            push(s, frame);
        }
        c.setReg(Cpu.RBP, s, frame);
        setSp((r[Cpu.RSP] - size) & spMask());
    }
}
