package org.hvlab.bench;

import java.util.concurrent.TimeUnit;
import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.Coroutine;
import org.hvlab.machine.sched.RoundRobin;
import org.hvlab.machine.sched.Scheduler;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (d) The cost of one CPU switch with no guest work, in nanoseconds:
 * {@link #coroutine()} is one resume of a CPU-style coroutine and its yield back;
 * {@link #scheduler()} is one pass of {@link Scheduler#run}'s loop (runnable scan, choice,
 * choice record, grant, resume, yield) over two coroutines that only yield, under RoundRobin(1).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m"})
public class SwitchCostBench {
    private static final int SWITCHES = 10_000;

    private Coroutine lone;
    private final YieldingCpus cpus = new YieldingCpus();

    @Setup(Level.Trial)
    public void setup() {
        Coroutines.requireContinuations();
        long[] count = new long[1];
        lone = Coroutine.create("lone", () -> {
            for (;;) {
                count[0]++;
                Coroutine.yieldNow();
            }
        });
    }

    @Benchmark
    public void coroutine() {
        lone.resume();
    }

    @Benchmark
    @OperationsPerInvocation(SWITCHES)
    public long scheduler() {
        cpus.limit = false;
        ChoiceSource rr = new RoundRobin(1);
        new Scheduler(rr).run(cpus, cpus.steps + SWITCHES);
        return cpus.steps;
    }

    /** Two "CPUs" whose coroutines count one step per quantum and yield. */
    static final class YieldingCpus implements Scheduler.Target {
        long steps;
        boolean limit;
        private final Coroutine[] cos = new Coroutine[2];

        YieldingCpus() {
            for (int i = 0; i < cos.length; i++) {
                cos[i] = Coroutine.create("cpu-" + i, () -> {
                    for (;;) {
                        steps++;
                        Coroutine.yieldNow();
                    }
                });
            }
        }

        @Override public int cpuCount() { return cos.length; }
        @Override public boolean runnable(int cpu) { return true; }
        @Override public void grant(int cpu, long quantum) { }
        @Override public Coroutine coroutine(int cpu) { return cos[cpu]; }
        @Override public long steps() { return steps; }
        @Override public boolean finished() { return limit; }
        @Override public void noRunnableCpu() { throw new IllegalStateException(); }
        @Override public void stepLimit() { limit = true; }
    }
}
