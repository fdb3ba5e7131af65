package org.hvlab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Entry point of {@code bench/run}: runs the benchmarks with JMH (any JMH command-line option
 * may be given; without a benchmark pattern all of org.hvlab.bench run) and prints a table of
 * interpreted and native instructions per second, their ratio, and the switch costs.
 */
public final class Report {
    private static final double ALU_TARGET = 100e6, SWITCH_TARGET_NS = 1000;

    private Report() {}

    public static void main(String[] args) throws RunnerException, CommandLineOptionException, IOException {
        for (String a : args) {
            if (a.equals("-h") || a.equals("-l") || a.equals("-lp") || a.equals("-lprof") || a.equals("-lrf")) {
                org.openjdk.jmh.Main.main(args);
                return;
            }
        }
        String busyBefore = hostBusy();
        CommandLineOptions cmd = new CommandLineOptions(args);
        ChainedOptionsBuilder b = new OptionsBuilder().parent(cmd);
        if (cmd.getIncludes().isEmpty()) b.include("org\\.hvlab\\.bench\\..*");
        Collection<RunResult> results = new Runner(b.build()).run();
        String table = table(results)
                + String.format(Locale.ROOT, "host CPU busy in the second before the run: %s, after it: %s"
                        + " (figures mean little unless the host was otherwise idle)%n", busyBefore, hostBusy());
        System.out.println();
        System.out.print(table);
        String out = System.getProperty("hvlab.bench.table");
        if (out != null) {
            try {
                Files.writeString(Path.of(out), table);
            } catch (IOException e) {
                System.err.println("could not write " + out + ": " + e.getMessage());
            }
        }
    }

    /** A score with its error, keyed by "Class.method" or "Class.method:quantum". */
    private record Score(double value, double error, String unit) {
        /** The error, or 0 when JMH had too few iterations to give one. */
        double err() {
            return Double.isNaN(error) ? 0 : error;
        }
    }

    static String table(Collection<RunResult> results) {
        TreeMap<String, Score> s = new TreeMap<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
            String q = r.getParams().getParam("quantum");
            if (q != null) name += ":" + q;
            String h = r.getParams().getParam("hypervisor");
            if (h != null) name += ":" + h;
            String sc = r.getParams().getParam("scenario");
            if (sc != null) name += ":" + sc;
            String op = r.getParams().getParam("op");
            if (op != null) name += ":" + op;
            Result<?> p = r.getPrimaryResult();
            s.put(name, new Score(p.getScore(), p.getScoreError(), p.getScoreUnit()));
        }
        StringBuilder sb = new StringBuilder();
        String cpu = cpuModel();
        sb.append(String.format(Locale.ROOT, "hvlab benchmarks: %s, %d host CPUs, JDK %s (%s)%n%n", cpu,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), System.getProperty("java.vm.name")));

        sb.append(String.format(Locale.ROOT, "%-38s %24s %20s %14s%n", "guest loop (one host core)", "interpreted [M instr/s]",
                "native [M instr/s]", "native/interp"));
        Score aluNative = s.get("AluLoopBench.host");
        Score aluInterp = s.get("AluLoopBench.interpreted");
        row(sb, "(a) ALU/branch, 1 CPU", aluInterp, aluNative);
        row(sb, "(b) memory (8 KiB), 1 CPU", s.get("MemoryLoopBench.interpreted"), s.get("MemoryLoopBench.host"));
        List<String> quanta = new ArrayList<>();
        for (String k : s.keySet()) if (k.startsWith("SwitchingLoopBench.interpreted:")) quanta.add(k.substring(k.indexOf(':') + 1));
        quanta.sort((x, y) -> Integer.compare(Integer.parseInt(x), Integer.parseInt(y)));
        for (String q : quanta) {
            row(sb, "(c) ALU/branch, 2 CPUs, quantum " + q, s.get("SwitchingLoopBench.interpreted:" + q), aluNative);
        }
        if (!quanta.isEmpty()) sb.append(String.format(Locale.ROOT, "    (c) compares with the native ALU loop of (a)%n"));
        sb.append(String.format(Locale.ROOT, "    all figures are means with 99.9%% confidence intervals%n%n"));

        Score co = s.get("SwitchCostBench.coroutine");
        Score sched = s.get("SwitchCostBench.scheduler");
        if (co != null || sched != null || (aluInterp != null && !quanta.isEmpty())) {
            sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "CPU switch", "ns"));
        }
        if (co != null) sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "(d) coroutine resume + yield, isolated", ns(co)));
        if (sched != null) sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "(d) Scheduler pass + resume + yield, no guest work", ns(sched)));
        double worstSwitch = Math.max(co == null ? 0 : co.value + co.err(), sched == null ? 0 : sched.value + sched.err());
        if (aluInterp != null && !quanta.isEmpty()) {
            // Quantum 1 is all switching: the time per quantum with two CPUs minus one instruction
            // on one CPU is the switch as the machine does it. At larger quanta the difference
            // drowns in fork-to-fork variation of the interpreter's own speed, so it is not shown.
            String q = quanta.get(0);
            Score sw = s.get("SwitchingLoopBench.interpreted:" + q);
            int qi = Integer.parseInt(q);
            double perSwitch = (qi / sw.value - qi / aluInterp.value) * 1e9;
            double err = qi * Math.hypot(sw.error / (sw.value * sw.value), aluInterp.error / (aluInterp.value * aluInterp.value)) * 1e9;
            sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "(c) in the machine: q/rate(c, q=" + q + ") - q/rate(a)",
                    String.format(Locale.ROOT, "%.1f ± %.1f", perSwitch, err)));
            if (qi == 1) worstSwitch = Math.max(worstSwitch, perSwitch + (Double.isNaN(err) ? 0 : err));
        }
        Score exitPlain = s.get("VmExitRoundTripBench.noEpt"), exitEpt = s.get("VmExitRoundTripBench.withEpt");
        if (exitPlain != null || exitEpt != null) {
            sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "VM exit round trip (CPUID exit + 7-instruction handler + VMRESUME)", "ns"));
            if (exitPlain != null) sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "(e) without EPT", ns(exitPlain)));
            if (exitEpt != null) sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "(e) with EPT and VPID", ns(exitEpt)));
            if (aluInterp != null) {
                // the same ten instructions as plain ALU work, measured in this run: what VMX adds
                sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "    ten ALU-loop instructions at rate (a), for comparison",
                        String.format(Locale.ROOT, "%.1f", 10 / aluInterp.value * 1e9)));
            }
        }
        Score intercept = s.get("XmhfInterceptBench.cpuidUnderXmhf");
        if (intercept != null) {
            sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "(f) XMHF intercept round trip (guest CPUID under XMHF)", ns(intercept)));
        }
        Score runXmhf = s.get("ExploreRunBench.oneRun:xmhf"), runBare = s.get("ExploreRunBench.oneRun:none");
        if (runXmhf != null || runBare != null) {
            sb.append(String.format(Locale.ROOT, "%-58s %14s %10s%n", "(g) one exploration run, 2-CPU quiesce scenario (mtrrstorm)", "ms", "runs/s"));
            if (runXmhf != null) sb.append(String.format(Locale.ROOT, "%-58s %14s %10.1f%n", "    under XMHF", ns(runXmhf), 1000 / runXmhf.value));
            if (runBare != null) sb.append(String.format(Locale.ROOT, "%-58s %14s %10.1f%n", "    bare machine (baseline)", ns(runBare), 1000 / runBare.value));
            if (runXmhf != null && runBare != null) {
                sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "    XMHF / bare", String.format(Locale.ROOT, "%.1fx", runXmhf.value / runBare.value)));
            }
        }
        Score palCall = s.get("PalCostBench.operation:call"), palReg = s.get("PalCostBench.operation:register+unregister");
        if (palCall != null || palReg != null) {
            sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "(i) TrustVisor PAL operations (one CPU under XMHF)", "ns"));
            if (palCall != null) sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "    PAL call (invoke + terminate)", ns(palCall)));
            if (palReg != null) sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "    register + unregister (4 pages)", ns(palReg)));
        }
        List<String> ttf = new ArrayList<>();
        for (String k : s.keySet()) if (k.startsWith("TimeToFailureBench.exploreUntilFound:")) ttf.add(k);
        if (!ttf.isEmpty()) sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "(h) time to first failure (explore, 2 jobs)", "ms"));
        double worstTtf = 0;
        for (String k : ttf) {
            Score t = s.get(k);
            sb.append(String.format(Locale.ROOT, "%-58s %14s%n", "    " + k.substring(k.indexOf(':') + 1) + "-buggy", ns(t)));
            worstTtf = Math.max(worstTtf, t.value + t.err());
        }
        sb.append('\n');

        sb.append("targets (judged on the 99.9% confidence interval)\n");
        if (aluInterp != null) {
            sb.append(String.format(Locale.ROOT, "  >= 100 M guest instr/s on the ALU/branch loop, one core: %s (%s M instr/s)%n",
                    verdict(aluInterp.value - aluInterp.err() >= ALU_TARGET, aluInterp.value + aluInterp.err() < ALU_TARGET),
                    mips(aluInterp)));
        }
        if (worstSwitch > 0) {
            sb.append(String.format(Locale.ROOT, "  CPU switch < 1 us: %s (largest switch figure above, upper bound: %.1f ns)%n",
                    worstSwitch < SWITCH_TARGET_NS ? "MET" : "NOT MET", worstSwitch));
        }
        Score worstExit = exitEpt != null ? exitEpt : exitPlain;
        if (worstExit != null) {
            double upper = Math.max(exitPlain == null ? 0 : exitPlain.value + exitPlain.err(), exitEpt == null ? 0 : exitEpt.value + exitEpt.err());
            sb.append(String.format(Locale.ROOT, "  VM exit round trip < 1 us: %s (upper bound %.1f ns)%n", upper < SWITCH_TARGET_NS ? "MET" : "NOT MET", upper));
        }
        if (intercept != null) {
            double upper = intercept.value + intercept.err();
            sb.append(String.format(Locale.ROOT, "  XMHF intercept round trip < 1 us: %s (upper bound %.1f ns)%n", upper < SWITCH_TARGET_NS ? "MET" : "NOT MET", upper));
        }
        if (!ttf.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "  every seed bug found within 10 s: %s (slowest upper bound %.0f ms)%n", worstTtf < 10_000 ? "MET" : "NOT MET", worstTtf));
        }
        return sb.toString();
    }

    private static String verdict(boolean met, boolean missed) {
        return met ? "MET" : missed ? "NOT MET" : "BORDERLINE (the interval contains the target)";
    }

    private static void row(StringBuilder sb, String label, Score interp, Score nat) {
        if (interp == null) return;
        String n = nat == null ? "-" : mips(nat);
        String ratio = nat == null ? "-" : String.format(Locale.ROOT, "%.0fx", nat.value / interp.value);
        sb.append(String.format(Locale.ROOT, "%-38s %24s %20s %14s%n", label, mips(interp), n, ratio));
    }

    private static String mips(Score s) {
        return String.format(Locale.ROOT, "%.1f ± %.1f", s.value / 1e6, s.error / 1e6);
    }

    private static String ns(Score s) {
        return String.format(Locale.ROOT, "%.1f ± %.1f", s.value, s.error);
    }

    /** Share of all host CPU time that was not idle over one second, from /proc/stat. */
    private static String hostBusy() {
        try {
            long[] t0 = cpuTimes();
            Thread.sleep(1000);
            long[] t1 = cpuTimes();
            double total = t1[0] - t0[0], idle = t1[1] - t0[1];
            return total <= 0 ? "unknown" : String.format(Locale.ROOT, "%.0f%%", 100 * (1 - idle / total));
        } catch (IOException | RuntimeException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    /** {total, idle + iowait} jiffies of the aggregate "cpu" line. */
    private static long[] cpuTimes() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < f.length && i <= 8; i++) total += Long.parseLong(f[i]);
        return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }
}
