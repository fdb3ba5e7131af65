package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** CPL 0 <-> 3 transitions: IRETQ to user mode, INT n through a DPL-3 gate with a TSS stack switch, SYSCALL/SYSRET. */
class PrivilegeTest {
    static final long IDT = 0x500000, TSS = 0x550000, RSP0 = 0x560000, USER_STACK = 0x570000;

    @Test
    void iretqToUserThenIntBackToKernelThenSyscall() {
        TestCpu t = new TestCpu();
        t.observerOff();
        Cpu c = t.cpu;
        var m = t.machine.memory();
        c.idtrBase = IDT;
        c.idtrLimit = 0xFFF;
        m.write64(TSS + 4, RSP0);
        c.tr.set(0x38, TSS, 0x67, 0x8B);
        long handler = 0x510000;
        long lo = (handler & 0xFFFF) | (0x08L << 16) | (0xEEL << 40) | ((handler & 0xFFFF0000L) << 32); // DPL 3 interrupt gate
        m.write64(IDT + 0x80 * 16, lo);
        m.write64(IDT + 0x80 * 16 + 8, 0);
        // kernel handler: record CS from the frame and RSP, then go back to user mode
        t.load(handler, TestCpu.assemble("mov 8(%rsp), %r12\nmov %rsp, %r13\nmov 24(%rsp), %r14\niretq"));
        long user = 0x520000;
        byte[] userCode = TestCpu.assemble("mov %cs, %r8\nint $0x80\nmov $0x11, %r9\nsyscall\ndone: jmp done");
        t.load(user, userCode);
        long done = user + userCode.length - 2;
        long sysEntry = 0x530000;
        t.load(sysEntry, TestCpu.assemble("mov %cs, %r10\nmov %rcx, %rbx\nsysretq"));
        c.efer |= Cpu.EFER_SCE;
        c.msrs.star = (0x08L << 32) | (0x20L << 48); // SYSCALL CS 0x08; SYSRETQ CS 0x33, SS 0x2B
        c.msrs.lstar = sysEntry;
        // build an IRETQ frame to CPL 3: SS 0x33, RSP, RFLAGS, CS 0x2B, RIP
        long k = 0x80000 - 40;
        m.write64(k, user);
        m.write64(k + 8, 0x2B);
        m.write64(k + 16, 0x202);
        m.write64(k + 24, USER_STACK);
        m.write64(k + 32, 0x33);
        c.r[Cpu.RSP] = k;
        t.load(TestCpu.CODE, TestCpu.assemble("iretq"));
        c.rip = TestCpu.CODE;
        c.run(1);
        assertEquals(3, c.cpl);
        assertEquals(user, c.rip);
        assertEquals(USER_STACK, c.r[Cpu.RSP]);
        for (int i = 0; i < 20 && c.rip != done; i++) c.run(1);
        assertEquals(0x2B, c.r[8], "user CS");
        assertEquals(0x2B, c.r[12], "the INT frame holds the user CS");
        assertEquals(RSP0 - 40, c.r[13], "stack switched to TSS.RSP0, five slots");
        assertEquals(USER_STACK, c.r[14], "the frame holds the user RSP");
        assertEquals(0x202, c.r[11], "SYSCALL saved RFLAGS in R11");
        assertEquals(0x11, c.r[9], "back in user mode after IRETQ");
        assertEquals(0x08, c.r[10], "SYSCALL enters CS = STAR[47:32]");
        assertEquals(3, c.cpl, "SYSRET returned to CPL 3");
        assertEquals((0x20 + 16) | 3, c.seg[Segment.CS].selector, "SYSRETQ: CS = STAR[63:48] + 16, RPL 3");
        assertEquals(done, c.r[Cpu.RBX], "SYSCALL saved the next RIP in RCX");
        assertEquals(done, c.rip, "SYSRET resumed there");
    }
}
