package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** VM entry into a 64-bit guest and the VM exits it causes (SDM Vol.3C 26.3.2, 27; docs/vmx-facts.md numbers). */
class VmRunTest {
    static final long GUEST = 0x520000, HOST = VmxTestBed.HOST_CODE;
    TestCpu t;
    Cpu c;
    Vmcs v;

    @BeforeEach
    void setUp() {
        VmxTestBed bed = new VmxTestBed();
        t = bed.t;
        c = bed.c;
        v = bed.v;
        t.load(GUEST, TestCpu.assemble("cpuid\nvmcall\nmov $0x1234, %rax\nhlt\nud2"));
    }

    /** Executes VMLAUNCH or VMRESUME, then guest instructions until the next exit reaches host RIP. */
    void enterAndRunToExit(String insn) {
        t.load(TestCpu.CODE, TestCpu.assemble(insn));
        c.rip = TestCpu.CODE;
        c.activity = Cpu.ACTIVE;
        c.run(1);
        assertTrue(c.vmx.nonRoot, "entered the guest: exit reason " + Long.toHexString(v.get(EXIT_REASON)));
        assertEquals(v.get(GUEST_RIP), c.rip, "guest RIP");
        for (int i = 0; i < 10 && c.vmx.nonRoot; i++) c.run(1);
        assertFalse(c.vmx.nonRoot, "the guest exited");
        assertEquals(HOST, c.rip);
    }

    void resumeAfterInstruction() {
        v.set(GUEST_RIP, v.get(GUEST_RIP) + v.get(EXIT_INSTRUCTION_LENGTH));
    }

    @Test
    void exitsAreCountedForTheRunSummary() {
        // Regression: the run summary's per-CPU vmExits was always 0 (docs/boot-protocol.md promises it).
        assertEquals(0, c.vmx.exits);
        enterAndRunToExit("vmlaunch");
        resumeAfterInstruction();
        enterAndRunToExit("vmresume");
        assertEquals(18, v.get(EXIT_REASON), "VMCALL");
        assertEquals(2, c.vmx.exits, "CPUID and VMCALL exits");
    }

    @Test
    void cpuidVmcallHltAndExceptionExits() {
        enterAndRunToExit("vmlaunch");
        assertEquals(10, v.get(EXIT_REASON), "CPUID exits unconditionally");
        assertEquals(2, v.get(EXIT_INSTRUCTION_LENGTH), "instruction length");
        assertEquals(GUEST, v.get(GUEST_RIP), "guest RIP at the CPUID");
        assertTrue(v.launched);
        assertEquals(0x7F000, c.r[Cpu.RSP], "host RSP");
        assertEquals(2, c.rflags(), "host RFLAGS");

        resumeAfterInstruction();
        enterAndRunToExit("vmresume");
        assertEquals(18, v.get(EXIT_REASON), "VMCALL");
        assertEquals(3, v.get(EXIT_INSTRUCTION_LENGTH));

        resumeAfterInstruction();
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | (1 << 7)); // HLT exiting
        enterAndRunToExit("vmresume");
        assertEquals(12, v.get(EXIT_REASON), "HLT");
        assertEquals(0x1234, c.r[Cpu.RAX], "the guest ran the MOV before the HLT");
        assertEquals(0, v.get(GUEST_ACTIVITY_STATE), "activity state active: the HLT did not execute");

        resumeAfterInstruction();
        v.set(EXCEPTION_BITMAP, 1 << 6); // #UD in the exception bitmap
        enterAndRunToExit("vmresume");
        assertEquals(0, v.get(EXIT_REASON), "exception or NMI");
        assertEquals(0x80000306L, v.get(EXIT_INTERRUPTION_INFO), "interruption information: #UD, hardware exception, valid");
        assertEquals(GUEST + 13, v.get(GUEST_RIP), "guest RIP at the UD2 (a fault): cpuid 2 + vmcall 3 + mov 7 + hlt 1");
    }

    @Test
    void entryInterruptionValidBitIsClearedByEveryExit() {
        guestIdt();
        t.load(GUEST, TestCpu.assemble("cpuid"));
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000306L); // inject #UD: the guest handler runs and IRETs to the CPUID, which exits
        assertTrue(enterAndRun("vmlaunch", 10));
        assertEquals(10, v.get(EXIT_REASON));
        assertEquals(1, c.r[15], "the injected event was delivered");
        assertEquals(0x00000306L, v.get(ENTRY_INTERRUPTION_INFO), "only the valid bit is cleared");
    }

    @Test
    void vmxInstructionsInTheGuestExit() {
        t.load(GUEST, TestCpu.assemble("vmptrst (%rbx)"));
        enterAndRunToExit("vmlaunch");
        assertEquals(22, v.get(EXIT_REASON), "VMPTRST");
    }

    @Test
    void rdmsrExitsWithoutMsrBitmapsAndNotWhenTheBitmapAllows() {
        t.load(GUEST, TestCpu.assemble("mov $0x277, %ecx\nrdmsr\nhlt"));
        enterAndRunToExit("vmlaunch");
        assertEquals(31, v.get(EXIT_REASON), "RDMSR without MSR bitmaps");
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | (1L << 28) | (1 << 7));
        v.set(MSR_BITMAP, 0x640000); // all-zero bitmaps: no MSR access exits
        v.set(GUEST_RIP, GUEST);
        enterAndRunToExit("vmresume");
        assertEquals(12, v.get(EXIT_REASON), "RDMSR ran in the guest; the HLT exited");
        assertEquals(0x0007040600070406L, (c.r[Cpu.RDX] << 32) | c.r[Cpu.RAX], "guest read IA32_PAT");
    }

    @Test
    void outWithUnconditionalIoExitingReportsThePort() {
        t.load(GUEST, TestCpu.assemble("mov $0x3f8, %dx\nmov $'x', %al\nout %al, %dx"));
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | (1 << 24));
        enterAndRunToExit("vmlaunch");
        assertEquals(30, v.get(EXIT_REASON), "I/O instruction");
        assertEquals((0x3F8L << 16), v.get(EXIT_QUALIFICATION), "size 1, OUT, DX operand, port 0x3F8");
        assertEquals("", t.machine.serial().text(), "the byte was not written");
    }

    /** Enters the guest and runs until the exit (or the step budget ends); returns whether it exited. */
    boolean enterAndRun(String insn, int steps) {
        t.load(TestCpu.CODE, TestCpu.assemble(insn));
        c.rip = TestCpu.CODE;
        c.activity = Cpu.ACTIVE;
        c.run(1);
        for (int i = 0; i < steps && c.vmx.nonRoot; i++) c.run(1);
        return !c.vmx.nonRoot;
    }

    static final long NMI_EXITING = VmxControls.PIN_NMI_EXITING, VIRTUAL_NMIS = VmxControls.PIN_VIRTUAL_NMIS;

    @Test
    void nmiExitingExitsWithNmiInfoAndLeavesTheHostNmiBlocked() {
        t.load(GUEST, TestCpu.assemble("1: jmp 1b"));
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | NMI_EXITING);
        assertFalse(enterAndRun("vmlaunch", 5));
        c.raiseNmi();
        c.run(1);
        assertFalse(c.vmx.nonRoot);
        assertEquals(0, v.get(EXIT_REASON), "exit reason 0");
        assertEquals(0x80000202L, v.get(EXIT_INTERRUPTION_INFO), "an NMI");
        assertTrue(c.nmiBlocked, "NMIs stay blocked in the host until it executes IRET");
        assertEquals(HOST + 1, c.rip, "the host ran its HLT at host RIP");
    }

    @Test
    void nmiExitFromHltReportsRipAfterHltAndActivityHlt() {
        t.load(GUEST, TestCpu.assemble("hlt\nnop"));
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | NMI_EXITING);
        assertFalse(enterAndRun("vmlaunch", 3));
        assertEquals(Cpu.HLT, c.activity);
        assertFalse(c.runnable());
        c.raiseNmi();
        assertTrue(c.runnable(), "the NMI exit wakes the halted guest");
        c.run(1);
        assertEquals(0, v.get(EXIT_REASON));
        assertEquals(GUEST + 1, v.get(GUEST_RIP), "RIP after the HLT");
        assertEquals(1, v.get(GUEST_ACTIVITY_STATE), "activity state HLT (kvm-2022 profile: hlt)");
    }

    @Test
    void nmiWindowExitsBeforeTheFirstGuestInstructionWhenNothingBlocks() {
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | NMI_EXITING | VIRTUAL_NMIS);
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_NMI_WINDOW);
        assertTrue(enterAndRun("vmlaunch", 1));
        assertEquals(8, v.get(EXIT_REASON), "NMI window");
        assertEquals(GUEST, v.get(GUEST_RIP), "no guest instruction ran");
    }

    @Test
    void virtualNmiBlockingHoldsTheWindowUntilTheGuestIrets() {
        byte[] guest = TestCpu.assemble(String.join("\n", "mov %rsp, %rax", "pushq $0x10", "push %rax", "pushfq",
                "pushq $0x08", "lea 1f(%rip), %rcx", "push %rcx", "iretq", "1: jmp 1b"));
        t.load(GUEST, guest);
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | NMI_EXITING | VIRTUAL_NMIS);
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_NMI_WINDOW);
        v.set(GUEST_INTERRUPTIBILITY, 8); // blocking by NMI (virtual)
        assertTrue(enterAndRun("vmlaunch", 20));
        assertEquals(8, v.get(EXIT_REASON));
        long after = v.get(GUEST_RIP);
        assertEquals(0, v.get(GUEST_INTERRUPTIBILITY) & 8, "the guest IRET cleared virtual-NMI blocking");
        assertEquals(GUEST + guest.length - 2, after, "the window opened right after the IRET (at the final 2-byte jmp)");
    }

    @Test
    void interruptWindowAfterSti() {
        t.load(GUEST, TestCpu.assemble("sti\nnop\n1: jmp 1b"));
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | (1 << 2));
        assertTrue(enterAndRun("vmlaunch", 5));
        assertEquals(7, v.get(EXIT_REASON), "interrupt window");
        assertEquals(GUEST + 2, v.get(GUEST_RIP), "after the instruction in the STI shadow");
    }

    /** Regression: a guest that halts with IF = 1 under interrupt-window exiting must stay runnable (it exits at once). */
    @Test
    void interruptWindowWakesAGuestThatExecutedStiHlt() {
        t.load(GUEST, TestCpu.assemble("sti\nhlt\nnop\nvmcall"));
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | (1 << 2));
        t.load(TestCpu.CODE, TestCpu.assemble("vmlaunch"));
        c.rip = TestCpu.CODE;
        c.run(1); // VMLAUNCH
        c.run(1); // STI
        c.run(1); // HLT, in the STI shadow: the CPU halts
        assertTrue(c.vmx.nonRoot);
        assertEquals(Cpu.HLT, c.activity);
        assertTrue(c.runnable(), "the interrupt window (IF = 1, no blocking in HLT) ends the HLT by a VM exit");
        c.run(1);
        assertFalse(c.vmx.nonRoot);
        assertEquals(7, v.get(EXIT_REASON), "interrupt window");
        assertEquals(GUEST + 2, v.get(GUEST_RIP), "RIP after the HLT");
        assertEquals(1, v.get(GUEST_ACTIVITY_STATE), "activity state HLT (SDM 27.1, 27.3.4)");
    }

    /** Regression: a window exit saves the blocking of the boundary where it happens, not that of the previous one. */
    @Test
    void windowExitsSaveTheInterruptibilityOfTheExitBoundary() {
        t.load(GUEST, TestCpu.assemble("sti\nnop\nnop\nvmcall"));
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | (1 << 2));
        assertTrue(enterAndRun("vmlaunch", 5));
        assertEquals(7, v.get(EXIT_REASON));
        assertEquals(GUEST + 2, v.get(GUEST_RIP));
        assertEquals(0, v.get(GUEST_INTERRUPTIBILITY), "no STI blocking at the boundary after the NOP");

        t.load(GUEST, TestCpu.assemble("nop\nnop\nvmcall"));
        v.set(PROC_BASED_CONTROLS, (v.get(PROC_BASED_CONTROLS) & ~(1L << 2)) | VmxControls.PROC_NMI_WINDOW);
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | NMI_EXITING | VIRTUAL_NMIS);
        v.set(GUEST_INTERRUPTIBILITY, 2); // blocking by MOV SS for the first instruction
        v.set(GUEST_RFLAGS, 2);
        v.set(GUEST_RIP, GUEST);
        assertTrue(enterAndRun("vmresume", 5));
        assertEquals(8, v.get(EXIT_REASON));
        assertEquals(GUEST + 1, v.get(GUEST_RIP));
        assertEquals(0, v.get(GUEST_INTERRUPTIBILITY), "the MOV-SS blocking ended with the first instruction");
    }

    @Test
    void externalInterruptExitingWithAcknowledge() {
        t.load(GUEST, TestCpu.assemble("1: jmp 1b"));
        c.apic.mmioWrite(0xFEE000F0L, 4, 0x1FF);
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | 1);
        v.set(EXIT_CONTROLS, v.get(EXIT_CONTROLS) | (1 << 15));
        assertFalse(enterAndRun("vmlaunch", 3));
        c.apic.raiseFixed(0x41);
        c.run(1);
        assertEquals(1, v.get(EXIT_REASON), "external interrupt, although guest RFLAGS.IF = 0");
        assertEquals(0x80000041L, v.get(EXIT_INTERRUPTION_INFO), "acknowledged on exit");
    }

    static final long GUEST_IDT = 0x540000, GUEST_HANDLER = 0x548000;

    /** A guest IDT whose every gate leads to a handler that counts in R15, records the frame's RIP in R14 and IRETs. */
    void guestIdt() {
        var m = t.machine.memory();
        for (int vec = 0; vec < 256; vec++) {
            long h = GUEST_HANDLER;
            m.write64(GUEST_IDT + vec * 16L, (h & 0xFFFF) | (0x08L << 16) | (0xEEL << 40) | ((h & 0xFFFF0000L) << 32));
            m.write64(GUEST_IDT + vec * 16L + 8, 0);
        }
        t.load(GUEST_HANDLER, TestCpu.assemble("inc %r15\nmov (%rsp), %r14\niretq"));
        v.set(GUEST_IDTR_BASE, GUEST_IDT);
        v.set(GUEST_IDTR_LIMIT, 0xFFF);
        t.load(GUEST, TestCpu.assemble("1: jmp 1b"));
        c.r[15] = 0;
    }

    @Test
    void injectedHardwareExceptionAndSoftwareInterruptUseTheGuestIdt() {
        guestIdt();
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000306L); // #UD
        assertFalse(enterAndRun("vmlaunch", 2));
        assertEquals(1, c.r[15], "the guest's handler ran");
        assertEquals(GUEST, c.r[14], "a fault frame: RIP of the guest instruction");
        assertEquals(0x80000306L, c.vmx.current.get(ENTRY_INTERRUPTION_INFO), "the valid bit stays set until the next VM exit");
    }

    @Test
    void injectedSoftwareInterruptReturnsAfterTheInstructionLength() {
        guestIdt();
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000480L); // INT 0x80
        v.set(ENTRY_INSTRUCTION_LENGTH, 2);
        assertFalse(enterAndRun("vmlaunch", 2));
        assertEquals(GUEST + 2, c.r[14]);
    }

    @Test
    void injectedNmiSetsVirtualNmiBlockingUntilTheGuestIrets() {
        guestIdt();
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | NMI_EXITING | VIRTUAL_NMIS);
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_NMI_WINDOW);
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000202L);
        t.load(TestCpu.CODE, TestCpu.assemble("vmlaunch"));
        c.rip = TestCpu.CODE;
        c.run(1);
        assertTrue(c.vmx.nonRoot);
        assertTrue(c.vmx.virtualNmiBlocked, "injecting an NMI with virtual NMIs sets virtual-NMI blocking");
        c.run(1); // the handler's first instruction: no NMI-window exit while blocked
        assertTrue(c.vmx.nonRoot);
        for (int i = 0; i < 5 && c.vmx.nonRoot; i++) c.run(1);
        assertFalse(c.vmx.nonRoot);
        assertEquals(8, v.get(EXIT_REASON), "the window opens after the guest's IRET");
        assertEquals(GUEST, v.get(GUEST_RIP), "back at the interrupted instruction");
        assertEquals(1, c.r[15]);
    }

    @Test
    void withoutVirtualNmisAnNmiCanBeInjectedIntoAnNmiBlockedGuest() {
        // seed 000 / bug 025: no check forbids it, so the guest gets an NMI inside its NMI handler
        guestIdt();
        v.set(GUEST_INTERRUPTIBILITY, 8); // the guest is NMI-blocked
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000202L);
        assertFalse(enterAndRun("vmlaunch", 2));
        assertEquals(1, c.r[15], "delivered despite the guest's NMI blocking");
        assertTrue(c.nmiBlocked);
    }

    @Test
    void cr0MaskAndShadow() {
        t.load(GUEST, TestCpu.assemble("mov %cr0, %rax\nmov %rax, %cr0\nmov %rax, %rbx\nor $0x20, %rax\nmov %rax, %cr0"));
        v.set(CR0_GUEST_HOST_MASK, Cpu.CR0_NE); // the host owns CR0.NE
        v.set(CR0_READ_SHADOW, 0);          // and the guest reads it as 0
        assertTrue(enterAndRun("vmlaunch", 10));
        assertEquals(0, c.r[Cpu.RBX] & Cpu.CR0_NE, "the guest read the shadow");
        assertEquals(28, v.get(EXIT_REASON), "CR access: only the write that differs from the shadow exits");
        assertEquals(0x000, v.get(EXIT_QUALIFICATION), "CR0, MOV to CR, RAX");
        assertEquals(Cpu.CR0_NE, v.get(GUEST_CR0) & Cpu.CR0_NE, "the host-owned bit kept its value in the guest CR0");
        assertEquals(GUEST + 9 + 4, v.get(GUEST_RIP), "RIP at the exiting MOV to CR0");
    }

    @Test
    void cr3LoadExitingSparesTargetValues() {
        t.load(GUEST, TestCpu.assemble("mov $0x1000, %rdx\nmov %rdx, %cr3\nmov $0x5000, %rsi\nmov %rsi, %cr3"));
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | NonRootCr.CR3_LOAD);
        v.set(CR3_TARGET_COUNT, 1);
        v.set(CR3_TARGET_VALUE_0, 0x1000);
        assertTrue(enterAndRun("vmlaunch", 10));
        assertEquals(28, v.get(EXIT_REASON));
        assertEquals(3 | (6 << 8), v.get(EXIT_QUALIFICATION), "CR3, MOV to CR, RSI");
    }

    @Test
    void rdtscInvlpgPauseAndMovDrExiting() {
        String[][] cases = {{"rdtsc", "12", "16"}, {"invlpg 0x1234", "9", "14"}, {"pause", "30", "40"}, {"mov %dr7, %rax", "23", "29"}};
        for (String[] k : cases) {
            setUp();
            t.load(GUEST, TestCpu.assemble(k[0]));
            v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | (1L << Integer.parseInt(k[1])));
            assertTrue(enterAndRun("vmlaunch", 3), k[0]);
            assertEquals(Long.parseLong(k[2]), v.get(EXIT_REASON), k[0]);
        }
        assertEquals(7 | (1 << 4), v.get(EXIT_QUALIFICATION), "MOV from DR7 into RAX");
    }

    @Test
    void faultWhileDeliveringAnInjectedNmiReportsIdtVectoringInformation() {
        long idt = 0x7F00_0000_0000L; // not mapped: reading the NMI gate faults
        v.set(GUEST_IDTR_BASE, idt);
        v.set(GUEST_IDTR_LIMIT, 0xFFF);
        v.set(EXCEPTION_BITMAP, 1 << 14); // #PF exits
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000202L);
        t.load(GUEST, TestCpu.assemble("1: jmp 1b"));
        assertTrue(enterAndRun("vmlaunch", 2));
        assertEquals(0, v.get(EXIT_REASON));
        assertEquals(0x80000B0EL, v.get(EXIT_INTERRUPTION_INFO), "the #PF that exited");
        assertEquals(idt + 2 * 16, v.get(EXIT_QUALIFICATION), "qualification: the faulting linear address");
        assertEquals(0x80000202L, v.get(IDT_VECTORING_INFO), "IDT-vectoring information: the NMI being delivered");
        assertEquals(GUEST, v.get(GUEST_RIP));
    }

    @Test
    void faultingIretThatUnblockedVirtualNmisSetsBit12() {
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | NMI_EXITING | VIRTUAL_NMIS);
        v.set(GUEST_INTERRUPTIBILITY, 8); // virtual-NMI blocking: the guest is in its NMI handler
        v.set(EXCEPTION_BITMAP, 1 << 14);
        t.load(GUEST, TestCpu.assemble("mov $0x7f0000000000, %rsp\niretq"));
        assertTrue(enterAndRun("vmlaunch", 4));
        assertEquals(0x80001B0EL, v.get(EXIT_INTERRUPTION_INFO), "#PF with bit 12, NMI unblocking due to IRET");
        assertEquals(0, v.get(GUEST_INTERRUPTIBILITY) & 8, "the IRET unblocked: the hypervisor must set bit 3 again (docs/vmx-facts.md)");
        assertEquals(0, v.get(IDT_VECTORING_INFO) & 0x80000000L, "not during event delivery");
    }

    @Test
    void initInNonRootIsAVmExitNotAReset() {
        t.load(GUEST, TestCpu.assemble("1: jmp 1b"));
        assertFalse(enterAndRun("vmlaunch", 3));
        c.raiseInit();
        c.run(1);
        assertEquals(3, v.get(EXIT_REASON), "INIT signal");
        assertEquals(Cpu.HLT, c.activity, "not reset to wait-for-SIPI: the host ran its HLT");
        assertTrue(c.vmx.inVmxOperation);
        assertEquals(HOST + 1, c.rip, "the host ran from host RIP");
    }
}
