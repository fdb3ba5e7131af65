package org.hvlab.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.hvlab.machine.cpu.Cpu;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (a) The register ALU/branch loop ({@link Loop#ALU}) on one CPU: interpreted by {@link Cpu#run}
 * and native on the host. Scores are instructions per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m"})
public class AluLoopBench {
    private Cpu cpu;
    private Arena arena;
    private NativeCode host;
    private MemorySegment data;

    @Setup(Level.Trial)
    public void setup() {
        if (Loop.ALU.bodyInstructions != 6) throw new IllegalStateException("@OperationsPerInvocation below assumes 6");
        Loop.ALU.selfCheck();
        cpu = new GuestMachine(1, Loop.ALU).cpu(0);
        arena = Arena.ofShared();
        data = NativeCode.buffer(arena, Loop.NATIVE_BUFFER);
        host = new NativeCode(Loop.ALU.nativeCode());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        host.close();
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(Flags.INTERPRETED_INSTRUCTIONS)
    public long interpreted() {
        long n = cpu.run(Flags.INTERPRETED_INSTRUCTIONS);
        if (n != Flags.INTERPRETED_INSTRUCTIONS) throw new IllegalStateException("ran " + n + " instructions");
        return cpu.r[9];
    }

    @Benchmark
    @OperationsPerInvocation(6 * Flags.NATIVE_ITERATIONS)
    public long host() {
        return host.call(Flags.NATIVE_ITERATIONS, data);
    }
}
