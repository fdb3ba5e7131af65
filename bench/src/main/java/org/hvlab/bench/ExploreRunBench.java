package org.hvlab.bench;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.hvlab.explore.Scenario;
import org.hvlab.explore.ScenarioLoader;
import org.hvlab.explore.ScenarioRun;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (g) Exploration throughput (issue 5 target): one whole run of a 2-CPU quiesce scenario per
 * operation — machine set-up, XMHF start-up on both CPUs, the mtrrstorm guest (every MTRR write
 * a quiesce of both CPUs, so NMIs fly between them all the time), the oracles — on one host thread, the
 * seed changing every run as exploration does. The same scenario on the bare machine is the
 * baseline in the same process, so the ratio is what XMHF and its quiesces cost.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m"})
public class ExploreRunBench {
    static final String SCENARIO = """
            name: quiesce-2cpu
            machine: {cpus: 2, memory: 256M}
            hypervisor: {name: %s}
            guest: {image: mtrrstorm, cmdline: "iters=50"}
            scheduling: {max-quantum: 200}
            oracles: [deadlock, hypervisor-halt, unhandled-exception, stuck, exit-status, isolation, simulator-error, nmi-accounting]
            limits: {max-steps: 30000000, stuck-steps: 10000000}
            """;

    /** xmhf: the scenario under XMHF; none: the bare machine (the baseline). */
    @Param({"xmhf", "none"})
    public String hypervisor;

    private Scenario scenario;
    private long seed;

    @Setup
    public void setup() throws Exception {
        scenario = ScenarioLoader.parse(Path.of("quiesce-2cpu.yaml"), SCENARIO.formatted(hypervisor));
        ScenarioRun.Result o = ScenarioRun.random(scenario, 0);
        if (o.verdict().failed() || !o.guestSerial().contains("writes=50")) {
            throw new IllegalStateException("the storm did not run: " + o.verdict().message() + "\n" + o.guestSerial());
        }
    }

    @Benchmark
    public Object oneRun() throws Exception {
        return ScenarioRun.random(scenario, ++seed).verdict();
    }
}
