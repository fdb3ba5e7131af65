package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.*;

import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.sched.RoundRobin;
import org.junit.jupiter.api.Test;

/** Corners of the SDM a code review found handled wrong (step limit in a fault loop, IRET with NT, lowest-priority IPIs, CR4 features, PUSHA faults, INIT in VMX root, IDT S bit); each asserts the SDM behaviour. */
class CpuCornerCasesTest {
    static final long IDT = 0x500000, TSS = 0x550000, IST_TOP = 0x540000;

    static void gate(org.hvlab.machine.mem.PhysicalMemory m, int vector, long handler, int ist) {
        long lo = (handler & 0xFFFF) | (0x08L << 16) | ((long) ist << 32) | (0x8EL << 40) | ((handler & 0xFFFF0000L) << 32);
        m.write64(IDT + vector * 16L, lo);
        m.write64(IDT + vector * 16L + 8, handler >>> 32);
    }

    /** A fault loop (handler not mapped, IST stack) retires no instruction, so the step limit never ends the run. */
    @Test
    void faultLoopReachesStepLimit() throws Exception {
        Machine machine = new Machine(new MachineConfig(1, 128L << 20, 5000, new RoundRobin(1000)), null);
        Cpu c = machine.cpu(0);
        var mem = machine.memory();
        mem.write64(BootLoader.PML4, BootLoader.PDPT | 7);
        for (int i = 0; i < 4; i++) mem.write64(BootLoader.PDPT + 8L * i, (BootLoader.PD0 + 0x1000L * i) | 7);
        for (long j = 0; j < 2048; j++) mem.write64(BootLoader.PD0 + 8 * j, (j << 21) | 0x87);
        for (int i = 0; i < TestCpu.GDT.length; i++) mem.write64(BootLoader.GDT + 8L * i, TestCpu.GDT[i]);
        c.bootstrapLongMode(TestCpu.CODE, 0x80000, 0);
        c.gdtrLimit = TestCpu.GDT.length * 8 - 1;
        c.idtrBase = IDT;
        c.idtrLimit = 256 * 16 - 1;
        for (int v = 0; v < 256; v++) gate(mem, v, 0x100000000L, 1); // 4 GiB: not mapped
        mem.write64(TSS + 0x24, IST_TOP);
        c.tr.set(0x28, TSS, 0x67, 0x8B);
        mem.write8(TestCpu.CODE, 0x0F); mem.write8(TestCpu.CODE + 1, 0x0B); // ud2
        Thread th = new Thread(machine::run);
        th.setDaemon(true);
        th.start();
        th.join(5000);
        assertFalse(th.isAlive(), "Machine.run() still running after 5 s with maxSteps=5000: instructions=" + c.instructions
                + " rip=" + Long.toHexString(c.rip) + " activity=" + c.activity);
    }

    /** IRET in IA-32e mode with RFLAGS.NT = 1 raises #GP(0) (SDM Vol.2 IRET, IA-32e-MODE). */
    @Test
    void iretWithNtInLongModeFaults() {
        TestCpu t = new TestCpu();
        int v = t.exec(TestCpu.assemble("""
                pushfq
                orq $0x4000, (%rsp)
                popfq
                mov %rsp, %rax
                pushq $0x10
                push %rax
                pushfq
                pushq $0x08
                lea 1f(%rip), %rcx
                push %rcx
                iretq
                1: nop
                """));
        assertEquals(CpuFault.GP, v, "IRETQ with NT=1 in IA-32e mode must #GP(0)");
    }

    /** Lowest-priority delivery goes to exactly one processor of the destination set (SDM Vol.3A 10.6.2.4). */
    @Test
    void lowestPriorityIpiReachesOneCpu() {
        Machine m = new Machine(new MachineConfig(2, 128L << 20, 1000, new RoundRobin(1000)), null);
        for (int i = 0; i < 2; i++) {
            var a = m.cpu(i).apic;
            a.mmioWrite(0xFEE000F0L, 4, 0x1FF);      // software enable
            a.mmioWrite(0xFEE000D0L, 4, (1 << i) << 24); // flat logical ID
        }
        var a0 = m.cpu(0).apic;
        a0.mmioWrite(0xFEE00310L, 4, 0x03 << 24);
        a0.mmioWrite(0xFEE00300L, 4, 0x40 | (1 << 8) | (1 << 11)); // vector 0x40, lowest priority, logical
        int n = (m.cpu(0).apic.hasPendingInterrupt() ? 1 : 0) + (m.cpu(1).apic.hasPendingInterrupt() ? 1 : 0);
        assertEquals(1, n, "lowest-priority IPI accepted by " + n + " CPUs");
    }


    /** CR4 bits of features CPUID does not report are reserved: MOV to CR4 raises #GP (SDM Vol.3A 2.5, Vol.2 MOV CR). */
    @Test
    void cr4RejectsUnreportedFeatures() {
        TestCpu t = new TestCpu();
        int[] l7 = Cpuid.query(t.cpu, 7, 0);
        assertEquals(0, l7[1] & ((1 << 7) | (1 << 20) | 1), "CPUID.7:EBX reports no SMEP/SMAP/FSGSBASE");
        int v = t.exec(TestCpu.assemble("mov %cr4, %rax\nor $0x200000, %rax\nmov %rax, %cr4"));
        assertEquals(CpuFault.GP, v, "setting CR4.SMAP although CPUID does not report SMAP");
    }

    /** PUSHA faulting on its 5th store must leave ESP unchanged (faults restore state; SDM Vol.3A 6.5). */
    @Test
    void pushaFaultKeepsEsp() {
        TestCpu t = new TestCpu();
        Cpu c = t.cpu;
        t.map4k(0x601000, 0x601000, true, true, false); // 0x600000 is now not present
        c.seg[Segment.CS].set(0x18, 0, 0xFFFFFFFFL, 0xC09B); // compatibility mode, 32-bit
        c.modeChanged();
        c.r[Cpu.RSP] = 0x601010;
        t.load(TestCpu.CODE, new byte[] {0x60, (byte) 0x90});
        int v = t.run(TestCpu.CODE, TestCpu.CODE + 1, 1);
        assertEquals(CpuFault.PF, v);
        assertEquals(0x601010, c.r[Cpu.RSP], "ESP after #PF in PUSHA");
    }

    /** An INIT held while in VMX root operation is taken once VMXOFF leaves it (SDM Vol.3C 23.8 / 25.2). */
    @Test
    void initHeldInVmxRootIsTakenAfterVmxoff() {
        TestCpu t = new TestCpu();
        Cpu c = t.cpu;
        t.load(TestCpu.CODE, TestCpu.assemble("nop\n".repeat(50)));
        c.rip = TestCpu.CODE;
        c.vmx.inVmxOperation = true;
        c.raiseInit();
        for (int i = 0; i < 5; i++) c.run(1);
        assertEquals(Cpu.ACTIVE, c.activity);
        c.vmx.leave(); // what VMXOFF does
        for (int i = 0; i < 5; i++) c.run(1);
        assertEquals(Cpu.WAIT_SIPI, c.activity, "INIT still pending=" + c.initPending);
    }


    /** An IDT entry whose S bit is 1 is not a gate: INT3 must raise #GP(3*8+2) (SDM Vol.3A 6.14.1, Vol.2 INT n). */
    @Test
    void idtEntryWithSBitIsNotAGate() {
        TestCpu t = new TestCpu();
        Cpu c = t.cpu;
        var m = t.machine.memory();
        c.idtrBase = IDT;
        c.idtrLimit = 256 * 16 - 1;
        long handler = 0x510000;
        t.load(handler, TestCpu.assemble("mov $0x1234, %r15\nhlt"));
        for (int v = 0; v < 256; v++) gate(m, v, handler, 0);
        long gpHandler = 0x511000;
        t.load(gpHandler, TestCpu.assemble("pop %r14\nmov $0x5678, %r15\nhlt"));
        gate(m, 13, gpHandler, 0);
        long lo = m.read64(IDT + 3 * 16L);
        m.write64(IDT + 3 * 16L, lo | (1L << 44)); // S = 1
        t.observerOff(); // the #GP arises during delivery, not from an instruction
        t.load(TestCpu.CODE, TestCpu.assemble("int3\nnop"));
        c.rip = TestCpu.CODE;
        for (int i = 0; i < 5 && c.activity != Cpu.HLT; i++) c.run(1);
        assertEquals(0x5678, c.r[15], "the #GP handler ran, not the INT3 gate's");
        assertEquals(3 * 8 + 2, c.r[14], "error code: IDT vector 3, IDT bit set");
    }
}
