package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Architectural outcomes of individual instructions (SDM Vol.2). */
class InstructionTest {
    private final TestCpu t = new TestCpu();
    private final Cpu c = t.cpu;
    private final long data = TestCpu.DATA;

    private void ok(String asm) {
        assertEquals(-1, t.exec(TestCpu.assemble(asm)), asm);
    }

    @Test
    void thirtyTwoBitWritesZeroExtendAndNarrowerMerge() {
        c.r[Cpu.RAX] = -1;
        c.r[Cpu.RBX] = -1;
        c.r[Cpu.RCX] = -1;
        ok("mov $1, %eax\nmov $2, %bx\nmov $3, %ch");
        assertEquals(1, c.r[Cpu.RAX]);
        assertEquals(0xFFFFFFFFFFFF0002L, c.r[Cpu.RBX]);
        assertEquals(0xFFFFFFFFFFFF03FFL, c.r[Cpu.RCX]);
    }

    @Test
    void callRetPushPopAndLeaRipRelative() {
        c.r[Cpu.RSP] = 0x80000;
        ok("call f\njmp done\nf: push $0x1234\npop %rbx\nlea f(%rip), %rcx\nret\ndone: nop");
        assertEquals(0x1234, c.r[Cpu.RBX]);
        assertEquals(TestCpu.CODE + 7, c.r[Cpu.RCX], "call rel32 is 5 bytes, jmp short 2");
        assertEquals(0x80000, c.r[Cpu.RSP]);
    }

    @Test
    void repMovsbAndRepeScasb() {
        t.machine.memory().writeBytes(data, "hello, world\0".getBytes(), 0, 13);
        c.r[Cpu.RSI] = data;
        c.r[Cpu.RDI] = data + 0x100;
        c.r[Cpu.RCX] = 13;
        ok("cld\nrep movsb");
        assertEquals("hello, world", new String(t.machine.memory().readBytes(data + 0x100, 12)));
        assertEquals(0, c.r[Cpu.RCX]);
        assertEquals(data + 13, c.r[Cpu.RSI]);
        c.r[Cpu.RDI] = data;
        c.r[Cpu.RCX] = 100;
        c.r[Cpu.RAX] = ',';
        ok("repne scasb");
        assertEquals(data + 6, c.r[Cpu.RDI], "stops after the match");
        assertEquals(94, c.r[Cpu.RCX]);
    }

    @Test
    void repStringRunsAsOneStepWhileABlockedNmiWaits() {
        t.machine.memory().writeBytes(data, new byte[64], 0, 64);
        c.r[Cpu.RDI] = data;
        c.r[Cpu.RCX] = 64;
        c.r[Cpu.RAX] = 0x5A;
        t.load(TestCpu.CODE, TestCpu.assemble("rep stosb\nnop"));
        c.rip = TestCpu.CODE;
        c.nmiBlocked = true; // inside an NMI handler: a new NMI waits for IRET
        c.raiseNmi();
        c.run(1);
        assertEquals(0, c.r[Cpu.RCX], "all iterations in one step: the NMI cannot be taken anyway");
        assertEquals(TestCpu.CODE + 2, c.rip);
        assertEquals(0x5A5A5A5A5A5A5A5AL, t.machine.memory().read64(data + 56));
    }

    @Test
    void cmpxchgAndXaddAndLock() {
        t.machine.memory().write64(data, 5);
        c.r[Cpu.RBX] = data;
        c.r[Cpu.RAX] = 5;
        c.r[Cpu.RCX] = 9;
        ok("lock cmpxchg %rcx, (%rbx)");
        assertEquals(9, t.machine.memory().read64(data));
        assertTrue(c.fl.zf());
        ok("lock cmpxchg %rcx, (%rbx)");
        assertEquals(9, c.r[Cpu.RAX], "on mismatch the accumulator gets the memory value");
        c.r[Cpu.RDX] = 3;
        ok("lock xadd %rdx, (%rbx)");
        assertEquals(12, t.machine.memory().read64(data));
        assertEquals(9, c.r[Cpu.RDX]);
        assertEquals(CpuFault.UD, t.exec(new byte[] {(byte) 0xF0, 0x48, 0x01, (byte) 0xC3}) /* lock add %rax,%rbx */, "LOCK needs a memory destination");
    }

    @Test
    void divideErrorsAndWideMultiply() {
        c.r[Cpu.RAX] = 7;
        c.r[Cpu.RDX] = 0;
        c.r[Cpu.RCX] = 0;
        assertEquals(CpuFault.DE, t.exec(TestCpu.assemble("div %rcx")));
        assertEquals(7, c.r[Cpu.RAX], "a faulting DIV changes nothing");
        c.r[Cpu.RDX] = 1;
        c.r[Cpu.RCX] = 1;
        assertEquals(CpuFault.DE, t.exec(TestCpu.assemble("div %rcx")), "quotient overflow");
        c.r[Cpu.RAX] = 0;
        c.r[Cpu.RDX] = 3;
        c.r[Cpu.RCX] = 4;
        ok("div %rcx");
        assertEquals(0xC000000000000000L, c.r[Cpu.RAX]);
        assertEquals(0, c.r[Cpu.RDX]);
        c.r[Cpu.RAX] = -1;
        c.r[Cpu.RCX] = -1;
        ok("mul %rcx");
        assertEquals(1, c.r[Cpu.RAX]);
        assertEquals(-2, c.r[Cpu.RDX]);
        assertTrue(c.fl.cf() && c.fl.of());
        c.r[Cpu.RAX] = 0x8000000000000000L;
        c.r[Cpu.RDX] = -1;
        c.r[Cpu.RCX] = -1;
        assertEquals(CpuFault.DE, t.exec(TestCpu.assemble("idiv %rcx")), "INT64_MIN / -1 overflows");
    }

    @Test
    void movsxdMovzxSetccCmov() {
        c.r[Cpu.RAX] = 0x80000000L;
        c.r[Cpu.RBX] = 0xFF80;
        ok("movslq %eax, %rcx\nmovzbl %bl, %edx\nmovsbq %bl, %rsi\ncmp $1, %eax\nsetne %dil\nmov $7, %r8\ncmovne %r8, %r9");
        assertEquals(0xFFFFFFFF80000000L, c.r[Cpu.RCX]);
        assertEquals(0x80, c.r[Cpu.RDX]);
        assertEquals(-128, c.r[Cpu.RSI]);
        assertEquals(1, c.r[Cpu.RDI] & 0xFF);
        assertEquals(7, c.r[9]);
    }

    @Test
    void bitTestWithRegisterOffsetReachesBeyondTheOperand() {
        t.machine.memory().write64(data, 0);
        t.machine.memory().write64(data + 8, 0);
        c.r[Cpu.RBX] = data;
        c.r[Cpu.RCX] = 70; // bit 6 of the next quadword
        ok("bts %rcx, (%rbx)");
        assertEquals(0x40, t.machine.memory().read64(data + 8));
        assertEquals(false, c.fl.cf());
        ok("bt %rcx, (%rbx)");
        assertEquals(true, c.fl.cf());
        c.r[Cpu.RDX] = 0b1011000;
        ok("bsf %rdx, %rax\nbsr %rdx, %rsi");
        assertEquals(3, c.r[Cpu.RAX]);
        assertEquals(6, c.r[Cpu.RSI]);
    }

    @Test
    void enterLeaveAndPushfPopf() {
        c.r[Cpu.RSP] = 0x80000;
        c.r[Cpu.RBP] = 0x1111;
        ok("enter $32, $0\nmov %rbp, %rax\nleave");
        assertEquals(0x80000 - 8, c.r[Cpu.RAX]);
        assertEquals(0x1111, c.r[Cpu.RBP]);
        assertEquals(0x80000, c.r[Cpu.RSP]);
        ok("stc\npushf\npop %rax\nclc\npush %rax\npopf");
        assertTrue(c.fl.cf());
        assertEquals(0x3, c.r[Cpu.RAX] & 0x3);
    }

    @Test
    void privilegedInstructionsFaultAtCpl3() {
        c.seg[Segment.CS].set(0x2B, 0, 0xFFFFFFFFL, 0xA0FB);
        c.seg[Segment.SS].set(0x33, 0, 0xFFFFFFFFL, 0xC0F3);
        c.cpl = 3;
        c.modeChanged();
        for (String s : new String[] {"hlt", "cli", "mov %cr0, %rax", "rdmsr", "wrmsr", "lgdt (%rax)", "invlpg (%rax)", "in $0x80, %al"}) {
            c.setRflags(2);
            assertEquals(CpuFault.GP, t.exec(TestCpu.assemble(s)), s);
        }
    }

    @Test
    void unknownAndInvalidInstructionsRaiseUd() {
        for (String s : new String[] {"ud2", ".byte 0x0f, 0xff", ".byte 0xd8, 0xc0", ".byte 0x27", ".byte 0xc4, 0xe2, 0x79, 0x18, 0x00"}) {
            assertEquals(CpuFault.UD, t.exec(TestCpu.assemble(s)), s);
        }
        assertEquals(CpuFault.GP, t.exec(TestCpu.assemble(".byte 0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x90")),
                "an instruction longer than 15 bytes");
    }

    @Test
    void cpuidReportsApicIdAndLongMode() {
        c.r[Cpu.RAX] = 1;
        ok("cpuid");
        assertEquals(0, (c.r[Cpu.RBX] >>> 24) & 0xFF);
        c.r[Cpu.RAX] = 0x80000001L;
        ok("cpuid");
        assertTrue((c.r[Cpu.RDX] & (1L << 29)) != 0);
    }

    @Test
    void msrsReadBackAndRejectBadValues() {
        c.r[Cpu.RCX] = Msrs.IA32_LSTAR;
        c.r[Cpu.RAX] = 0x12345678;
        c.r[Cpu.RDX] = 0xFFFF8000L;
        ok("wrmsr\nxor %eax, %eax\nxor %edx, %edx\nrdmsr");
        assertEquals(0x12345678, c.r[Cpu.RAX]);
        assertEquals(0xFFFF8000L, c.r[Cpu.RDX]);
        c.r[Cpu.RDX] = 0x8000; // non-canonical
        assertEquals(CpuFault.GP, t.exec(TestCpu.assemble("wrmsr")));
        c.r[Cpu.RCX] = 0x12345;
        assertEquals(CpuFault.GP, t.exec(TestCpu.assemble("rdmsr")), "unknown MSR");
    }
}
