package org.hvlab.bench;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineSpec;
import org.hvlab.machine.boot.ElfImage;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.sched.RoundRobin;
import org.hvlab.machine.sched.Scheduler;
import org.hvlab.xmhf.Xmhf;
import org.hvlab.xmhf.XmhfOptions;
import org.hvlab.xmhf.hypapp.trustvisor.TrustVisor;
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
 * (i) TrustVisor's PAL operations in host time (issue 6): one CPU under XMHF with TrustVisor,
 * its guest looping on one operation: {@code call}, a PAL call and return (two VM exits, two
 * quiesces, the switches, two integer parameters); {@code register+unregister}, the two
 * hypercalls for a 4-page PAL (page walks, the PAL's page tables and EPT, EPT01 changed twice
 * under quiesce, INVEPT). R12 counts operations; the machine steps each one takes (guest
 * instructions plus XMHF's host operations: hvlab's simulated cycles) are measured at setup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m"})
public class PalCostBench {
    static final int OPS = 2000;
    static final long DESC = 0x380000, PAL = 0x400000;

    @Param({"call", "register+unregister"})
    public String op;

    private Machine machine;
    private BoundedRun run;
    private Cpu cpu;
    private TrustVisor tv;
    /** Machine steps per operation (hvlab's simulated cycles), measured at setup. */
    public long stepsPerOp;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        tv = new TrustVisor();
        ElfImage img;
        try (InputStream in = PalCostBench.class.getResourceAsStream("/guests/hello.elf")) {
            img = ElfImage.parse("hello", in.readAllBytes());
        }
        machine = MachineSpec.builder().memory(64L << 20).maxSteps(Long.MAX_VALUE).choices(new RoundRobin(1000))
                .host(Xmhf.installer(new XmhfOptions(), tv)).image(img, "").serialOut(OutputStream.nullOutputStream()).build();
        PhysicalMemory mem = machine.memory();
        // the PAL: code, data, stack, parameters (identity-mapped by the boot page tables)
        byte[] code = GuestAsm.assemble("lea (%rdi,%rsi), %rax\nret");
        mem.writeBytes(PAL, code, 0, code.length);
        mem.write64(DESC, 4);
        for (int k = 0; k < 4; k++) {
            mem.write64(DESC + 8 + 24 * k, k + 1);
            mem.write64(DESC + 16 + 24 * k, PAL + 0x1000L * k);
            mem.write64(DESC + 24 + 24 * k, 0x1000);
        }
        mem.write64(DESC + 200, 2);
        mem.write64(DESC + 208, 1);
        mem.write64(DESC + 224, 1);
        String reg = String.format("mov $1, %%eax\nmov $0x%x, %%ebx\nmov $0x%x, %%ecx\nvmcall\n", DESC, PAL);
        String loop = op.equals("call")
                ? reg + "1: mov $3, %edi\nmov $4, %esi\nmov $" + PAL + ", %eax\ncall *%rax\ninc %r12\njmp 1b"
                : "1: " + reg + "mov $2, %eax\nmov $" + PAL + ", %ebx\nvmcall\ninc %r12\njmp 1b";
        byte[] guest = GuestAsm.assemble(loop);
        mem.writeBytes(img.entry, guest, 0, guest.length);
        cpu = machine.cpu(0);
        run = new BoundedRun(machine);
        run.run(new Scheduler(new RoundRobin(1000)), 3_000_000); // XMHF start-up and warm-up operations
        if (cpu.r[Cpu.RAX] == -1) throw new IllegalStateException("the PAL call failed");
        long r12 = cpu.r[12], steps = machine.steps();
        run.run(new Scheduler(new RoundRobin(1000)), 2_000_000);
        long ops = cpu.r[12] - r12;
        if (ops < 100) throw new IllegalStateException("the guest is not looping under TrustVisor: " + ops + " operations");
        stepsPerOp = (machine.steps() - steps + ops - 1) / ops;
        if (op.equals("call") && tv.palEntries() < ops) throw new IllegalStateException("calls did not run as PALs");
        System.out.printf("%n%s: %d machine steps per operation; %s%n", op, stepsPerOp, phases());
    }

    /**
     * The machine steps of each phase, from the VM exit to the next VM entry (the intercept as
     * the guest sees it), averaged over the operations of a traced slice of the loop: invoke
     * (the EPT violation at the entry point) and terminate (the #PF at the sentinel), or
     * register and unregister (the two VMCALLs).
     */
    private String phases() {
        org.hvlab.machine.trace.Trace trace = new org.hvlab.machine.trace.Trace(machine::steps);
        org.hvlab.machine.events.EventBus.Subscriber traced = trace::on;
        machine.events().subscribe(traced);
        run.run(new Scheduler(new RoundRobin(1000)), 200 * stepsPerOp);
        java.util.Map<String, long[]> sum = new java.util.TreeMap<>();
        long exitStep = -1;
        String phase = null;
        for (org.hvlab.machine.trace.Trace.Event e : trace.events()) {
            if (e.name().startsWith("VM exit ")) {
                exitStep = e.step();
                String reason = e.name().substring("VM exit ".length());
                phase = reason.equals(org.hvlab.machine.vmx.ExitReason.EPT_VIOLATION.toString()) ? "invoke"
                        : reason.equals(org.hvlab.machine.vmx.ExitReason.EXCEPTION_OR_NMI.toString()) ? "terminate" : "hypercall";
            } else if (e.name().equals("PAL registered")) {
                phase = "register";
            } else if (e.name().equals("PAL unregistered")) {
                phase = "unregister";
            } else if (e.name().equals("guest") && e.phase() == 'B' && exitStep >= 0) {
                long[] a = sum.computeIfAbsent(phase, k -> new long[2]);
                a[0] += e.step() - exitStep;
                a[1]++;
                exitStep = -1;
            }
        }
        machine.events().unsubscribe(traced); // the measured invocations run untraced
        StringBuilder sb = new StringBuilder("steps from exit to entry:");
        sum.forEach((k, a) -> sb.append(String.format(" %s %.1f (%d)", k, (double) a[0] / a[1], a[1])));
        return sb.toString();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long operation() {
        long before = cpu.r[12];
        run.run(new Scheduler(new RoundRobin(1000)), OPS * stepsPerOp);
        long ops = cpu.r[12] - before;
        // operations differ a little in steps (the EPT walk cache, the scheduler's slices): within 10%
        if (Math.abs(ops - OPS) > OPS / 10) throw new IllegalStateException("ran " + ops + " operations, wanted " + OPS);
        return ops;
    }
}
