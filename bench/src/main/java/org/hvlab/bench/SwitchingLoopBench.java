package org.hvlab.bench;

import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (c) Two CPUs running the ALU loop under {@link RoundRobin} with a fixed quantum, through the
 * real {@link Scheduler} and the machine's CPU coroutines, so every quantum costs a coroutine
 * resume and yield plus the scheduler's bookkeeping. The score is guest instructions per second
 * over both CPUs, on one host core; the native reference is {@link AluLoopBench#host()}.
 * A fresh scheduler per invocation keeps its choice record from growing without bound.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m"})
public class SwitchingLoopBench {
    /** Instructions per quantum. */
    @Param({"1", "100", "1000"})
    public int quantum;

    private GuestMachine guest;
    private BoundedRun run;

    @Setup(Level.Trial)
    public void setup() {
        Coroutines.requireContinuations();
        guest = new GuestMachine(2, Loop.ALU);
        run = new BoundedRun(guest.machine);
    }

    @Benchmark
    @OperationsPerInvocation(Flags.INTERPRETED_INSTRUCTIONS)
    public long interpreted() {
        long before = guest.machine.steps();
        run.run(new Scheduler(new RoundRobin(quantum)), Flags.INTERPRETED_INSTRUCTIONS);
        guest.checkRunning();
        long ran = guest.machine.steps() - before;
        if (ran != Flags.INTERPRETED_INSTRUCTIONS) throw new IllegalStateException("ran " + ran + " instructions");
        return ran;
    }
}
