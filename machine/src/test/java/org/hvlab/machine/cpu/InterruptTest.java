package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** NMI blocking and latch, STI and MOV-SS shadows, HLT wake-up, IST, triple fault (SDM Vol.3A 6.7-6.8, 6.14). */
class InterruptTest {
    static final long IDT = 0x500000, HANDLER = 0x510000, IST_TOP = 0x540000, TSS = 0x550000;
    TestCpu t;
    Cpu c;
    long main;
    long mainEnd;

    @BeforeEach
    void setUp() {
        t = new TestCpu();
        c = t.cpu;
        c.idtrBase = IDT;
        c.idtrLimit = 256 * 16 - 1;
        // handler: count in r15, record the interrupted RIP in r14, return
        t.load(HANDLER, TestCpu.assemble("inc %r15\nmov (%rsp), %r14\niretq"));
        for (int v = 0; v < 256; v++) gate(v, HANDLER, 0);
        c.r[Cpu.RSP] = 0x80000;
    }

    void gate(int vector, long handler, int ist) {
        var m = t.machine.memory();
        long lo = (handler & 0xFFFF) | (0x08L << 16) | ((long) ist << 32) | (0x8EL << 40) | ((handler & 0xFFFF0000L) << 32);
        m.write64(IDT + vector * 16L, lo);
        m.write64(IDT + vector * 16L + 8, handler >>> 32);
    }

    void code(String asm) {
        byte[] b = TestCpu.assemble(asm);
        t.load(TestCpu.CODE, b);
        main = TestCpu.CODE;
        mainEnd = TestCpu.CODE + b.length;
        c.rip = main;
    }

    void step() {
        c.run(1);
    }

    @Test
    void nmiBlocksNmisUntilIretAndLatchesOne() {
        code("nop\n".repeat(20));
        c.raiseNmi();
        step(); // delivered at the boundary, then the handler's first instruction runs
        assertTrue(c.nmiBlocked);
        assertEquals(1, c.r[15]);
        c.raiseNmi();
        c.raiseNmi(); // a second one while one is latched is lost
        step(); // mov (%rsp), %r14
        step(); // iretq: unblocks; the latched NMI is taken at the next boundary
        assertEquals(1, c.r[15]);
        step();
        assertEquals(2, c.r[15], "exactly one latched NMI delivered after IRET");
        step();
        step();
        for (int i = 0; i < 5; i++) step();
        assertEquals(2, c.r[15], "no third delivery");
        assertFalse(c.nmiBlocked);
    }

    /** The event stream sees each NMI at the pin (merged when one is latched), its delivery with the interrupted RIP and the frame, and the IRET. */
    @Test
    void nmiEventsFollowPinLatchDeliveryAndIret() {
        java.util.List<org.hvlab.machine.events.MachineEvent> seen = new java.util.ArrayList<>();
        c.bus.subscribe(seen::add, org.hvlab.machine.events.MachineEvent.Kind.NMI_RAISED, org.hvlab.machine.events.MachineEvent.Kind.NMI_DELIVERED,
                org.hvlab.machine.events.MachineEvent.Kind.IRET);
        code("nop\n".repeat(20));
        c.raiseNmi();
        step();
        c.raiseNmi();
        c.raiseNmi(); // merged with the latched one
        step();
        step(); // iretq
        assertEquals(new org.hvlab.machine.events.MachineEvent.NmiRaised(0, false, false), seen.get(0));
        var d = (org.hvlab.machine.events.MachineEvent.NmiDelivered) seen.get(1);
        assertEquals(main, d.rip(), "the NMI interrupted the first instruction");
        assertEquals(0x80000, d.rspBefore());
        assertEquals(0x80000 - 40, d.frame(), "a 5-word frame below the old RSP (aligned)");
        assertFalse(d.injected());
        assertFalse(d.toGuest());
        assertEquals(new org.hvlab.machine.events.MachineEvent.NmiRaised(0, false, false), seen.get(2));
        assertEquals(new org.hvlab.machine.events.MachineEvent.NmiRaised(0, false, true), seen.get(3), "the second arrival while latched is merged");
        assertTrue(seen.get(4) instanceof org.hvlab.machine.events.MachineEvent.Iret, seen.toString());
        assertEquals(5, seen.size(), seen.toString());
    }

    @Test
    void stiShadowDelaysTheInterruptByOneInstruction() {
        c.apic.mmioWrite(0xFEE000F0L, 4, 0x1FF); // software-enable the APIC
        code("sti\nnop\nnop\nnop");
        c.apic.raiseFixed(0x40);
        step(); // sti
        assertEquals(0, c.r[15]);
        step(); // nop runs in the shadow; then the interrupt is delivered + handler's first instruction
        step();
        assertEquals(1, c.r[15]);
        step(); // the handler records the interrupted RIP
        assertEquals(main + 2, c.r[14], "interrupted after the instruction following STI");
    }

    @Test
    void movSsBlocksNmiForOneInstruction() {
        code("mov %ss, %ax\nmov %ax, %ss\nnop\nnop\nnop");
        step(); // mov %ss,%ax
        step(); // mov %ax,%ss
        c.raiseNmi();
        step(); // blocked by MOV SS: the nop executes
        assertEquals(0, c.r[15]);
        step();
        assertEquals(1, c.r[15]);
        step();
        assertEquals(main + 6, c.r[14], "NMI taken after the instruction following MOV SS");
    }

    @Test
    void hltWakesOnNmiAndReturnsAfterHlt() {
        code("hlt\nnop\nnop");
        step();
        assertEquals(Cpu.HLT, c.activity);
        assertFalse(c.runnable(), "a halted CPU with IF=0 and nothing pending cannot run");
        c.raiseNmi();
        assertTrue(c.runnable());
        step();
        assertEquals(Cpu.ACTIVE, c.activity);
        assertEquals(1, c.r[15]);
        step();
        assertEquals(main + 1, c.r[14], "the saved RIP is the instruction after HLT");
    }

    @Test
    void hltWithInterruptsOffIgnoresFixedInterrupts() {
        c.apic.mmioWrite(0xFEE000F0L, 4, 0x1FF);
        code("hlt\nnop");
        step();
        c.apic.raiseFixed(0x50);
        assertFalse(c.runnable(), "IF=0: a maskable interrupt does not wake HLT");
        c.setRflags(0x202);
        assertTrue(c.runnable());
    }

    @Test
    void istSwitchesToTheInterruptStack() {
        var m = t.machine.memory();
        m.write64(TSS + 0x24, IST_TOP); // IST1
        c.tr.set(0x28, TSS, 0x67, 0x8B);
        t.load(HANDLER + 0x100, TestCpu.assemble("mov %rsp, %r13\niretq"));
        gate(3, HANDLER + 0x100, 1);
        code("int3\nnop");
        step();
        step();
        assertEquals(IST_TOP - 40, c.r[13], "five 8-byte slots below the IST top");
        assertEquals(main + 1, m.read64(IST_TOP - 40), "INT3 is a trap: return address after it");
        step();
        assertEquals(0x80000, c.r[Cpu.RSP]);
        assertEquals(main + 1, c.rip);
    }

    @Test
    void errorCodeIsPushedForGp() {
        t.load(HANDLER + 0x200, TestCpu.assemble("mov (%rsp), %r12\nmov 8(%rsp), %r11\nadd $8, %rsp\nmovq $0x300000, (%rsp)\niretq"));
        gate(13, HANDLER + 0x200, 0);
        t.load(0x300000, TestCpu.assemble("nop"));
        c.r[Cpu.RBX] = 0x8000_0000_0000_0000L;
        code("mov (%rbx), %rax");
        step(); // the fault is delivered
        step();
        step();
        assertEquals(0, c.r[12], "error code 0 for a non-canonical access");
        assertEquals(main, c.r[11], "a fault saves the address of the faulting instruction");
    }

    @Test
    void faultWithoutUsableIdtEndsInShutdown() {
        c.idtrLimit = 0;
        code("ud2");
        step();
        assertEquals(Cpu.SHUTDOWN, c.activity, "#UD -> #GP (IDT limit) -> #DF -> #GP -> triple fault");
        assertTrue(t.machine.stopped());
    }

    @Test
    void trapFlagSingleStepsEachInstruction() {
        // #DB handler: count and record the saved RIP; the handler itself runs with TF clear
        t.load(HANDLER + 0x300, TestCpu.assemble("inc %r15\nmov (%rsp), %r14\niretq"));
        gate(1, HANDLER + 0x300, 0);
        t.observerOff();
        code("pushf\norq $0x100, (%rsp)\npopf\nnop\nnop\nnop");
        for (int i = 0; i < 3; i++) step(); // pushf, or, popf (TF set by popf: no trap after popf itself)
        assertEquals(0, c.r[15]);
        step(); // nop, then the #DB trap is delivered
        assertEquals(0x4000, c.dr[6] & 0x4000, "DR6.BS");
        step();
        step();
        assertEquals(1, c.r[15]);
        assertEquals(main + 11, c.r[14], "trap: the saved RIP is after the stepped NOP at +10");
        step(); // iretq back with TF set again
        step(); // nop at main+11, trap
        step();
        step();
        assertEquals(2, c.r[15]);
        assertEquals(main + 12, c.r[14]);
    }
}
