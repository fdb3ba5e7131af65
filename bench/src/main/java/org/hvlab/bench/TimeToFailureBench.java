package org.hvlab.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.hvlab.explore.Explorer;
import org.hvlab.explore.Scenario;
import org.hvlab.explore.ScenarioLoader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (h) Time to first failure (issue 5 target: every seed bug within 10 s on this machine): one
 * {@code hvlab explore} of a shipped buggy scenario per operation — random strategy, both host
 * cores, stop at the first failure, write its record — each iteration starting from a different
 * seed, so the figure averages over where the seeds happen to fall. The first failure must have
 * the scenario's expected kind, or the benchmark fails.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 8)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m"})
public class TimeToFailureBench {
    @Param({"seed000-direct-nmi", "seed001-inject-at-arrival", "bug018-endquiesce-order", "bug018-no-iret", "bug024-printf-lock",
            "bug113-reentrant-nmi-enable", "bug087-hypapp-nmi-block", "bug022-ept-gpa-32bit", "seed000-linux-nmi"})
    public String scenario;

    private Scenario buggy;
    private Path records;
    private long start = 1;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        buggy = ScenarioLoader.loadFileOrShipped(scenario + "-buggy");
        records = Files.createTempDirectory("hvlab-bench-records");
    }

    @Setup(Level.Iteration)
    public void nextStart() {
        start += 1000;
    }

    @Benchmark
    public long exploreUntilFound() throws Exception {
        Explorer.Summary s = Explorer.explore(buggy, new Explorer.Settings(1000, start, 2, 0, false, "random", 3, records), null);
        if (!s.failed()) throw new IllegalStateException(scenario + ": no failure in 1000 runs from seed " + start);
        return s.runs();
    }

    @TearDown(Level.Trial)
    public void cleanUp() throws Exception {
        try (var files = Files.list(records)) {
            for (Path p : files.toList()) Files.delete(p);
        }
        Files.delete(records);
    }
}
