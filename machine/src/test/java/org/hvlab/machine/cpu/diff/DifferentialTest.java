package org.hvlab.machine.cpu.diff;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.cpu.TestCpu;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Differential test of the interpreter against the host CPU: random short sequences of user-level
 * integer instructions run natively ({@link NativeX86}) and in the interpreter from the same state
 * (random GPRs, random CF/PF/AF/ZF/SF/OF, random bytes in a 4 KiB data page), then all GPRs but
 * RSP, the flags the sequence leaves architecturally defined, and the data page are compared.
 *
 * <p>Covered: MOV (all forms incl. moffs and RIP-relative reads), MOVZX/MOVSX/MOVSXD, LEA (64- and
 * 32-bit addressing), XCHG, CMPXCHG, CMPXCHG8B/16B, XADD, ADD/ADC/SUB/SBB/AND/OR/XOR/CMP/TEST in all
 * operand forms and sizes (AH..BH and REX byte registers, LOCK on memory destinations, ignored
 * segment overrides), INC/DEC/NEG/NOT, MUL/IMUL (1-, 2-, 3-operand), DIV/IDIV, the seven
 * shifts/rotates by 1, imm8 and CL, SHLD/SHRD, BT/BTS/BTR/BTC (register and memory, immediate and
 * register offsets), BSF/BSR, POPCNT/TZCNT/LZCNT (when CPUID has them), SETcc, CMOVcc, CBW..CQO,
 * CLC/STC/CMC, LAHF/SAHF, BSWAP, forward Jcc/JMP/JrCXZ/LOOPcc, XLAT, string instructions with
 * REP prefixes, NOPs and fences.
 *
 * <p>Sequences are AT&amp;T text assembled with GNU as in one batch (start/end labels per sequence,
 * offsets from nm). The generator tracks which of the six status flags are defined (SDM Vol.2
 * "Flags Affected" of each instruction) and never emits an instruction that consumes an undefined
 * flag. Anything that would fault natively is excluded by construction: memory operands use a
 * base register holding the data page address (never written), DIV/IDIV load their divisor and
 * high half so the quotient fits, BSF/BSR sources are made non-zero first.
 *
 * <p>Each sequence has its own seed ({@code BASE_SEED + index}); a failure prints it with the
 * source, so it can be reproduced with {@code -Dhvlab.diff.seed=... -Dhvlab.diff.count=1}.
 */
class DifferentialTest {
    static final long CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
    static final long ALL = CF | PF | AF | ZF | SF | OF;
    static final int DATA_BYTES = 4096;
    static final long DATA_PHYS = 0x600000;
    /** The base register points at the middle of the data page. */
    static final int BASE_OFF = 2048;
    static final long BASE_SEED = 0x5EED_0000_0000L;
    static final int DEFAULT_COUNT = 100_000;

    static final String[] Q = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
    static final String[] L = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
            "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
    static final String[] W = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
            "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
    static final String[] B = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
            "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b", "ah", "ch", "dh", "bh"};
    /** Condition codes 0..15 and the flags each one reads. */
    static final String[] CC = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};
    static final long[] CC_FLAGS = {OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF,
            SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF};

    /** Host features probed with CPUID. */
    record Features(boolean popcnt, boolean bmi1, boolean lzcnt) {}

    /** One generated sequence with its initial state. */
    record Seq(int index, long seed, String source, long[] gpr, long flags, byte[] data, long defined) {}

    @Test
    void randomSequencesMatchHost() throws Exception {
        Assumptions.assumeTrue(NativeX86.available(), "native x86-64 execution is not available on this host");
        long seed0 = Long.getLong("hvlab.diff.seed", BASE_SEED);
        int count = Integer.getInteger("hvlab.diff.count", DEFAULT_COUNT);
        long t0 = System.nanoTime();
        try (NativeX86 nx = new NativeX86(DATA_BYTES)) {
            Features feat = probe(nx);
            long dataLin = nx.dataAddress();
            // the interpreter maps the same linear page; below 4 GiB it would split the identity map
            Assumptions.assumeTrue(dataLin >= (4L << 30), "native data buffer below 4 GiB");
            TestCpu tc = new TestCpu();
            tc.map4k(dataLin, DATA_PHYS, true, true, false);

            List<Seq> seqs = new ArrayList<>(count);
            for (int i = 0; i < count; i++) seqs.add(new Gen(i, seed0 + i, feat, dataLin).generate());
            long tGen = System.nanoTime();
            byte[][] code = assemble(seqs);
            long tAsm = System.nanoTime();

            List<String> failures = new ArrayList<>();
            int failed = 0;
            long insns = 0;
            for (int i = 0; i < count; i++) {
                Seq s = seqs.get(i);
                String diff = compare(nx, tc, s, code[i]);
                insns += tc.cpu.instructions;
                if (diff != null) {
                    failed++;
                    if (failures.size() < 25) failures.add(diff);
                }
            }
            long t1 = System.nanoTime();
            System.out.printf("differential: compared %d sequences (%d interpreted instructions) in %.1f s "
                            + "(generate %.1f s, assemble %.1f s, run %.1f s); popcnt=%b tzcnt=%b lzcnt=%b; %d differ%n",
                    count, insns, (t1 - t0) / 1e9, (tGen - t0) / 1e9, (tAsm - tGen) / 1e9, (t1 - tAsm) / 1e9,
                    feat.popcnt(), feat.bmi1(), feat.lzcnt(), failed);
            if (failed > 0) {
                fail(failed + " of " + count + " sequences differ from the host; first ones:\n\n"
                        + String.join("\n", failures));
            }
        }
    }

    // ---------------------------------------------------------------- execution and comparison

    static Features probe(NativeX86 nx) {
        byte[] cpuid = {0x0F, (byte) 0xA2};
        long[] g = new long[16];
        g[0] = 0;
        long max = nx.run(cpuid, g, 0)[0] & 0xFFFFFFFFL;
        g[0] = 1;
        long ecx1 = nx.run(cpuid, g, 0)[1];
        long ebx7 = 0;
        if (max >= 7) {
            g[0] = 7;
            g[1] = 0;
            ebx7 = nx.run(cpuid, g, 0)[3];
        }
        g[0] = 0x80000000L;
        g[1] = 0;
        long maxExt = nx.run(cpuid, g, 0)[0] & 0xFFFFFFFFL;
        long ecxExt = 0;
        if (maxExt >= 0x80000001L) {
            g[0] = 0x80000001L;
            ecxExt = nx.run(cpuid, g, 0)[1];
        }
        return new Features((ecx1 & (1 << 23)) != 0, (ebx7 & (1 << 3)) != 0, (ecxExt & (1 << 5)) != 0);
    }

    /** Runs one sequence both ways; returns a description of the differences, or null. */
    static String compare(NativeX86 nx, TestCpu tc, Seq s, byte[] code) {
        MemorySegment data = nx.data();
        MemorySegment.copy(s.data(), 0, data, ValueLayout.JAVA_BYTE, 0, DATA_BYTES);
        long[] host = nx.run(code, s.gpr(), s.flags());
        byte[] hostData = data.toArray(ValueLayout.JAVA_BYTE);

        Cpu cpu = tc.cpu;
        tc.load(TestCpu.CODE, code);
        tc.machine.memory().writeBytes(DATA_PHYS, s.data(), 0, DATA_BYTES);
        System.arraycopy(s.gpr(), 0, cpu.r, 0, 16);
        cpu.r[Cpu.RSP] = 0x80000;
        cpu.setRflags(2 | (s.flags() & ALL));
        cpu.instructions = 0;
        int vector = tc.run(TestCpu.CODE, TestCpu.CODE + code.length, 10_000);

        StringBuilder d = new StringBuilder();
        if (vector >= 0) {
            d.append(String.format("  interpreter raised vector %d at rip=+0x%x%n", vector, tc.faultRip - TestCpu.CODE));
        } else if (cpu.rip != TestCpu.CODE + code.length) {
            d.append(String.format("  interpreter stopped at rip=+0x%x%n", cpu.rip - TestCpu.CODE));
        }
        for (int r = 0; r < 16; r++) {
            if (r != Cpu.RSP && host[r] != cpu.r[r]) {
                d.append(String.format("  %-4s host=%016x interp=%016x%n", Q[r], host[r], cpu.r[r]));
            }
        }
        long mask = s.defined() & ALL;
        long hf = host[16] & mask, jf = cpu.rflags() & mask;
        if (hf != jf) {
            d.append(String.format("  flags (defined %s) host=%s interp=%s%n", flagNames(mask), flagNames(hf), flagNames(jf)));
        }
        byte[] mine = tc.machine.memory().readBytes(DATA_PHYS, DATA_BYTES);
        int shown = 0;
        for (int i = 0; i < DATA_BYTES && shown < 8; i++) {
            if (mine[i] != hostData[i]) {
                d.append(String.format("  data[%d] (base%+d) host=%02x interp=%02x%n", i, i - BASE_OFF,
                        hostData[i] & 0xFF, mine[i] & 0xFF));
                shown++;
            }
        }
        if (d.isEmpty()) return null;
        StringBuilder in = new StringBuilder();
        for (int r = 0; r < 16; r++) {
            if (r != Cpu.RSP) in.append(String.format(" %s=%x", Q[r], s.gpr()[r]));
        }
        return String.format("sequence %d (seed 0x%x), input flags %s,%s%n%s%s", s.index(), s.seed(),
                flagNames(s.flags()), in, s.source(), d);
    }

    static String flagNames(long f) {
        StringBuilder b = new StringBuilder("[");
        String[] n = {"CF", "PF", "AF", "ZF", "SF", "OF"};
        long[] v = {CF, PF, AF, ZF, SF, OF};
        for (int i = 0; i < 6; i++) {
            if ((f & v[i]) != 0) b.append(b.length() > 1 ? " " : "").append(n[i]);
        }
        return b.append(']').toString();
    }

    // ---------------------------------------------------------------- batch assembly

    /** Assembles every sequence in one GNU as run; returns each sequence's bytes. */
    static byte[][] assemble(List<Seq> seqs) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("hvlab-diff");
        try {
            Path src = dir.resolve("seq.s"), obj = dir.resolve("seq.o"), bin = dir.resolve("seq.bin");
            StringBuilder sb = new StringBuilder(seqs.size() * 160);
            sb.append(".text\n");
            for (Seq s : seqs) {
                sb.append("s").append(s.index()).append(":\n").append(s.source());
                sb.append("e").append(s.index()).append(":\n");
            }
            Files.writeString(src, sb);
            String dump = System.getProperty("hvlab.diff.dump");
            if (dump != null) Files.writeString(Path.of(dump), sb); // for debugging the generator
            exec(dir, "as", "--64", "-o", obj.toString(), src.toString());
            exec(dir, "objcopy", "-O", "binary", "-j", ".text", obj.toString(), bin.toString());
            String syms = exec(dir, "nm", "--defined-only", obj.toString());
            byte[] all = Files.readAllBytes(bin);
            long[] start = new long[seqs.size()], end = new long[seqs.size()];
            for (String line : syms.split("\n")) {
                String[] p = line.trim().split("\\s+");
                if (p.length != 3) continue;
                char k = p[2].charAt(0);
                if (k != 's' && k != 'e') continue;
                int i;
                try {
                    i = Integer.parseInt(p[2].substring(1));
                } catch (NumberFormatException e) {
                    continue;
                }
                (k == 's' ? start : end)[i] = Long.parseLong(p[0], 16);
            }
            byte[][] out = new byte[seqs.size()][];
            for (int i = 0; i < out.length; i++) {
                out[i] = java.util.Arrays.copyOfRange(all, (int) start[i], (int) end[i]);
            }
            return out;
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static String exec(Path dir, String... cmd) throws IOException, InterruptedException {
        Path outFile = dir.resolve("out.txt");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(outFile.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": timed out");
        }
        String out = Files.readString(outFile);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed:\n" + out.substring(0, Math.min(out.length(), 4000)));
        }
        return out;
    }

    // ---------------------------------------------------------------- the generator

    /** Generates one sequence of 1..8 instruction groups from its own seed. */
    static final class Gen {
        final int index;
        final long seed;
        final Random rnd;
        final Features feat;
        final long dataLin;
        final StringBuilder out = new StringBuilder();
        /** Status flags whose value is architecturally defined at this point. */
        long def = ALL;
        /** Memory base register (holds dataLin + BASE_OFF) and optional index register (small value). */
        final int base;
        int idx = -1;
        long idxVal;
        int group, groups;
        long[] pend;
        boolean[] label;

        Gen(int index, long seed, Features feat, long dataLin) {
            this.index = index;
            this.seed = seed;
            this.rnd = new Random(seed);
            this.feat = feat;
            this.dataLin = dataLin;
            // never RAX/RCX/RDX (implicit operands of MUL/DIV/CBW/CMPXCHG and the CL count), never RSP
            int[] bases = {3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
            base = bases[rnd.nextInt(bases.length)];
            if (rnd.nextInt(3) == 0) {
                do idx = bases[rnd.nextInt(bases.length)]; while (idx == base);
                idxVal = rnd.nextInt(16);
            }
        }

        Seq generate() {
            long[] gpr = new long[16];
            for (int r = 0; r < 16; r++) gpr[r] = value64();
            gpr[Cpu.RSP] = 0;
            gpr[base] = dataLin + BASE_OFF;
            if (idx >= 0) gpr[idx] = idxVal;
            long flags = rnd.nextLong() & ALL;
            byte[] data = new byte[DATA_BYTES];
            rnd.nextBytes(data);

            groups = 1 + rnd.nextInt(8);
            pend = new long[groups + 1];
            label = new boolean[groups + 1];
            java.util.Arrays.fill(pend, ALL);
            for (group = 0; group < groups; group++) {
                placeLabel(group);
                int tries = 0;
                while (!one()) {
                    if (++tries > 100) throw new IllegalStateException("generator stuck");
                }
            }
            placeLabel(groups);
            return new Seq(index, seed, out.toString(), gpr, flags, data, def);
        }

        private void placeLabel(int g) {
            if (label[g]) {
                out.append(".L").append(index).append('_').append(g).append(":\n");
                def &= pend[g];
            }
        }

        /** Emits one instruction group; false if the chosen kind cannot be emitted now. */
        private boolean one() {
            int k = rnd.nextInt(100);
            if (k < 18) return alu();
            if (k < 21) return test();
            if (k < 26) return unary();
            if (k < 32) return mov();
            if (k < 36) return movx();
            if (k < 39) return lea();
            if (k < 41) return xchg();
            if (k < 43) return rnd.nextInt(4) == 0 ? cmpxchgWide() : cmpxchg();
            if (k < 45) return xadd();
            if (k < 49) return mul();
            if (k < 52) return imul();
            if (k < 56) return div();
            if (k < 66) return shift();
            if (k < 69) return shiftDouble();
            if (k < 74) return bt();
            if (k < 76) return bitScan();
            if (k < 79) return countBits();
            if (k < 82) return setcc();
            if (k < 85) return cmovcc();
            if (k < 87) return convert();
            if (k < 89) return carryOps();
            if (k < 91) return lahfSahf();
            if (k < 92) return bswap();
            if (k < 96) return jump();
            if (k < 97) return moffs();
            if (k < 98) return ripRelative();
            return misc();
        }

        // ---- flag bookkeeping

        boolean defined(long f) { return (def & f) == f; }
        void define(long f) { def |= f; }
        void undefine(long f) { def &= ~f; }

        /** A random condition code whose flags are all defined, or -1. */
        int cc() {
            int c0 = rnd.nextInt(16);
            for (int i = 0; i < 16; i++) {
                int c = (c0 + i) & 15;
                if (defined(CC_FLAGS[c])) return c;
            }
            return -1;
        }

        // ---- values

        long value64() {
            return switch (rnd.nextInt(8)) {
                case 0 -> rnd.nextInt(64) - 32;
                case 1 -> rnd.nextInt() & 0xFFFFFFFFL;
                case 2 -> {
                    long[] v = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 0x80000000L, 0x7FFFFFFFL, 0xFFFFFFFFL,
                            0x8000, 0x7FFF, 0xFFFF, 0x80, 0x7F, 0xFF, 0x100000000L, 0xFFFFFFFF80000000L};
                    yield v[rnd.nextInt(v.length)] + rnd.nextInt(3) - 1;
                }
                default -> rnd.nextLong();
            };
        }

        /** A value of {@code size} bytes (sign-extended to 64 bits), biased towards edge cases. */
        long value(int size) {
            long v = value64();
            return switch (size) {
                case 1 -> (byte) v;
                case 2 -> (short) v;
                case 4 -> (int) v;
                default -> v;
            };
        }

        /** An immediate as the assembler takes it for an operand of {@code size} (sign-extended imm32 for 64). */
        String imm(int size) {
            if (rnd.nextInt(3) == 0) return "$" + (rnd.nextInt(256) - 128); // imm8 forms
            return "$" + value(Math.min(size, 4));
        }

        // ---- registers and operands

        /** An operand: its AT&amp;T text; whether it needs a REX prefix; whether it is AH..BH. */
        record Opnd(String text, boolean mem, int reg, boolean rex, boolean high) {
            @Override
            public String toString() { return text; }
        }

        boolean writable(int r64) { return r64 != Cpu.RSP && r64 != base && r64 != idx; }

        int wreg() {
            int r;
            do r = rnd.nextInt(16); while (!writable(r));
            return r;
        }

        int sreg() {
            int r;
            do r = rnd.nextInt(16); while (r == Cpu.RSP);
            return r;
        }

        /** Byte register 0..19 (16..19 = AH..BH) that may be written. */
        int wbreg() {
            for (;;) {
                int n = rnd.nextInt(20);
                if (n != 4 && writable(n >= 16 ? n - 16 : n)) return n;
            }
        }

        int sbreg() {
            for (;;) {
                int n = rnd.nextInt(20);
                if (n != 4) return n;
            }
        }

        static String name(int n, int size) {
            return "%" + switch (size) {
                case 1 -> B[n];
                case 2 -> W[n];
                case 4 -> L[n];
                default -> Q[n];
            };
        }

        static char suffix(int size) {
            return switch (size) {
                case 1 -> 'b';
                case 2 -> 'w';
                case 4 -> 'l';
                default -> 'q';
            };
        }

        static Opnd reg(int n, int size) {
            boolean high = size == 1 && n >= 16;
            boolean rex = (n >= 8 && n < 16) || (size == 1 && n >= 4 && n < 8);
            return new Opnd(name(n, size), false, n, rex, high);
        }

        Opnd wR(int size) { return reg(size == 1 ? wbreg() : wreg(), size); }
        Opnd sR(int size) { return reg(size == 1 ? sbreg() : sreg(), size); }

        /** A memory operand within the data page: disp(base[,index,scale]), maybe with an ignored segment override. */
        Opnd mem() {
            int disp = switch (rnd.nextInt(4)) {
                case 0 -> 0;
                case 1, 2 -> rnd.nextInt(256) - 128;
                default -> rnd.nextInt(2048) - 1024;
            };
            boolean useIdx = idx >= 0 && rnd.nextBoolean();
            StringBuilder t = new StringBuilder();
            if (rnd.nextInt(12) == 0) t.append(new String[] {"%es:", "%cs:", "%ss:", "%ds:"}[rnd.nextInt(4)]);
            if (disp != 0) t.append(disp);
            t.append("(%").append(Q[base]);
            if (useIdx) t.append(",%").append(Q[idx]).append(',').append(1 << rnd.nextInt(4));
            t.append(')');
            return new Opnd(t.toString(), true, -1, base >= 8 || (useIdx && idx >= 8), false);
        }

        boolean memChance() { return rnd.nextInt(3) == 0; }

        Opnd wE(int size) { return memChance() ? mem() : wR(size); }
        Opnd sE(int size) { return memChance() ? mem() : sR(size); }

        /** AH..BH cannot be encoded with a REX prefix: use AL..BL instead when an operand needs REX. */
        static Opnd[] fix(Opnd... ops) {
            boolean rex = false, high = false;
            for (Opnd o : ops) {
                rex |= o.rex();
                high |= o.high();
            }
            if (rex && high) {
                for (int i = 0; i < ops.length; i++) {
                    if (ops[i].high()) ops[i] = reg(ops[i].reg() - 16, 1);
                }
            }
            return ops;
        }

        static int size(Random rnd) { return 1 << rnd.nextInt(4); }
        int size() { return size(rnd); }
        int size248() { return 2 << rnd.nextInt(3); }

        void line(String s) { out.append('\t').append(s).append('\n'); }

        String lock(Opnd dst) { return dst.mem() && rnd.nextInt(4) == 0 ? "lock " : ""; }

        /** mov $v into a register of the given size (movabs for full 64-bit values). */
        void load(int reg, int size, long v) {
            if (size == 8) line("movabs $" + v + ", " + name(reg, 8));
            else line("mov" + suffix(size) + " $" + v + ", " + name(reg, size));
        }

        // ---- instruction kinds

        static final String[] ALU = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};

        boolean alu() {
            int k = rnd.nextInt(8);
            if ((k == 2 || k == 3) && !defined(CF)) return false;
            int s = size();
            boolean cmp = k == 7;
            String mn = ALU[k] + suffix(s);
            switch (rnd.nextInt(5)) {
                case 0 -> {
                    Opnd[] o = fix(sR(s), cmp ? sR(s) : wR(s));
                    line((rnd.nextInt(3) == 0 ? "{load} " : "") + mn + " " + o[0] + ", " + o[1]);
                }
                case 1 -> line(mn + " " + imm(s) + ", " + (cmp ? sR(s) : wR(s)));
                case 2 -> {
                    Opnd[] o = fix(mem(), cmp ? sR(s) : wR(s));
                    line(mn + " " + o[0] + ", " + o[1]);
                }
                case 3 -> {
                    Opnd[] o = fix(sR(s), mem());
                    line((cmp ? "" : lock(o[1])) + mn + " " + o[0] + ", " + o[1]);
                }
                default -> {
                    Opnd m = mem();
                    line((cmp ? "" : lock(m)) + mn + " " + imm(s) + ", " + m);
                }
            }
            if (k == 1 || k == 4 || k == 6) logicFlags();
            else define(ALL);
            return true;
        }

        /** AND/OR/XOR/TEST: OF = CF = 0, SF ZF PF from the result, AF undefined. */
        void logicFlags() {
            define(CF | OF | SF | ZF | PF);
            undefine(AF);
        }

        boolean test() {
            int s = size();
            String mn = "test" + suffix(s);
            switch (rnd.nextInt(4)) {
                case 0 -> {
                    Opnd[] o = fix(sR(s), sR(s));
                    line(mn + " " + o[0] + ", " + o[1]);
                }
                case 1 -> line(mn + " " + imm(s) + ", " + sR(s));
                case 2 -> {
                    Opnd[] o = fix(sR(s), mem());
                    line(mn + " " + o[0] + ", " + o[1]);
                }
                default -> line(mn + " " + imm(s) + ", " + mem());
            }
            logicFlags();
            return true;
        }

        boolean unary() {
            int s = size();
            Opnd d = wE(s);
            String[] ops = {"inc", "dec", "neg", "not"};
            int k = rnd.nextInt(4);
            line(lock(d) + ops[k] + suffix(s) + " " + d);
            if (k < 2) define(ALL & ~CF); // INC/DEC: CF unaffected
            else if (k == 2) define(ALL);
            return true;
        }

        boolean mov() {
            int s = size();
            String mn = "mov" + suffix(s);
            switch (rnd.nextInt(6)) {
                case 0 -> {
                    Opnd[] o = fix(sR(s), wR(s));
                    String p = switch (rnd.nextInt(3)) { case 0 -> "{load} "; case 1 -> "{store} "; default -> ""; };
                    line(p + mn + " " + o[0] + ", " + o[1]);
                }
                case 1 -> {
                    if (s == 8 && rnd.nextBoolean()) line("movabs $" + value64() + ", " + wR(8));
                    else line(mn + " $" + value(Math.min(s, 4)) + ", " + wR(s));
                }
                case 2 -> {
                    Opnd[] o = fix(mem(), wR(s));
                    line(mn + " " + o[0] + ", " + o[1]);
                }
                case 3 -> {
                    Opnd[] o = fix(sR(s), mem());
                    line(mn + " " + o[0] + ", " + o[1]);
                }
                default -> line(mn + " " + imm(s) + ", " + mem());
            }
            return true;
        }

        static final String[] MOVX = {"movzbw", "movzbl", "movzbq", "movzwl", "movzwq",
                "movsbw", "movsbl", "movsbq", "movswl", "movswq", "movslq", "movsxd"};
        static final int[] MOVX_SRC = {1, 1, 1, 2, 2, 1, 1, 1, 2, 2, 4, 4};
        static final int[] MOVX_DST = {2, 4, 8, 4, 8, 2, 4, 8, 4, 8, 8, 4};

        boolean movx() {
            int k = rnd.nextInt(MOVX.length);
            int ss = MOVX_SRC[k], ds = MOVX_DST[k];
            Opnd src = sE(ss), dst = wR(ds);
            if (src.high() && (dst.rex() || ds == 8)) src = reg(src.reg() - 16, 1);
            line(MOVX[k] + " " + src + ", " + dst);
            return true;
        }

        boolean lea() {
            int ds = size248();
            boolean a32 = rnd.nextInt(4) == 0;
            String[] names = a32 ? L : Q;
            int b = rnd.nextInt(8) != 0 ? sreg() : -1;
            int i = rnd.nextInt(5) < 3 ? sreg() : -1;
            if (a32 && b < 0 && i < 0) b = sreg();
            long disp = switch (rnd.nextInt(3)) {
                case 0 -> 0;
                case 1 -> rnd.nextInt(256) - 128;
                default -> rnd.nextInt();
            };
            StringBuilder t = new StringBuilder();
            if (disp != 0 || (b < 0 && i < 0)) t.append(disp);
            if (b >= 0 || i >= 0) {
                t.append('(');
                if (b >= 0) t.append('%').append(names[b]);
                if (i >= 0) t.append(",%").append(names[i]).append(',').append(1 << rnd.nextInt(4));
                t.append(')');
            }
            line("lea" + suffix(ds) + " " + t + ", " + name(wreg(), ds));
            return true;
        }

        boolean xchg() {
            int s = size();
            Opnd[] o = memChance() ? fix(wR(s), mem()) : fix(wR(s), wR(s));
            if (rnd.nextBoolean()) line(lock(o[1]) + "xchg" + suffix(s) + " " + o[0] + ", " + o[1]);
            else line("xchg" + suffix(s) + " " + o[1] + ", " + o[0]);
            return true;
        }

        boolean cmpxchg() {
            int s = size();
            Opnd[] o = fix(sR(s), wE(s));
            if (rnd.nextBoolean()) {
                // make the accumulator equal to the destination, so the store path runs too
                line("mov" + suffix(s) + " " + o[1] + ", " + name(0, s));
            }
            line(lock(o[1]) + "cmpxchg" + suffix(s) + " " + o[0] + ", " + o[1]);
            define(ALL);
            return true;
        }

        /** CMPXCHG8B / CMPXCHG16B (16-byte aligned operand): ZF defined, other flags unaffected. */
        boolean cmpxchgWide() {
            boolean wide = rnd.nextBoolean();
            int half = wide ? 8 : 4;
            int d = 16 * (rnd.nextInt(64) - 32);
            String b = "(%" + Q[base] + ")";
            if (rnd.nextBoolean()) {
                // RDX:RAX (EDX:EAX) equal to the operand
                String sfx = wide ? "q" : "l";
                line("mov" + sfx + " " + d + b + ", " + name(0, half));
                line("mov" + sfx + " " + (d + half) + b + ", " + name(2, half));
            }
            line((rnd.nextInt(4) == 0 ? "lock " : "") + (wide ? "cmpxchg16b " : "cmpxchg8b ") + d + b);
            define(ZF);
            return true;
        }

        boolean xadd() {
            int s = size();
            Opnd[] o = fix(wR(s), wE(s));
            line(lock(o[1]) + "xadd" + suffix(s) + " " + o[0] + ", " + o[1]);
            define(ALL);
            return true;
        }

        /** MUL/IMUL: CF and OF defined; SF ZF AF PF undefined (SDM MUL, IMUL). */
        void mulFlags() {
            define(CF | OF);
            undefine(SF | ZF | AF | PF);
        }

        boolean mul() {
            int s = size();
            line((rnd.nextBoolean() ? "mul" : "imul") + suffix(s) + " " + sE(s));
            mulFlags();
            return true;
        }

        boolean imul() {
            int s = size248();
            Opnd src = sE(s);
            Opnd dst = wR(s);
            if (rnd.nextBoolean()) line("imul" + suffix(s) + " " + src + ", " + dst);
            else line("imul" + suffix(s) + " " + imm(s) + ", " + src + ", " + dst);
            mulFlags();
            return true;
        }

        /**
         * DIV/IDIV with operands that cannot fault: the divisor and the high half of the dividend
         * are loaded first (all in one group, so no jump lands between them).
         */
        boolean div() {
            int s = size();
            boolean signed = rnd.nextBoolean();
            int bits = s * 8;
            // the divisor: a register other than the dividend's, or memory
            Opnd dv;
            if (memChance()) {
                dv = mem();
            } else {
                int n;
                do n = s == 1 ? wbreg() : wreg(); while (s == 1 ? (n == 0 || n == 16) : (n == 0 || n == 2));
                dv = reg(n, s);
            }
            String lo = name(0, s), hi = s == 1 ? "%ah" : name(2, s);
            long d;
            if (!signed) {
                do d = value(dv.mem() ? Math.min(s, 4) : s); while (trunc(d, s) == 0);
                if (dv.mem()) line("mov" + suffix(s) + " $" + d + ", " + dv);
                else load(dv.reg(), s, d);
                BigInteger ud = unsigned(d, s);
                long h = rnd.nextInt(4) == 0 ? 0 : new BigInteger(bits, rnd).mod(ud).longValue();
                if (rnd.nextBoolean()) load(0, s, value(s)); // else keep the current low half
                if (s == 1) line("movb $" + (byte) h + ", %ah");
                else load(2, s, h);
            } else {
                long l = 0, h = 0;
                boolean explicit = rnd.nextBoolean();
                boolean found = false;
                d = 0;
                for (int t = 0; t < 50 && explicit && !found; t++) {
                    d = value(dv.mem() ? Math.min(s, 4) : s);
                    if (rnd.nextInt(8) == 0) d = -1;
                    if (d == 0) continue;
                    l = value(s);
                    h = switch (rnd.nextInt(4)) {
                        case 0 -> l < 0 ? -1 : 0;
                        case 1 -> value(s);
                        default -> (l < 0 ? -1 : 0) + rnd.nextInt(3) - 1;
                    };
                    BigInteger n = BigInteger.valueOf(h).shiftLeft(bits).or(unsigned(l, s));
                    BigInteger q = n.divide(BigInteger.valueOf(d));
                    found = q.bitLength() < bits; // fits in a signed bits-wide integer
                }
                if (found) {
                    emitDivisor(dv, s, d);
                    load(0, s, trunc(l, s));
                    if (s == 1) line("movb $" + (byte) h + ", %ah");
                    else load(2, s, trunc(h, s));
                } else {
                    // high half = sign of the low half; any divisor but 0 and -1 then gives a quotient that fits
                    do d = value(dv.mem() ? Math.min(s, 4) : s); while (d == 0 || d == -1);
                    emitDivisor(dv, s, d);
                    line(switch (s) { case 1 -> "cbtw"; case 2 -> "cwtd"; case 4 -> "cltd"; default -> "cqto"; });
                }
            }
            line((signed ? "idiv" : "div") + suffix(s) + " " + dv);
            undefine(ALL);
            return true;
        }

        private void emitDivisor(Opnd dv, int s, long d) {
            if (dv.mem()) line("mov" + suffix(s) + " $" + d + ", " + dv);
            else load(dv.reg(), s, d);
        }

        static long trunc(long v, int s) {
            return s == 8 ? v : v & ((1L << (s * 8)) - 1);
        }

        static BigInteger unsigned(long v, int s) {
            return new BigInteger(Long.toUnsignedString(trunc(v, s)));
        }

        static final String[] SHIFT = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sar"};

        boolean shift() {
            int k = rnd.nextInt(SHIFT.length);
            if (k == 2 || k == 3) {
                if (!defined(CF)) return false;
            }
            int s = size();
            int bits = s * 8;
            int n = switch (rnd.nextInt(4)) {
                case 0 -> 1;
                case 1 -> rnd.nextInt(256);
                default -> rnd.nextInt(bits + 2);
            };
            Opnd d = wE(s);
            String mn = SHIFT[k] + suffix(s);
            int form = rnd.nextInt(3);
            if (form == 0 && n == 1) {
                line(mn + " " + d);
            } else if (form == 1) {
                line(mn + " $" + n + ", " + d);
            } else {
                load(1, 1, n);
                line(mn + " %cl, " + d);
            }
            int m = n & (s == 8 ? 63 : 31);
            if (m == 0) return true; // no flags affected
            // SDM SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR "Flags Affected"
            if (m == 1) define(OF);
            else undefine(OF);
            define(CF);
            if (k >= 4) {
                define(SF | ZF | PF);
                undefine(AF);
                if (k != 6 && m >= bits) undefine(CF); // SHL/SHR: CF undefined when count >= operand size
            }
            return true;
        }

        boolean shiftDouble() {
            int s = size248();
            int bits = s * 8;
            int n;
            do {
                n = switch (rnd.nextInt(3)) {
                    case 0 -> 1;
                    case 1 -> rnd.nextInt(256);
                    default -> rnd.nextInt(bits + 1);
                };
            } while (s == 2 && (n & 31) > 16); // SDM SHLD/SHRD: count > operand size leaves result and flags undefined
            Opnd d = wE(s);
            Opnd src = sR(s);
            String mn = (rnd.nextBoolean() ? "shld" : "shrd") + suffix(s);
            if (rnd.nextBoolean()) {
                line(mn + " $" + n + ", " + src + ", " + d);
            } else {
                load(1, 1, n);
                line(mn + " %cl, " + src + ", " + d);
            }
            int m = n & (s == 8 ? 63 : 31);
            if (m == 0) return true;
            define(CF | SF | ZF | PF);
            undefine(AF);
            if (m == 1) define(OF);
            else undefine(OF);
            return true;
        }

        boolean bt() {
            int s = size248();
            int k = rnd.nextInt(4);
            String mn = new String[] {"bt", "bts", "btr", "btc"}[k] + suffix(s);
            switch (rnd.nextInt(4)) {
                case 0 -> line(mn + " " + sR(s) + ", " + (k == 0 ? sR(s) : wR(s)));
                case 1 -> line(mn + " $" + rnd.nextInt(256) + ", " + (k == 0 ? sR(s) : wR(s)));
                case 2 -> {
                    Opnd m = mem();
                    line((k == 0 ? "" : lock(m)) + mn + " $" + rnd.nextInt(256) + ", " + m);
                }
                default -> {
                    // register bit offset into memory: a small signed offset, loaded first
                    int r = wreg();
                    load(r, s, rnd.nextInt(8192) - 4096);
                    Opnd m = mem();
                    line((k == 0 ? "" : lock(m)) + mn + " " + name(r, s) + ", " + m);
                }
            }
            define(CF);
            undefine(OF | SF | AF | PF); // ZF unaffected
            return true;
        }

        boolean bitScan() {
            int s = size248();
            Opnd src = memChance() ? mem() : wR(s);
            // make the source non-zero (BSF/BSR leave the destination undefined for a zero source)
            if (rnd.nextBoolean()) {
                int bit = rnd.nextInt(s == 2 ? 16 : 32);
                line("or" + suffix(s) + " $" + (s == 2 ? (short) (1 << bit) : (1 << bit)) + ", " + src);
            } else {
                long v;
                do v = value(s == 8 && src.mem() ? 4 : s); while (v == 0);
                if (src.mem()) line("mov" + suffix(s) + " $" + v + ", " + src);
                else load(src.reg(), s, v);
            }
            line((rnd.nextBoolean() ? "bsf" : "bsr") + suffix(s) + " " + src + ", " + wR(s));
            define(ZF);
            undefine(CF | OF | SF | AF | PF);
            return true;
        }

        boolean countBits() {
            int k = rnd.nextInt(3);
            if (k == 0 && !feat.popcnt() || k == 1 && !feat.bmi1() || k == 2 && !feat.lzcnt()) return false;
            int s = size248();
            line(new String[] {"popcnt", "tzcnt", "lzcnt"}[k] + suffix(s) + " " + sE(s) + ", " + wR(s));
            if (k == 0) {
                define(ALL);
            } else {
                define(CF | ZF);
                undefine(OF | SF | PF | AF);
            }
            return true;
        }

        boolean setcc() {
            int c = cc();
            if (c < 0) return false;
            line("set" + CC[c] + " " + wE(1));
            return true;
        }

        boolean cmovcc() {
            int c = cc();
            if (c < 0) return false;
            int s = size248();
            line("cmov" + CC[c] + " " + sE(s) + ", " + wR(s));
            return true;
        }

        boolean convert() {
            line(new String[] {"cbtw", "cwtl", "cltq", "cwtd", "cltd", "cqto"}[rnd.nextInt(6)]);
            return true;
        }

        boolean carryOps() {
            int k = rnd.nextInt(3);
            if (k == 2 && !defined(CF)) return false;
            line(new String[] {"clc", "stc", "cmc"}[k]);
            define(CF);
            return true;
        }

        boolean lahfSahf() {
            if (rnd.nextBoolean()) {
                line("sahf");
                define(SF | ZF | AF | PF | CF);
                return true;
            }
            if (!defined(SF | ZF | AF | PF | CF)) return false;
            line("lahf");
            return true;
        }

        boolean bswap() {
            line("bswap " + name(wreg(), rnd.nextBoolean() ? 4 : 8));
            return true;
        }

        /** A forward branch to a later group boundary of this sequence. */
        boolean jump() {
            int kind = rnd.nextInt(10);
            int target;
            if (kind < 8) {
                target = group + 1 + rnd.nextInt(groups - group);
                String lbl = ".L" + index + "_" + target;
                if (kind == 7) {
                    line((rnd.nextBoolean() ? "{disp32} " : "") + "jmp " + lbl);
                } else {
                    int c = cc();
                    if (c < 0) return false;
                    line((rnd.nextInt(3) == 0 ? "{disp32} " : "") + "j" + CC[c] + " " + lbl);
                }
            } else {
                // rel8-only forms: keep the target close
                target = group + 1 + rnd.nextInt(Math.min(2, groups - group));
                String lbl = ".L" + index + "_" + target;
                if (kind == 8) {
                    line(new String[] {"jrcxz", "jecxz"}[rnd.nextInt(2)] + " " + lbl);
                } else {
                    int l = rnd.nextInt(3);
                    if (l > 0 && !defined(ZF)) return false;
                    load(1, 4, rnd.nextInt(4)); // a small count, so RCX = 0 and 1 happen
                    line(new String[] {"loop", "loope", "loopne"}[l] + " " + lbl);
                }
            }
            label[target] = true;
            pend[target] &= def;
            return true;
        }

        /** MOV with a 64-bit absolute address (A0-A3). */
        boolean moffs() {
            int s = size();
            long addr = dataLin + BASE_OFF + rnd.nextInt(2048) - 1024;
            String a = name(0, s);
            if (rnd.nextBoolean()) line("movabs 0x" + Long.toHexString(addr) + ", " + a);
            else line("movabs " + a + ", 0x" + Long.toHexString(addr));
            return true;
        }

        /** RIP-relative reads of the instruction's own bytes (the same in both code buffers). */
        boolean ripRelative() {
            int s = 1 << rnd.nextInt(3);
            String lbl = ".Lr" + index + "_" + group;
            out.append(lbl).append(":\n");
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    Opnd d = wR(s);
                    line("mov" + suffix(s) + " " + lbl + "(%rip), " + d);
                }
                case 1 -> {
                    line("cmp" + suffix(s) + " " + sR(s) + ", " + lbl + "(%rip)");
                    define(ALL);
                }
                default -> line("movzbl " + lbl + "+" + rnd.nextInt(4) + "(%rip), " + name(wreg(), 4));
            }
            return true;
        }

        boolean misc() {
            switch (rnd.nextInt(5)) {
                case 0 -> line(new String[] {"nop", "nopl 0(%rax)", "nopw 0(%rax,%rax,1)", "xchg %ax, %ax", "pause"}[rnd.nextInt(5)]);
                case 1 -> line(new String[] {"lfence", "mfence", "sfence"}[rnd.nextInt(3)]);
                case 2 -> {
                    if (base != Cpu.RBX) return false;
                    line("xlatb"); // AL := [RBX + AL], inside the data page
                }
                default -> {
                    if (base == Cpu.RSI || base == Cpu.RDI || idx == Cpu.RSI || idx == Cpu.RDI) return false;
                    return strings();
                }
            }
            return true;
        }

        /** A string instruction (DF = 0) with RSI/RDI inside the data page and a small count. */
        boolean strings() {
            int s = size();
            int k = rnd.nextInt(5);
            boolean rep = rnd.nextInt(3) != 0;
            line("lea " + (rnd.nextInt(1024) - 512) + "(%" + Q[base] + "), %rsi");
            line("lea " + (rnd.nextInt(1024) - 512) + "(%" + Q[base] + "), %rdi");
            int n = rnd.nextInt(9);
            if (rep) load(1, 8, n);
            char x = suffix(s);
            String op = new String[] {"movs", "stos", "lods", "cmps", "scas"}[k] + x;
            String prefix = !rep ? "" : k >= 3 ? (rnd.nextBoolean() ? "repe " : "repne ") : "rep ";
            line(prefix + op);
            if (k >= 3 && (!rep || n > 0)) define(ALL);
            return true;
        }
    }
}
