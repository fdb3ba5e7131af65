package org.hvlab.machine.cpu;

/**
 * RFLAGS with the six arithmetic flags computed lazily from the last flag-setting operation
 * (the usual interpreter technique: most results are never tested). {@link #bits} holds every
 * other RFLAGS bit always, and the arithmetic bits too when {@link #op} is {@link #NONE}.
 */
public final class LazyFlags {
    public static final long CF = 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8,
            IF = 1 << 9, DF = 1 << 10, OF = 1 << 11, IOPL = 3 << 12, NT = 1 << 14, RF = 1 << 16,
            VM = 1 << 17, AC = 1 << 18, VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21;
    public static final long ARITH = CF | PF | AF | ZF | SF | OF;
    /** Bits software can change with POPF at CPL 0 (SDM Vol.1 3.4.3); bit 1 is always 1. */
    public static final long WRITABLE = ARITH | TF | IF | DF | IOPL | NT | RF | AC | ID;

    // operation kinds
    static final int NONE = 0, ADD = 1, ADC = 2, SUB = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7, NEG = 8,
            SHL = 9, SHR = 10, SAR = 11, MUL = 12;

    long bits = 2;
    int op = NONE;
    int size = 8;
    long a, b, res;
    /** CF kept by INC/DEC; carry-in for ADC/SBB; "high part non-zero" for MUL. */
    boolean cf;

    static long mask(int size) {
        return size == 8 ? -1L : (1L << (size << 3)) - 1;
    }

    static long sign(int size) {
        return 1L << ((size << 3) - 1);
    }

    void set(int op, int size, long a, long b, long res) {
        this.op = op;
        this.size = size;
        this.a = a;
        this.b = b;
        this.res = res;
    }

    void setCarry(int op, int size, long a, long b, long res, boolean carryIn) {
        set(op, size, a, b, res);
        this.cf = carryIn;
    }

    /** INC/DEC keep CF: capture it before the lazy state is replaced. */
    void setIncDec(int op, int size, long a, long res) {
        boolean c = cf();
        set(op, size, a, 1, res);
        this.cf = c;
    }

    /** CF. The common kinds stay small enough for the JIT to inline; the rest is out of line. */
    public boolean cf() {
        switch (op) {
            case NONE: return (bits & CF) != 0;
            case LOGIC: return false;
            case INC: case DEC: case MUL: return cf;
            case ADD: { long m = mask(size); return Long.compareUnsigned(res & m, a & m) < 0; }
            case SUB: { long m = mask(size); return Long.compareUnsigned(a & m, b & m) < 0; }
            default: return cfSlow();
        }
    }

    private boolean cfSlow() {
        long m = mask(size);
        switch (op) {
            case ADC: return cf ? Long.compareUnsigned(res & m, a & m) <= 0 : Long.compareUnsigned(res & m, a & m) < 0;
            case SBB: return cf ? Long.compareUnsigned(a & m, b & m) <= 0 : Long.compareUnsigned(a & m, b & m) < 0;
            case NEG: return (a & m) != 0;
            case SHL: return b <= (size << 3) && ((a >>> ((size << 3) - b)) & 1) != 0;
            case SHR: return ((a >>> (b - 1)) & 1) != 0;
            case SAR: return ((signExtend(a, size) >> Math.min(b - 1, 63)) & 1) != 0;
            default: throw new IllegalStateException("lazy flag op " + op);
        }
    }

    public boolean zf() {
        return op == NONE ? (bits & ZF) != 0 : (res & mask(size)) == 0;
    }

    public boolean sf() {
        return op == NONE ? (bits & SF) != 0 : (res & sign(size)) != 0;
    }

    public boolean pf() {
        return op == NONE ? (bits & PF) != 0 : (Integer.bitCount((int) res & 0xFF) & 1) == 0;
    }

    public boolean af() {
        switch (op) {
            case NONE: return (bits & AF) != 0;
            case ADD: case ADC: case SUB: case SBB: case INC: case DEC:
                return ((a ^ b ^ res) & 0x10) != 0;
            case NEG: return ((a ^ res) & 0x10) != 0;
            default: return false; // undefined after logic, shifts and MUL: report 0
        }
    }

    public boolean of() {
        long s = sign(size);
        switch (op) {
            case NONE: return (bits & OF) != 0;
            case ADD: case ADC: return ((a ^ res) & (b ^ res) & s) != 0;
            case SUB: case SBB: return ((a ^ b) & (a ^ res) & s) != 0;
            case LOGIC: return false;
            case INC: return (res & mask(size)) == s;
            case DEC: return (a & mask(size)) == s;
            case NEG: return (a & mask(size)) == s;
            case SHL: return (((res & s) != 0) ^ cf());  // defined for count 1 (SDM: MSB(result) XOR CF)
            case SHR: return b == 1 && (a & s) != 0;      // count 1: MSB of the original operand
            case SAR: return false;
            case MUL: return cf;
            default: throw new IllegalStateException("lazy flag op " + op);
        }
    }

    static long signExtend(long v, int size) {
        return switch (size) {
            case 1 -> (byte) v;
            case 2 -> (short) v;
            case 4 -> (int) v;
            default -> v;
        };
    }

    /** The whole RFLAGS value. */
    public long get() {
        if (op == NONE) return bits;
        long f = bits & ~ARITH;
        if (cf()) f |= CF;
        if (pf()) f |= PF;
        if (af()) f |= AF;
        if (zf()) f |= ZF;
        if (sf()) f |= SF;
        if (of()) f |= OF;
        return f;
    }

    /** Replace RFLAGS entirely (bit 1 forced to 1, reserved bits to 0). */
    public void setAll(long v) {
        bits = (v & 0x3F7FD5L) | 2;
        op = NONE;
    }

    /** Materialise the lazy state into {@link #bits} so single flags can be edited. */
    void materialize() {
        if (op != NONE) {
            bits = get();
            op = NONE;
        }
    }

    void setFlag(long flag, boolean on) {
        materialize();
        bits = on ? bits | flag : bits & ~flag;
    }

    boolean test(long flag) {
        return (flag & ARITH) != 0 ? (get() & flag) != 0 : (bits & flag) != 0;
    }

    /** Jcc/SETcc/CMOVcc condition codes 0..15 (SDM Vol.1 B.1). */
    public boolean cond(int cc) {
        boolean r = switch (cc >> 1) {
            case 0 -> of();
            case 1 -> cf();
            case 2 -> zf();
            case 3 -> cf() || zf();
            case 4 -> sf();
            case 5 -> pf();
            case 6 -> sf() != of();
            default -> zf() || sf() != of();
        };
        return r ^ ((cc & 1) != 0);
    }
}
