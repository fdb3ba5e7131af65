package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Monitor trap flag (SDM Vol.3C 25.5.2, exit 37) and the VMX-preemption timer (25.5.1, exit 52). */
class MtfAndPreemptionTimerTest {
    static final long GUEST = 0x520000, HOST = VmxFixture.HOST_RIP;
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
        v.set(0x4002, v.get(0x4002) | VmxOps.PROC_MONITOR_TRAP_FLAG);
        t.load(GUEST, TestCpu.assemble("mov $1, %eax\nmov $2, %ebx\ncpuid"));
        assertEquals(37, run("vmlaunch"));
        assertEquals(GUEST + 5, v.get(0x681E), "after the first MOV");
        assertEquals(1, c.r[Cpu.RAX]);
        assertEquals(37, run("vmresume"));
        assertEquals(GUEST + 10, v.get(0x681E));
        assertEquals(10, run("vmresume"), "an exiting instruction exits for itself, not MTF");
    }

    @Test
    void pendingMtfInjectionExitsBeforeAnyInstruction() {
        v.set(0x4002, v.get(0x4002) | VmxOps.PROC_MONITOR_TRAP_FLAG);
        v.set(0x4016, 0x80000700L); // type 7 "other event", vector 0: pending MTF VM exit
        t.load(GUEST, TestCpu.assemble("mov $1, %eax"));
        c.r[Cpu.RAX] = 0;
        assertEquals(37, run("vmlaunch"));
        assertEquals(GUEST, v.get(0x681E));
        assertEquals(0, c.r[Cpu.RAX]);
    }

    @Test
    void preemptionTimerExitsAndSavesItsValue() {
        v.set(0x4000, v.get(0x4000) | VmEntryChecks.PIN_PREEMPTION_TIMER);
        v.set(0x400C, v.get(0x400C) | VmEntryChecks.EXIT_SAVE_PREEMPTION);
        v.set(0x482E, 0);
        t.load(GUEST, TestCpu.assemble("1: inc %rax\njmp 1b"));
        c.r[Cpu.RAX] = 0;
        assertEquals(52, run("vmlaunch"), "a zero timer exits before the first instruction");
        assertEquals(0, c.r[Cpu.RAX]);
        v.set(0x482E, 3); // 3 ticks of 2^5 instructions (IA32_VMX_MISC[4:0] = 5)
        alignTscAtEntry(0); // the first decrement is a full 32 ticks away
        assertEquals(52, run("vmresume"));
        assertEquals(48, c.r[Cpu.RAX], "96 instructions: 48 INC + 48 JMP");
        assertEquals(0, v.get(0x482E), "saved value 0");
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
        v.set(0x4000, v.get(0x4000) | VmEntryChecks.PIN_PREEMPTION_TIMER);
        t.load(GUEST, TestCpu.assemble("1: inc %rax\njmp 1b"));
        c.r[Cpu.RAX] = 0;
        v.set(0x482E, 1);
        alignTscAtEntry(31);
        assertEquals(52, run("vmlaunch"));
        assertEquals(1, c.r[Cpu.RAX], "one instruction takes the TSC from 31 to 32 mod 32: one INC");
        c.r[Cpu.RAX] = 0;
        v.set(0x681E, GUEST);
        v.set(0x482E, 3);
        alignTscAtEntry(16);
        assertEquals(52, run("vmresume"));
        assertEquals(40, c.r[Cpu.RAX], "16 + 32 + 32 = 80 instructions: 40 INC + 40 JMP");
    }

    @Test
    void savedTimerValueCountsTscBit5Changes() {
        v.set(0x4000, v.get(0x4000) | VmEntryChecks.PIN_PREEMPTION_TIMER);
        v.set(0x400C, v.get(0x400C) | VmEntryChecks.EXIT_SAVE_PREEMPTION);
        v.set(0x482E, 1000);
        t.load(GUEST, TestCpu.assemble("nop\nnop\ncpuid"));
        alignTscAtEntry(30);
        assertEquals(10, run("vmlaunch"));
        assertEquals(999, v.get(0x482E), "two NOPs took the TSC across a multiple of 32: one decrement (27.3.4)");
    }

    @Test
    void hltWithThePreemptionTimerArmedEndsInATimerExit() {
        v.set(0x4000, v.get(0x4000) | VmEntryChecks.PIN_PREEMPTION_TIMER);
        v.set(0x482E, 1000);
        t.load(GUEST, TestCpu.assemble("hlt"));
        assertEquals(52, run("vmlaunch"));
        assertEquals(1, v.get(0x4826), "activity state HLT");
        assertEquals(GUEST + 1, v.get(0x681E), "RIP after the HLT");
    }

    @Test
    void mtfExitAfterAFaultComesAfterItsDelivery() {
        long idt = 0x540000, handler = 0x548000;
        t.machine.memory().write64(idt + 6 * 16, (handler & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((handler & 0xFFFF0000L) << 32));
        t.machine.memory().write64(idt + 6 * 16 + 8, 0);
        v.set(0x6818, idt);
        v.set(0x4812, 0xFFF);
        v.set(0x4002, v.get(0x4002) | VmxOps.PROC_MONITOR_TRAP_FLAG);
        t.load(GUEST, TestCpu.assemble("ud2"));
        assertEquals(37, run("vmlaunch"));
        assertEquals(handler, v.get(0x681E), "the #UD was delivered; the exit is before the handler's first instruction");
    }
}
