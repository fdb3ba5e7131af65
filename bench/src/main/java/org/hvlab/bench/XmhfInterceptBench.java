package org.hvlab.bench;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineSpec;
import org.hvlab.machine.boot.ElfImage;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.sched.RoundRobin;
import org.hvlab.machine.sched.Scheduler;
import org.hvlab.xmhf.Xmhf;
import org.hvlab.xmhf.XmhfOptions;
import org.hvlab.xmhf.hypapp.Hypapp;
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
 * (f) An XMHF intercept round trip in host time (issue 4 target: under 1 µs): a guest under
 * XMHF loops on {@code inc %r12; cpuid; jmp 1b}; every CPUID is a VM exit that XMHF handles
 * in Java (deferred-NMI disable, VMCS copy get, CPUID emulation, NMI drain, put, VMRESUME with
 * all entry checks), on the machine's CPU coroutine under the real scheduler. R12 counts the
 * round trips; the step budget per invocation is measured at setup and checked every time.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m"})
public class XmhfInterceptBench {
    static final int TRIPS = 20_000;
    private Machine machine;
    private BoundedRun run;
    private Cpu cpu;
    private long stepsPerTrip;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        ElfImage img;
        try (InputStream in = XmhfInterceptBench.class.getResourceAsStream("/guests/hello.elf")) {
            img = ElfImage.parse("hello", in.readAllBytes());
        }
        machine = MachineSpec.builder().memory(64L << 20).maxSteps(Long.MAX_VALUE).choices(new RoundRobin(1000))
                .host(Xmhf.installer(new XmhfOptions(), Hypapp.NONE)).image(img, "").serialOut(OutputStream.nullOutputStream()).build();
        byte[] loop = GuestAsm.assemble("1: inc %r12\ncpuid\njmp 1b");
        machine.memory().writeBytes(img.entry, loop, 0, loop.length); // the guest: this loop at the image's entry
        cpu = machine.cpu(0);
        run = new BoundedRun(machine);
        run.run(new Scheduler(new RoundRobin(1000)), 2_000_000); // XMHF start-up and warm-up trips
        long r12 = cpu.r[12], steps = machine.steps();
        run.run(new Scheduler(new RoundRobin(1000)), 1_000_000);
        long trips = cpu.r[12] - r12;
        if (trips < 1000) throw new IllegalStateException("the guest is not looping under XMHF: " + trips + " round trips");
        stepsPerTrip = (machine.steps() - steps + trips - 1) / trips;
    }

    @Benchmark
    @OperationsPerInvocation(TRIPS)
    public long cpuidUnderXmhf() {
        long before = cpu.r[12];
        run.run(new Scheduler(new RoundRobin(1000)), TRIPS * stepsPerTrip);
        long trips = cpu.r[12] - before;
        if (Math.abs(trips - TRIPS) > 2) throw new IllegalStateException("ran " + trips + " round trips, wanted " + TRIPS);
        return trips;
    }
}
