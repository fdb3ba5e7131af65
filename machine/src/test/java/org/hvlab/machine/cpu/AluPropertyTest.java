package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * ALU semantics against an independent reference written with BigInteger arithmetic, for every
 * operand size: result and the six status flags (SDM Vol.1 3.4.3, Vol.2 ADD/SUB/...).
 */
class AluPropertyTest {
    private static final long CF = 1, PF = 4, AF = 16, ZF = 64, SF = 128, OF = 2048;
    private static final int[] SIZES = {1, 2, 4, 8};
    private static final String[] OPS = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};

    /** "op rbx-sized, rax-sized" i.e. op r/m=rax-family, reg=rbx-family: opcode (op<<3)|(1 or 0), modrm 0xD8. */
    private static byte[] encode(int op, int size) {
        int opc = (op << 3) | (size == 1 ? 0 : 1);
        return switch (size) {
            case 1 -> new byte[] {(byte) opc, (byte) 0xD8};
            case 2 -> new byte[] {0x66, (byte) opc, (byte) 0xD8};
            case 4 -> new byte[] {(byte) opc, (byte) 0xD8};
            default -> new byte[] {0x48, (byte) opc, (byte) 0xD8};
        };
    }

    private static final TestCpu T = new TestCpu();

    @Property(tries = 3000)
    void aluMatchesReference(@ForAll @IntRange(min = 0, max = 7) int op, @ForAll @IntRange(min = 0, max = 3) int sz,
                             @ForAll long a, @ForAll long b, @ForAll boolean carryIn) {
        int size = SIZES[sz];
        int bits = size * 8;
        BigInteger mod = BigInteger.ONE.shiftLeft(bits);
        long mask = size == 8 ? -1L : (1L << bits) - 1;
        long ua = a & mask, ub = b & mask;
        Cpu c = T.cpu;
        c.r[Cpu.RAX] = a;
        c.r[Cpu.RBX] = b;
        c.setRflags(2 | (carryIn ? CF : 0));
        assertEquals(-1, T.exec(encode(op, size)));

        BigInteger A = new BigInteger(Long.toUnsignedString(ua)), B = new BigInteger(Long.toUnsignedString(ub));
        BigInteger sa = signed(ua, bits), sb = signed(ub, bits);
        int cin = carryIn && (op == 2 || op == 3) ? 1 : 0;
        BigInteger full;
        BigInteger sfull;
        long res;
        boolean logic = op == 1 || op == 4 || op == 6;
        switch (op) {
            case 0, 2 -> { full = A.add(B).add(BigInteger.valueOf(cin)); sfull = sa.add(sb).add(BigInteger.valueOf(cin)); }
            case 3, 5, 7 -> { full = A.subtract(B).subtract(BigInteger.valueOf(cin)); sfull = sa.subtract(sb).subtract(BigInteger.valueOf(cin)); }
            default -> { full = null; sfull = null; }
        }
        if (logic) {
            res = switch (op) { case 1 -> ua | ub; case 4 -> ua & ub; default -> ua ^ ub; };
        } else {
            res = full.mod(mod).longValue();
        }
        long want = 0;
        if (!logic && (full.signum() < 0 || full.compareTo(mod) >= 0)) want |= CF;
        if ((Long.bitCount(res & 0xFF) & 1) == 0) want |= PF;
        if (!logic && (((ua ^ ub ^ res) >> 4) & 1) != 0) want |= AF;
        if (res == 0) want |= ZF;
        if (((res >>> (bits - 1)) & 1) != 0) want |= SF;
        if (!logic && (sfull.compareTo(BigInteger.ONE.shiftLeft(bits - 1)) >= 0 || sfull.compareTo(BigInteger.ONE.shiftLeft(bits - 1).negate()) < 0)) want |= OF;
        long mask6 = CF | PF | ZF | SF | OF | (logic ? 0 : AF); // AF is undefined after logic ops
        assertEquals(want & mask6, c.rflags() & mask6, OPS[op] + " size " + size + " a=" + Long.toHexString(ua) + " b=" + Long.toHexString(ub));
        long wantRax = op == 7 ? a : size == 4 ? res : (a & ~mask) | res;
        assertEquals(wantRax, c.r[Cpu.RAX], OPS[op] + " result");
    }

    private static BigInteger signed(long v, int bits) {
        long s = bits == 64 ? v : (v << (64 - bits)) >> (64 - bits);
        return BigInteger.valueOf(s);
    }

    @Property(tries = 1000)
    void incDecKeepCarry(@ForAll long a, @ForAll boolean carry, @ForAll boolean inc) {
        Cpu c = T.cpu;
        c.r[Cpu.RAX] = a;
        c.setRflags(2 | (carry ? CF : 0));
        assertEquals(-1, T.exec(new byte[] {0x48, (byte) 0xFF, (byte) (inc ? 0xC0 : 0xC8)}));
        long res = inc ? a + 1 : a - 1;
        assertEquals(res, c.r[Cpu.RAX]);
        assertEquals(carry, (c.rflags() & CF) != 0, "INC/DEC leave CF alone");
        assertEquals(inc ? a == Long.MAX_VALUE : a == Long.MIN_VALUE, (c.rflags() & OF) != 0, "OF");
        assertEquals(res == 0, (c.rflags() & ZF) != 0);
    }

    @Property(tries = 1000)
    void shiftsByOne(@ForAll long a, @ForAll @IntRange(min = 0, max = 2) int kind) {
        // d1 /4 shl, /5 shr, /7 sar on rax
        int reg = new int[] {4, 5, 7}[kind];
        Cpu c = T.cpu;
        c.r[Cpu.RAX] = a;
        c.setRflags(2);
        assertEquals(-1, T.exec(new byte[] {0x48, (byte) 0xD1, (byte) (0xC0 | reg << 3)}));
        long res = switch (kind) { case 0 -> a << 1; case 1 -> a >>> 1; default -> a >> 1; };
        boolean cf = kind == 0 ? a < 0 : (a & 1) != 0;
        boolean of = switch (kind) { case 0 -> (res < 0) != cf; case 1 -> a < 0; default -> false; };
        assertEquals(res, c.r[Cpu.RAX]);
        assertEquals(cf, (c.rflags() & CF) != 0, "CF");
        assertEquals(of, (c.rflags() & OF) != 0, "OF for a 1-bit shift");
        assertEquals(res == 0, (c.rflags() & ZF) != 0, "ZF");
        assertEquals(res < 0, (c.rflags() & SF) != 0, "SF");
    }
}
