package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Monitor trap flag (SDM Vol.3C 25.5.2, exit 37) and the VMX-preemption timer (25.5.1, exit 52). */
class MtfAndPreemptionTimerTest {
    static final long GUEST = 0x520000, HOST = VmxTestBed.HOST_CODE;
    VmxTestBed bed;
    TestCpu t;
    Cpu c;
    Vmcs v;

    @BeforeEach
    void setUp() {
        bed = new VmxTestBed();
        t = bed.t;
        c = bed.c;
        v = bed.v;
    }

    long run(String insn) {
        return bed.run(insn);
    }

    @Test
    void monitorTrapFlagExitsAfterEachGuestInstruction() {
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_MONITOR_TRAP_FLAG);
        t.load(GUEST, TestCpu.assemble("mov $1, %eax\nmov $2, %ebx\ncpuid"));
        assertEquals(37, run("vmlaunch"));
        assertEquals(GUEST + 5, v.get(GUEST_RIP), "after the first MOV");
        assertEquals(1, c.r[Cpu.RAX]);
        assertEquals(37, run("vmresume"));
        assertEquals(GUEST + 10, v.get(GUEST_RIP));
        assertEquals(10, run("vmresume"), "an exiting instruction exits for itself, not MTF");
    }

    @Test
    void pendingMtfInjectionExitsBeforeAnyInstruction() {
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_MONITOR_TRAP_FLAG);
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000700L); // type 7 "other event", vector 0: pending MTF VM exit
        t.load(GUEST, TestCpu.assemble("mov $1, %eax"));
        c.r[Cpu.RAX] = 0;
        assertEquals(37, run("vmlaunch"));
        assertEquals(GUEST, v.get(GUEST_RIP));
        assertEquals(0, c.r[Cpu.RAX]);
    }

    @Test
    void preemptionTimerExitsAndSavesItsValue() {
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_PREEMPTION_TIMER);
        v.set(EXIT_CONTROLS, v.get(EXIT_CONTROLS) | VmxControls.EXIT_SAVE_PREEMPTION_TIMER);
        v.set(VMX_PREEMPTION_TIMER_VALUE, 0);
        t.load(GUEST, TestCpu.assemble("1: inc %rax\njmp 1b"));
        c.r[Cpu.RAX] = 0;
        assertEquals(52, run("vmlaunch"), "a zero timer exits before the first instruction");
        assertEquals(0, c.r[Cpu.RAX]);
        v.set(VMX_PREEMPTION_TIMER_VALUE, 3); // 3 ticks of 2^5 instructions (IA32_VMX_MISC[4:0] = 5)
        alignTscAtEntry(0); // the first decrement is a full 32 ticks away
        assertEquals(52, run("vmresume"));
        assertEquals(48, c.r[Cpu.RAX], "96 instructions: 48 INC + 48 JMP");
        assertEquals(0, v.get(VMX_PREEMPTION_TIMER_VALUE), "saved value 0");
    }

    /** Sets the TSC so that, at the VM entry of the next run (whose VMLAUNCH/VMRESUME retires with it), TSC mod 32 = phase. */
    void alignTscAtEntry(int phase) {
        long entry = c.tsc() + 1;
        c.msrs.tscAdjust += ((phase - entry) % 32 + 32) % 32;
    }

    @Test
    void preemptionTimerDecrementsWhenTscBit5Changes() {
        // SDM 25.5.1: the timer counts down by 1 every time bit X (5 here) of the TSC changes,
        // so the first decrement comes at the next multiple of 32, not 32 ticks after entry
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_PREEMPTION_TIMER);
        t.load(GUEST, TestCpu.assemble("1: inc %rax\njmp 1b"));
        c.r[Cpu.RAX] = 0;
        v.set(VMX_PREEMPTION_TIMER_VALUE, 1);
        alignTscAtEntry(31);
        assertEquals(52, run("vmlaunch"));
        assertEquals(1, c.r[Cpu.RAX], "one instruction takes the TSC from 31 to 32 mod 32: one INC");
        c.r[Cpu.RAX] = 0;
        v.set(GUEST_RIP, GUEST);
        v.set(VMX_PREEMPTION_TIMER_VALUE, 3);
        alignTscAtEntry(16);
        assertEquals(52, run("vmresume"));
        assertEquals(40, c.r[Cpu.RAX], "16 + 32 + 32 = 80 instructions: 40 INC + 40 JMP");
    }

    @Test
    void savedTimerValueCountsTscBit5Changes() {
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_PREEMPTION_TIMER);
        v.set(EXIT_CONTROLS, v.get(EXIT_CONTROLS) | VmxControls.EXIT_SAVE_PREEMPTION_TIMER);
        v.set(VMX_PREEMPTION_TIMER_VALUE, 1000);
        t.load(GUEST, TestCpu.assemble("nop\nnop\ncpuid"));
        alignTscAtEntry(30);
        assertEquals(10, run("vmlaunch"));
        assertEquals(999, v.get(VMX_PREEMPTION_TIMER_VALUE), "two NOPs took the TSC across a multiple of 32: one decrement (27.3.4)");
    }

    @Test
    void hltWithThePreemptionTimerArmedEndsInATimerExit() {
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_PREEMPTION_TIMER);
        v.set(VMX_PREEMPTION_TIMER_VALUE, 1000);
        t.load(GUEST, TestCpu.assemble("hlt"));
        assertEquals(52, run("vmlaunch"));
        assertEquals(1, v.get(GUEST_ACTIVITY_STATE), "activity state HLT");
        assertEquals(GUEST + 1, v.get(GUEST_RIP), "RIP after the HLT");
    }

    @Test
    void mtfExitAfterAFaultComesAfterItsDelivery() {
        long idt = 0x540000, handler = 0x548000;
        t.machine.memory().write64(idt + 6 * 16, (handler & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((handler & 0xFFFF0000L) << 32));
        t.machine.memory().write64(idt + 6 * 16 + 8, 0);
        v.set(GUEST_IDTR_BASE, idt);
        v.set(GUEST_IDTR_LIMIT, 0xFFF);
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_MONITOR_TRAP_FLAG);
        t.load(GUEST, TestCpu.assemble("ud2"));
        assertEquals(37, run("vmlaunch"));
        assertEquals(handler, v.get(GUEST_RIP), "the #UD was delivered; the exit is before the handler's first instruction");
    }
}
