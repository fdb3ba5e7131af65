package org.hvlab.guests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hvlab.machine.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The lhv guest hypervisor (guests/src/main/asm/lhv.S) on 1, 2 and 4 CPUs, for each option bit
 * and combinations. Besides the pass lines, every count in a CPU's summary line is what the SDM
 * makes of the workload (docs/vmx-facts.md): CPUID, VMCALL, I/O (unconditional I/O exiting) and
 * RDMSR/WRMSR exit unless an MSR bitmap bit is clear; one NMI-window exit per injected NMI, each
 * counted once by the guest's NMI handler; MTF exits after each of the 3 instructions stepped;
 * and the hypervisor's own exit count equals the simulator's.
 */
class LhvTest {
    static final int MSRLIST = 0x1, EPT = 0x2, VPID = 0x4, UG = 0x8, USER = 0x10, EPT2M = 0x20, EPT1G = 0x40,
            MSRBMP = 0x80, NMI = 0x100, TIMER = 0x200, MTF = 0x400, ALL = 0x7FF;

    static final Pattern ITER = Pattern.compile("CPU\\(0x([0-9a-f]{2})\\): LHV test iter (\\d+)");
    static final Pattern DONE = Pattern.compile("CPU\\(0x([0-9a-f]{2})\\): LHV done (.*)");

    /** Runs lhv and checks everything the output promises; returns the summary counts per CPU. */
    static List<Map<String, Long>> check(int cpus, long seed, int opt, int iters) {
        return check(cpus, seed, opt, iters, "opt=0x" + Integer.toHexString(opt) + " iters=" + iters);
    }

    static List<Map<String, Long>> check(int cpus, long seed, int opt, int iters, String cmdline) {
        String what = "cpus=" + cpus + " seed=" + seed + " " + cmdline;
        var r = Guests.run("lhv", cpus, seed, cmdline);
        assertEquals(Outcome.EXITED, r.result().outcome(), what + ": " + r.result().message() + "\n" + r.serial());
        assertEquals(0, r.result().exitStatus(), what + "\n" + r.serial());
        String[] lines = r.serial().split("\n", -1);
        assertEquals("", lines[lines.length - 1], what + ": output ends with a newline");
        int effective = (opt & (UG | EPT2M | EPT1G)) != 0 ? opt | EPT : opt;
        assertEquals(String.format("lhv: opt=0x%03x iters=%d cpus=%d", effective, iters, cpus), lines[0], what);
        assertEquals("lhv: ok", lines[lines.length - 2], what);

        int[] next = new int[cpus];
        List<Map<String, Long>> done = new ArrayList<>();
        for (int i = 0; i < cpus; i++) done.add(null);
        for (int i = 1; i < lines.length - 2; i++) {
            Matcher m = ITER.matcher(lines[i]);
            Matcher d = DONE.matcher(lines[i]);
            if (m.matches()) {
                int cpu = Integer.parseInt(m.group(1), 16);
                assertTrue(cpu < cpus, what + ": " + lines[i]);
                assertEquals(null, done.get(cpu), what + ": iteration after the summary: " + lines[i]);
                assertEquals(++next[cpu], Integer.parseInt(m.group(2)), what + ": " + lines[i]);
            } else if (d.matches()) {
                int cpu = Integer.parseInt(d.group(1), 16);
                Map<String, Long> counts = new HashMap<>();
                for (String kv : d.group(2).split(" ")) {
                    String[] p = kv.split("=");
                    counts.put(p[0], Long.parseLong(p[1]));
                }
                done.set(cpu, counts);
            } else {
                throw new AssertionError(what + ": unexpected line " + lines[i]);
            }
        }
        for (int cpu = 0; cpu < cpus; cpu++) {
            String c = what + " CPU " + cpu;
            assertEquals(iters, next[cpu], c + ": iteration lines");
            Map<String, Long> n = done.get(cpu);
            assertTrue(n != null, c + ": summary line");
            assertEquals(2L * iters, n.get("cpuid"), c + ": two CPUID exits per iteration");
            assertEquals(iters + ((opt & UG) != 0 ? 1L : 0), n.get("vmcall"), c + ": VMCALL exits (+ the real-mode hello)");
            assertEquals(2L * iters, n.get("io"), c + ": OUT and IN exits");
            assertEquals((long) iters * ((opt & MSRBMP) != 0 ? 3 : 8), n.get("msr"), c + ": RDMSR/WRMSR exits");
            long nmis = (opt & NMI) != 0 ? (iters - 1) / 3 : 0;
            assertEquals(nmis, n.get("nmi-windows"), c + ": NMI-window exits");
            assertEquals(nmis, n.get("nmis-injected"), c + ": NMIs injected");
            assertEquals(nmis, n.get("guest-nmis"), c + ": NMIs the guest's handler counted");
            if ((opt & TIMER) != 0) assertTrue(n.get("timer") > 0, c + ": preemption timer exits");
            else assertEquals(0L, n.get("timer"), c + ": no preemption timer exits");
            assertEquals((opt & MTF) != 0 ? 3L * (iters - 1) : 0, n.get("mtf"), c + ": MTF exits");
            long sum = n.get("cpuid") + n.get("vmcall") + n.get("io") + n.get("msr") + n.get("nmi-windows")
                    + n.get("timer") + n.get("mtf") + ((opt & UG) != 0 ? 1 : 0); // UG: the WRMSR to EFER
            assertEquals(sum, n.get("exits"), c + ": every exit is one of the above");
            assertEquals(n.get("exits"), r.result().cpus().get(cpu).vmExits(), c + ": the simulator's VM exit count");
        }
        return done;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void defaultRunPrintsThirtyIterationsPerCpu(int cpus) {
        // an empty command line: opt 0, 30 iterations (more than the 20 of the nested pass rule)
        for (long seed = 1; seed <= 3; seed++) check(cpus, seed, 0, 30, "");
    }

    @ParameterizedTest
    @ValueSource(ints = {MSRLIST, EPT, VPID, UG, USER, EPT2M, EPT1G, MSRBMP, NMI, TIMER, MTF})
    void eachOptionAlone(int opt) {
        for (int cpus : new int[] {1, 2, 4}) check(cpus, cpus, opt, 10);
    }

    @ParameterizedTest
    @ValueSource(ints = {MSRLIST | MSRBMP, UG | USER, EPT | VPID | EPT2M, NMI | TIMER | MTF, NMI | MTF | USER,
            ALL, ALL & ~EPT1G, ALL & ~(EPT1G | EPT2M)})
    void combinations(int opt) {
        for (long seed = 1; seed <= 3; seed++) check(4, seed, opt, 12);
        check(2, 9, opt, 25);
    }

    @Test
    void allOptionsOnOneCpuAtDefaultLength() {
        var n = check(1, 5, ALL, 30).get(0);
        assertEquals(9L, n.get("guest-nmis"));
        assertEquals(87L, n.get("mtf"));
    }

    @Test
    void badIterationCountIsRefused() {
        var r = Guests.run("lhv", 1, 1, "iters=0");
        assertEquals("lhv: iters must be 1..65535\n", r.serial());
        assertEquals(1, r.result().exitStatus());
    }
}
