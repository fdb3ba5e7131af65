package org.hvlab.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (a) The register ALU/branch loop ({@link Loop#ALU}) on one CPU: interpreted by
 * {@link org.hvlab.machine.cpu.Cpu#run} and native on the host. Scores are instructions per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m"})
public class AluLoopBench extends SingleCpuLoop {
    @Override
    protected Loop loop() {
        return Loop.ALU;
    }

    @Override
    protected int assumedBodyInstructions() {
        return 6;
    }

    @Benchmark
    @OperationsPerInvocation(Flags.INTERPRETED_INSTRUCTIONS)
    public long interpreted() {
        return runInterpreted(9);
    }

    @Benchmark
    @OperationsPerInvocation(6 * Flags.NATIVE_ITERATIONS)
    public long host() {
        return host.call(Flags.NATIVE_ITERATIONS, data);
    }
}
