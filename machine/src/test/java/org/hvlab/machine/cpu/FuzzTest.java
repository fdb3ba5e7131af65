package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.mem.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * Robustness fuzzing of the decoder, interpreter and event delivery: random byte streams run as
 * code for a bounded number of instructions from a random register state, in 64-bit mode at
 * CPL 0 and CPL 3, in 32-bit protected mode and in real mode. Each seed gets a fresh
 * {@link TestCpu} with an IDT whose gates all lead into more random bytes, so faults are
 * delivered and execution goes on (nested faults, #DF and triple-fault shutdown included).
 *
 * <p>Only architectural outcomes are accepted: no Java exception escapes {@link Cpu#run},
 * every exception reported to the observer is one of the architectural vectors 0-31, and after
 * every step RIP fits the current mode (canonical in 64-bit mode), RFLAGS has its fixed bits
 * right, CPL is 0-3 (0 in real mode) and selectors are 16-bit. A failure names the mode and
 * seed; {@code -Dhvlab.fuzz.seeds=N} changes the number of seeds per mode.
 */
class FuzzTest {
    static final long CODE = TestCpu.CODE;      // 64-bit and 32-bit code
    static final long HANDLERS = 0x220000;      // 256 handlers of 16 random bytes each
    static final long REAL_CODE = 0x10000;      // real mode: CS = 0x1000
    static final long REAL_HANDLERS = 0x20000;  // real mode: IVT entries 0x2000:16*v
    static final long IDT = 0xA000, TSS = 0x9000;
    static final long STACK = 0x80000, STACK0 = 0x7F000;
    static final int CODE_BYTES = 4096;
    static final long HIGH_PAGE = 0xFFFF_8000_0000_0000L; // a 4 KiB page in the upper half
    static final long TOP_PAGE = 0x0000_7FFF_FFFF_F000L;  // the last page below the canonical hole
    static final long NONCANONICAL_NEXT = TOP_PAGE + 4096;
    static final long BASE_SEED = 0xF0220000L;

    enum Mode { LONG_CPL0, LONG_CPL3, PROTECTED32, REAL16 }

    /** Counts over one mode's run. */
    static final class Stats {
        long seeds, steps, retired, exceptions, interrupts;
        final long[] vectors = new long[32];
        long shutdown, halted, exited, budget;
        final List<String> problems = new ArrayList<>();
    }

    @Test
    void longModeCpl0() {
        fuzz(Mode.LONG_CPL0, 300);
    }

    @Test
    void longModeCpl3() {
        fuzz(Mode.LONG_CPL3, 300);
    }

    @Test
    void protectedMode32() {
        fuzz(Mode.PROTECTED32, 300);
    }

    @Test
    void realMode() {
        fuzz(Mode.REAL16, 300);
    }

    private static void fuzz(Mode mode, int maxSteps) {
        int seeds = Integer.getInteger("hvlab.fuzz.seeds", 10_000);
        Stats st = new Stats();
        long t0 = System.nanoTime();
        for (int i = 0; i < seeds && st.problems.size() < 10; i++) {
            runSeed(mode, BASE_SEED + ((long) mode.ordinal() << 32) + i, maxSteps, st);
        }
        long t1 = System.nanoTime();
        StringBuilder v = new StringBuilder();
        for (int i = 0; i < 32; i++) if (st.vectors[i] > 0) v.append(' ').append(CpuFault.mnemonic(i)).append('=').append(st.vectors[i]);
        System.out.printf("fuzz %s: %d seeds, %d steps (%d instructions retired), %d exceptions [%s ], %d interrupts; "
                        + "ended: %d budget, %d halted, %d shutdown, %d exited; %.1f s%n",
                mode, st.seeds, st.steps, st.retired, st.exceptions, v, st.interrupts,
                st.budget, st.halted, st.shutdown, st.exited, (t1 - t0) / 1e9);
        if (!st.problems.isEmpty()) fail(mode + ": " + st.problems.size() + " problem(s):\n" + String.join("\n", st.problems));
    }

    private static void runSeed(Mode mode, long seed, int maxSteps, Stats st) {
        Random rnd = new Random(seed);
        TestCpu tc = new TestCpu();
        Cpu c = tc.cpu;
        List<String> bad = new ArrayList<>();
        long[] exc = {0}, ints = {0};
        c.bus.subscribe(e -> {
            if (e instanceof org.hvlab.machine.events.MachineEvent.ExceptionRaised x) {
                exc[0]++;
                if (x.vector() < 0 || x.vector() > 31) bad.add("exception event with vector " + x.vector());
                else st.vectors[x.vector()]++;
            } else {
                ints[0]++;
            }
        }, org.hvlab.machine.events.MachineEvent.Kind.EXCEPTION, org.hvlab.machine.events.MachineEvent.Kind.INTERRUPT);
        setUp(mode, tc, rnd);
        st.seeds++;
        int step = 0;
        boolean tracing = Long.getLong("hvlab.fuzz.trace", -1L) == seed;
        for (; step < maxSteps; step++) {
            if (tc.machine.stopped() || c.activity != Cpu.ACTIVE) break;
            long rip = c.rip;
            if (tracing) System.out.println(traceLine(c, step, exc[0]));
            long[] before = c.cpl == 3 ? privileged(c) : null;
            long excBefore = exc[0], intsBefore = ints[0];
            boolean was64 = c.is64();
            try {
                c.run(1);
            } catch (Throwable t) {
                java.io.StringWriter sw = new java.io.StringWriter();
                t.printStackTrace(new java.io.PrintWriter(sw));
                String trace = sw.toString().lines().limit(8).reduce((a, b) -> a + "\n" + b).orElse("");
                st.problems.add(String.format("%s seed 0x%x step %d: %s escaped cpu.run at rip=0x%x bytes=[%s]%n%s",
                        mode, seed, step, t, rip, bytesAt(tc, rip), trace));
                return;
            }
            String why = check(c);
            boolean delivered = exc[0] != excBefore || ints[0] != intsBefore;
            if (why == null && was64 && rip == NONCANONICAL_NEXT && !delivered) {
                why = "executing at non-canonical " + Long.toHexString(rip) + " raised no exception";
            }
            if (why == null && before != null) why = checkUser(before, privileged(c), delivered || c.cpl != 3);
            if (why == null && !bad.isEmpty()) why = bad.get(0);
            if (why != null) {
                st.problems.add(String.format("%s seed 0x%x step %d (rip before 0x%x, bytes=[%s]): %s",
                        mode, seed, step, rip, bytesAt(tc, rip), why));
                return;
            }
        }
        st.steps += step;
        st.retired += c.instructions;
        st.exceptions += exc[0];
        st.interrupts += ints[0];
        if (c.activity == Cpu.SHUTDOWN) st.shutdown++;
        else if (tc.machine.stopped()) st.exited++;
        else if (c.activity != Cpu.ACTIVE) st.halted++;
        else st.budget++;
    }

    /** Architectural sanity of the state after a step; null if fine. */
    static String check(Cpu c) {
        long f = c.rflags();
        if ((f & 2) == 0) return "RFLAGS bit 1 is clear: " + Long.toHexString(f);
        if ((f & ~0x3F7FD7L) != 0) return "RFLAGS reserved bits set: " + Long.toHexString(f);
        if (c.cpl < 0 || c.cpl > 3) return "CPL " + c.cpl;
        if ((c.cr0 & Cpu.CR0_PE) == 0 && c.cpl != 0) return "CPL " + c.cpl + " in real mode";
        if (c.activity < Cpu.ACTIVE || c.activity > Cpu.WAIT_SIPI) return "activity " + c.activity;
        if (c.is64()) {
            // sequential execution can end an instruction at the top of the lower half; the next
            // fetch then faults (checked in runSeed), any other non-canonical RIP is wrong
            if (!Cpu.canonical(c.rip) && c.rip != NONCANONICAL_NEXT) return "non-canonical RIP " + Long.toHexString(c.rip);
            if (!c.longModeActive() || !c.seg[Segment.CS].longMode()) return "64-bit decoding outside 64-bit mode";
        } else if ((c.rip >>> 32) != 0) {
            return "RIP above 4 GiB outside 64-bit mode: " + Long.toHexString(c.rip);
        }
        for (int s = 0; s < 6; s++) {
            if ((c.seg[s].selector & ~0xFFFF) != 0) return Segment.NAMES[s] + " selector " + Integer.toHexString(c.seg[s].selector);
        }
        return null;
    }

    /** One line of a step trace (-Dhvlab.fuzz.trace=SEED): state before the step and its decoding. */
    private static String traceLine(Cpu c, int step, long exceptions) {
        String insn;
        try {
            long la = c.is64() ? c.rip : (c.seg[Segment.CS].base + c.rip) & 0xFFFFFFFFL;
            insn = c.decoder.decode(la, c.decodeMode()).toString();
        } catch (CpuFault f) {
            insn = "(fetch fault " + f.getMessage() + ")";
        }
        return String.format("%4d cpl=%d cs=%04x rip=%x rsp=%x exc=%d  %s", step, c.cpl, c.seg[Segment.CS].selector,
                c.rip, c.r[Cpu.RSP], exceptions, insn);
    }

    /** State that code at CPL 3 must not change: CR0, CR3, CR4, EFER, GDTR, IDTR, TR, LDTR, HLT, IOPL and IF. */
    static long[] privileged(Cpu c) {
        long f = c.rflags();
        return new long[] {c.cr0, c.cr3, c.cr4, c.efer, c.gdtrBase, c.gdtrLimit, c.idtrBase, c.idtrLimit,
                c.tr.selector, c.tr.base, c.ldtr.selector, c.ldtr.base, c.activity == Cpu.HLT ? 1 : 0,
                f & LazyFlags.IOPL, f & LazyFlags.IF};
    }

    static final String[] PRIVILEGED = {"CR0", "CR3", "CR4", "EFER", "GDTR.base", "GDTR.limit", "IDTR.base",
            "IDTR.limit", "TR", "TR.base", "LDTR", "LDTR.base", "HLT", "IOPL", "IF"};

    /**
     * A step that started at CPL 3 changed privileged state. Event delivery (also INT n, SYSCALL:
     * anything that leaves CPL 3) may clear IF; otherwise IF may change only with IOPL = 3 (CLI,
     * STI, POPF; SDM Vol.1 3.4.3.3).
     */
    static String checkUser(long[] before, long[] after, boolean delivered) {
        for (int i = 0; i < before.length; i++) {
            if (before[i] == after[i]) continue;
            if (i == 14 && (delivered || before[13] == LazyFlags.IOPL)) continue;
            return "a step at CPL 3 changed " + PRIVILEGED[i] + " from " + Long.toHexString(before[i])
                    + " to " + Long.toHexString(after[i]);
        }
        return null;
    }

    private static String bytesAt(TestCpu tc, long rip) {
        Cpu c = tc.cpu;
        long la = c.is64() ? rip : (c.seg[Segment.CS].base + rip) & 0xFFFFFFFFL;
        if (la < 0 || la >= tc.machine.memory().size() - 16) return "?";
        byte[] b = tc.machine.memory().readBytes(la, 15);
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x ", x & 0xFF));
        return s.toString().trim();
    }

    // ---------------------------------------------------------------- machine set-up

    private static void setUp(Mode mode, TestCpu tc, Random rnd) {
        Cpu c = tc.cpu;
        PhysicalMemory m = tc.machine.memory();
        boolean real = mode == Mode.REAL16;
        long code = real ? REAL_CODE : CODE;
        long handlers = real ? REAL_HANDLERS : HANDLERS;
        m.writeBytes(code, randomCode(rnd, CODE_BYTES), 0, CODE_BYTES);
        m.writeBytes(handlers, randomCode(rnd, 16 * 256), 0, 16 * 256);
        // a scratch page at an upper-half address, and one more in the low 4 GiB, both random
        tc.map4k(HIGH_PAGE, 0x500000, true, true, false);
        tc.map4k(TOP_PAGE, 0x501000, true, true, false);
        byte[] scratch = new byte[8192];
        rnd.nextBytes(scratch);
        m.writeBytes(0x500000, scratch, 0, scratch.length);
        m.writeBytes(0x400000, scratch, 0, 4096);

        for (int r = 0; r < 16; r++) c.r[r] = randomValue(rnd);
        c.r[Cpu.RSP] = rnd.nextInt(8) == 0 ? randomValue(rnd) : STACK - 8 * rnd.nextInt(64);
        long flags = 2 | (rnd.nextLong() & (LazyFlags.ARITH | LazyFlags.DF | LazyFlags.AC));
        if (rnd.nextBoolean()) flags |= LazyFlags.IF;
        if (mode == Mode.LONG_CPL3) flags |= (long) rnd.nextInt(4) << 12; // IOPL

        switch (mode) {
            case LONG_CPL0, LONG_CPL3 -> {
                // 64-bit IDT: interrupt or trap gates (DPL 3, so INT n works from CPL 3) into random code
                for (int v = 0; v < 256; v++) {
                    long off = handlers + 16L * v;
                    int type = rnd.nextInt(4) == 0 ? 0xF : 0xE;
                    long lo = (off & 0xFFFF) | (0x08L << 16) | ((long) (0x80 | 0x60 | type) << 40) | ((off >>> 16) & 0xFFFF) << 48;
                    m.write64(IDT + 16L * v, lo);
                    m.write64(IDT + 16L * v + 8, off >>> 32);
                }
                c.idtrBase = IDT;
                c.idtrLimit = 0xFFF;
                // TSS (RSP0 for delivery from CPL 3) with its descriptor at GDT index 7
                m.write64(TSS + 4, STACK0);
                long tssDesc = 0x67 | ((TSS & 0xFFFFFF) << 16) | (0x8BL << 40) | ((TSS >>> 24) & 0xFF) << 56;
                m.write64(BootLoader.GDT + 7 * 8, tssDesc);
                m.write64(BootLoader.GDT + 8 * 8, 0);
                c.gdtrLimit = 9 * 8 - 1;
                c.tr.set(0x38, TSS, 0x67, 0x8B);
                c.rip = switch (rnd.nextInt(8)) {
                    // the last bytes before an unmapped page, or before the non-canonical hole
                    case 0 -> HIGH_PAGE + 4096 - 1 - rnd.nextInt(16);
                    case 1 -> TOP_PAGE + 4096 - 1 - rnd.nextInt(16);
                    default -> CODE;
                };
                if (mode == Mode.LONG_CPL3) {
                    c.seg[Segment.CS].set(0x2B, 0, 0xFFFFFFFFL, 0xA0FB);
                    for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS, Segment.FS, Segment.GS}) {
                        c.seg[s].set(0x33, 0, 0xFFFFFFFFL, 0xC0F3);
                    }
                    c.cpl = 3;
                }
            }
            case PROTECTED32 -> {
                // flat 32-bit code 0x18 and data 0x10 from the boot GDT, no paging
                c.cr0 = Cpu.CR0_PE | Cpu.CR0_ET | Cpu.CR0_NE;
                c.cr4 = 0;
                c.efer = 0;
                c.cr3 = 0;
                c.seg[Segment.CS].set(0x18, 0, 0xFFFFFFFFL, 0xC09B);
                for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS, Segment.FS, Segment.GS}) {
                    c.seg[s].set(0x10, 0, 0xFFFFFFFFL, 0xC093);
                }
                c.gdtrLimit = TestCpu.GDT.length * 8 - 1;
                for (int v = 0; v < 256; v++) {
                    long off = handlers + 16L * v;
                    int type = rnd.nextInt(4) == 0 ? 0xF : 0xE;
                    long g = (off & 0xFFFF) | (0x18L << 16) | ((long) (0x80 | 0x60 | type) << 40) | ((off >>> 16) & 0xFFFF) << 48;
                    m.write64(IDT + 8L * v, g);
                }
                c.idtrBase = IDT;
                c.idtrLimit = 0x7FF;
                c.tr.set(0, 0, 0xFFFF, 0x8B);
                for (int r = 0; r < 16; r++) c.r[r] &= 0xFFFFFFFFL;
                c.r[Cpu.RSP] = STACK - 4 * rnd.nextInt(64);
                c.rip = CODE;
            }
            case REAL16 -> {
                c.resetToWaitForSipi();
                c.startAtSipi((int) (REAL_CODE >>> 12)); // CS = 0x1000, IP = 0
                // IVT: every vector to 0x2000:16*v
                for (int v = 0; v < 256; v++) m.write32(4L * v, (int) ((REAL_HANDLERS >>> 4) << 16 | (16 * v)));
                c.seg[Segment.SS].realMode(0x3000);
                c.seg[Segment.DS].realMode(rnd.nextInt(0x10000));
                c.seg[Segment.ES].realMode(rnd.nextInt(0x10000));
                for (int r = 0; r < 16; r++) c.r[r] = rnd.nextBoolean() ? rnd.nextInt(0x10000) : randomValue(rnd) & 0xFFFFFFFFL;
                c.r[Cpu.RSP] = 0xFFF0 - 2 * rnd.nextInt(64);
            }
        }
        c.setRflags(flags);
        c.modeChanged();
        c.flushTlb();
    }

    private static long randomValue(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> rnd.nextInt(0x10000);
            case 1 -> rnd.nextInt(128 << 20);                 // somewhere in RAM
            case 2 -> rnd.nextBoolean() ? 0x400000 + rnd.nextInt(4096) : CODE + rnd.nextInt(4096); // scratch, code
            case 3 -> HIGH_PAGE + rnd.nextInt(4096);           // the upper-half page
            default -> rnd.nextLong();
        };
    }

    /**
     * Random bytes, half of the time shaped like instructions (prefixes, an opcode that is often
     * two-byte, ModRM, SIB, displacement and immediate bytes) to get past the first byte more often.
     */
    static byte[] randomCode(Random rnd, int n) {
        byte[] b = new byte[n];
        if (rnd.nextBoolean()) {
            rnd.nextBytes(b);
            return b;
        }
        int[] prefixes = {0x66, 0x67, 0xF2, 0xF3, 0xF0, 0x2E, 0x3E, 0x26, 0x36, 0x64, 0x65};
        int i = 0;
        while (i < n) {
            while (i < n && rnd.nextInt(4) == 0) b[i++] = (byte) prefixes[rnd.nextInt(prefixes.length)];
            if (i < n && rnd.nextInt(3) == 0) b[i++] = (byte) (0x40 + rnd.nextInt(16)); // REX
            if (i < n && rnd.nextInt(3) == 0) b[i++] = 0x0F;
            int rest = 1 + rnd.nextInt(8);
            for (int k = 0; k < rest && i < n; k++) b[i++] = (byte) rnd.nextInt(256);
        }
        return b;
    }
}
