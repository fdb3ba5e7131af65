package org.hvlab.bench;

import static org.hvlab.machine.vmx.VmcsFields.*;

import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.events.MachineEvent;
import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.sched.RoundRobin;
import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.Vmcs;
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
 * (e) One VM exit round trip in host time: a 64-bit guest loops on CPUID (which exits
 * unconditionally); the guest hypervisor, x86 code in VMX root operation on the same simulated
 * CPU, reads the guest RIP and the instruction length, writes RIP past the CPUID and executes
 * VMRESUME (all entry checks included). Ten instructions per round trip: three in the guest
 * (INC, CPUID, JMP), seven in the host. {@link #withEpt} runs the same with EPT and VPID on, so
 * guest accesses go through the EPT walk and the tagged TLBs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m"})
public class VmExitRoundTripBench {
    static final int INSTRUCTIONS_PER_TRIP = 10, TRIPS = 50_000;
    private static final long GUEST = 0x300000, HOST = 0x310000, SETUP = 0x320000, VMXON = 0x600000, VMCS = 0x601000,
            PTR = 0x610000, EPT = 0x620000;

    private Cpu plain, ept;

    @Setup(Level.Trial)
    public void setup() {
        plain = machine(false);
        ept = machine(true);
    }

    @Benchmark
    @OperationsPerInvocation(TRIPS)
    public long noEpt() {
        return trips(plain);
    }

    @Benchmark
    @OperationsPerInvocation(TRIPS)
    public long withEpt() {
        return trips(ept);
    }

    private static long trips(Cpu c) {
        long before = c.r[12];
        long n = c.run((long) TRIPS * INSTRUCTIONS_PER_TRIP);
        if (n != (long) TRIPS * INSTRUCTIONS_PER_TRIP || c.r[12] - before != TRIPS) {
            throw new IllegalStateException("ran " + n + " instructions, " + (c.r[12] - before) + " round trips");
        }
        return c.r[12];
    }

    /** A machine in VMX root operation on CPU 0 with the guest launched and one round trip done. */
    static Cpu machine(boolean withEpt) {
        Machine m = new Machine(new MachineConfig(1, 64L << 20, Long.MAX_VALUE, new RoundRobin(1000)), OutputStream.nullOutputStream());
        PhysicalMemory mem = m.memory();
        mem.write64(BootLoader.PML4, BootLoader.PDPT | 3);
        for (int i = 0; i < 4; i++) mem.write64(BootLoader.PDPT + 8L * i, (BootLoader.PD0 + 0x1000L * i) | 3);
        for (long j = 0; j < 2048; j++) mem.write64(BootLoader.PD0 + 8 * j, (j << 21) | 0x83);
        long[] gdt = {0, 0x00209A0000000000L, 0x00CF92000000FFFFL, 0, 0, 0x00008B0000000067L, 0};
        for (int i = 0; i < gdt.length; i++) mem.write64(BootLoader.GDT + 8L * i, gdt[i]);
        Cpu c = m.cpu(0);
        c.bootstrapLongMode(SETUP, 0x80000, 0);
        c.gdtrLimit = gdt.length * 8 - 1;
        c.bus.subscribe(e -> {
            MachineEvent.ExceptionRaised x = (MachineEvent.ExceptionRaised) e;
            throw new IllegalStateException(String.format("exception %d at rip=0x%x", x.vector(), x.rip()));
        }, MachineEvent.Kind.EXCEPTION);
        CpuProfile p = c.profile;
        mem.write32(VMXON, p.vmcsRevision());
        mem.write32(VMCS, p.vmcsRevision());
        mem.write64(PTR, VMXON);
        mem.write64(PTR + 8, VMCS);
        c.cr4 |= Cpu.CR4_VMXE;
        c.r[Cpu.RBX] = PTR;
        load(mem, SETUP, "vmxon (%rbx)\nvmclear 8(%rbx)\nvmptrld 8(%rbx)\nhlt");
        load(mem, GUEST, "1: inc %r12\ncpuid\njmp 1b");
        load(mem, HOST, "mov $0x681e, %edx\nvmread %rdx, %rax\nmov $0x440c, %ecx\nvmread %rcx, %rbx\n"
                + "add %rbx, %rax\nvmwrite %rax, %rdx\nvmresume");
        c.run(3);
        Vmcs v = c.vmx.current;
        if (v == null) throw new IllegalStateException("VMXON/VMPTRLD failed");
        v.set(PIN_BASED_CONTROLS, p.vmx(0x48D) & 0xFFFFFFFFL);
        v.set(PROC_BASED_CONTROLS, (p.vmx(0x48E) & 0xFFFFFFFFL) | (withEpt ? 1L << 31 : 0));
        v.set(EXIT_CONTROLS, (p.vmx(0x48F) & 0xFFFFFFFFL) | (1 << 9));
        v.set(ENTRY_CONTROLS, (p.vmx(0x490) & 0xFFFFFFFFL) | (1 << 9));
        if (withEpt) {
            mem.write64(EPT, (EPT + 0x1000) | 7);
            for (long i = 0; i < 4; i++) mem.write64(EPT + 0x1000 + 8 * i, (i << 30) | 0x80 | (6 << 3) | 7);
            v.set(PROC_BASED_CONTROLS2, (1 << 1) | (1 << 5)); // EPT, VPID
            v.set(EPT_POINTER, EPT | 6 | (3 << 3));
            v.set(VPID, 1);
        }
        v.set(HOST_CR0, c.cr0);
        v.set(HOST_CR3, c.cr3);
        v.set(HOST_CR4, c.cr4);
        v.set(HOST_CS_SELECTOR, 0x08);
        v.set(HOST_SS_SELECTOR, 0x10);
        v.set(HOST_TR_SELECTOR, 0x28);
        v.set(HOST_RIP, HOST);
        v.set(HOST_RSP, 0x7F000);
        v.set(GUEST_CR0, c.cr0);
        v.set(GUEST_CR3, c.cr3);
        v.set(GUEST_CR4, c.cr4);
        int[] sel = {0x0800, 0x0802, 0x0804, 0x0806, 0x0808, 0x080A};
        int[] limit = {0x4800, 0x4802, 0x4804, 0x4806, 0x4808, 0x480A};
        int[] ar = {0x4814, 0x4816, 0x4818, 0x481A, 0x481C, 0x481E};
        for (int s = 0; s < 6; s++) {
            v.set(sel[s], c.seg[s].selector);
            v.set(limit[s], c.seg[s].limit);
            v.set(ar[s], c.seg[s].attr);
        }
        v.set(GUEST_TR_SELECTOR, 0x28);
        v.set(GUEST_LDTR_ACCESS_RIGHTS, 0x10000);
        v.set(GUEST_TR_LIMIT, 0x67);
        v.set(GUEST_TR_ACCESS_RIGHTS, 0x8B);
        v.set(GUEST_GDTR_LIMIT, c.gdtrLimit);
        v.set(GUEST_GDTR_BASE, c.gdtrBase);
        v.set(GUEST_RIP, GUEST);
        v.set(GUEST_RSP, 0x90000);
        v.set(GUEST_RFLAGS, 2);
        v.set(VMCS_LINK_POINTER, -1L);
        load(mem, SETUP, "vmlaunch");
        c.rip = SETUP;
        c.activity = Cpu.ACTIVE;
        c.run(1);
        if (!c.vmx.nonRoot) throw new IllegalStateException("VMLAUNCH failed: exit reason 0x" + Long.toHexString(v.get(EXIT_REASON)));
        c.r[12] = 0;
        c.run(2 + 7); // INC, CPUID (exit), the handler: the guest resumes at its JMP
        if (c.r[12] != 1 || c.rip != GUEST + 5) throw new IllegalStateException("round trip broken: rip=0x" + Long.toHexString(c.rip));
        return c;
    }

    private static void load(PhysicalMemory mem, long at, String asm) {
        byte[] b = GuestAsm.assemble(asm);
        mem.writeBytes(at, b, 0, b.length);
    }
}
