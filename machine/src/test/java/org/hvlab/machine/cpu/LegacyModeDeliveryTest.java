package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Event delivery through the real-mode IVT and 32-bit protected-mode IDT gates (SDM Vol.3A 6.12, Vol.3B 20.1.4). */
class LegacyModeDeliveryTest {
    @Test
    void realModeIntUsesTheIvtAndIretReturns() {
        TestCpu t = new TestCpu();
        Cpu c = t.cpu;
        c.resetToWaitForSipi();
        var m = t.machine.memory();
        m.write32(0x20 * 4, 0x0000_9100); // IVT[0x20] = 0000:9100
        t.load(0x9000, TestCpu.assemble(".code16\nmov $0x7000, %sp\nint $0x20\nmov $0x55, %cx\nhlt"));
        t.load(0x9100, TestCpu.assemble(".code16\nmov %sp, %dx\nmov $0x1234, %bx\niret"));
        c.raiseSipi(9); // CS = 0x0900, IP = 0 (docs/boot-protocol.md "Application processors")
        for (int i = 0; i < 8 && c.activity != Cpu.HLT; i++) c.run(1);
        assertEquals(Cpu.HLT, c.activity);
        assertEquals(0x1234, c.r[Cpu.RBX] & 0xFFFF);
        assertEquals(0x7000 - 6, c.r[Cpu.RDX] & 0xFFFF, "FLAGS, CS, IP pushed as 16-bit words");
        assertEquals(0x0900, m.read32(0x7000 - 4) & 0xFFFF, "saved CS");
        assertEquals(0x55, c.r[Cpu.RCX] & 0xFFFF, "returned after INT");
    }

    private static void protectedMode32(TestCpu t) {
        Cpu c = t.cpu;
        c.efer = 0;
        c.cr4 = 0;
        c.cr0 = Cpu.CR0_PE | Cpu.CR0_ET;
        c.seg[Segment.CS].set(0x18, 0, 0xFFFFFFFFL, 0xC09B);
        for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS, Segment.FS, Segment.GS}) c.seg[s].set(0x10, 0, 0xFFFFFFFFL, 0xC093);
        c.gdtrBase = 0x7000;
        c.gdtrLimit = TestCpu.GDT.length * 8 - 1;
        c.idtrBase = 0x500000;
        c.idtrLimit = 256 * 8 - 1;
        c.cpl = 0;
        c.modeChanged();
        c.flushTlb();
        c.r[Cpu.RSP] = 0x90000;
    }

    private static void gate32(TestCpu t, int vector, long handler) {
        long g = (handler & 0xFFFF) | (0x18L << 16) | (0x8EL << 40) | ((handler & 0xFFFF0000L) << 32);
        t.machine.memory().write64(0x500000 + vector * 8L, g);
    }

    @Test
    void protectedModeGpPushesErrorCodeAndFaultingEip() {
        TestCpu t = new TestCpu();
        protectedMode32(t);
        gate32(t, 13, 0x510000);
        t.load(0x510000, TestCpu.assemble(".code32\nmov (%esp), %ebx\nmov 4(%esp), %esi\nmov 8(%esp), %edi\nhlt"));
        byte[] code = TestCpu.assemble(".code32\nmov $0x50, %ax\nmov %ax, %ds\nnop");
        t.load(TestCpu.CODE, code);
        Cpu c = t.cpu;
        c.rip = TestCpu.CODE;
        for (int i = 0; i < 10 && c.activity != Cpu.HLT; i++) c.run(1);
        assertEquals(Cpu.HLT, c.activity);
        assertEquals(0x50, c.r[Cpu.RBX], "#GP(selector) for a selector past the GDT limit");
        assertEquals(TestCpu.CODE + 4, c.r[Cpu.RSI], "EIP of the faulting MOV DS");
        assertEquals(0x18, c.r[Cpu.RDI], "CS");
        assertEquals(0x90000 - 16, c.r[Cpu.RSP] & 0xFFFFFFFFL, "EFLAGS, CS, EIP, error code: four 32-bit slots");
    }

    @Test
    void protectedModeIntGateClearsIfAndIretRestoresIt() {
        TestCpu t = new TestCpu();
        protectedMode32(t);
        gate32(t, 0x30, 0x510000);
        t.load(0x510000, TestCpu.assemble(".code32\npushf\npop %ebx\niret"));
        t.load(TestCpu.CODE, TestCpu.assemble(".code32\nsti\nint $0x30\npushf\npop %ecx\nhlt"));
        Cpu c = t.cpu;
        c.rip = TestCpu.CODE;
        for (int i = 0; i < 10 && c.activity != Cpu.HLT; i++) c.run(1);
        assertEquals(0, c.r[Cpu.RBX] & 0x200, "an interrupt gate clears IF");
        assertEquals(0x200, c.r[Cpu.RCX] & 0x200, "IRET restores IF");
    }
}
