package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.VmxControls;

/**
 * What a CPU takes at an instruction boundary: the one place that decides it (docs/architecture.md
 * "One pending-event evaluator"). The order is the SDM's priority among events at a boundary
 * (Vol.3A 6.9, Table 6-2: external interventions such as INIT, then NMIs, then maskable
 * interrupts), with the VM exits VMX non-root operation puts among them (Vol.3C 25.2 "Other
 * Causes of VM Exits", 25.5 "Features Specific to VMX Non-Root Operation", 26.6 on window exits
 * after VM entry): INIT, SIPI, MTF, preemption timer, NMI window, NMI (an exit with
 * "NMI exiting"), interrupt window, external interrupt (an exit with "external-interrupt
 * exiting"). {@link #next} is pure; the CPU performs what it returns ({@code Cpu.serviceEvents});
 * whether a halted CPU can run and whether a REP string instruction must stop between
 * iterations are both "is anything pending" ({@code Cpu.runnable}, {@code Cpu.eventDeliverable}).
 */
enum PendingEvent {
    /** INIT in VMX non-root operation: VM exit 3, not a reset (SDM Vol.3C 25.2, 27.1). */
    INIT_EXIT,
    /** INIT outside VMX root operation: reset to wait-for-SIPI. */
    INIT_RESET,
    /** A guest in wait-for-SIPI gets its SIPI: VM exit 4 with the vector as qualification (SDM Vol.3C 27.2.1). */
    SIPI_EXIT,
    /** A SIPI starts a CPU in wait-for-SIPI. */
    SIPI_START,
    /** "Monitor trap flag": an MTF exit pending after an instruction or after an injected event's delivery (SDM Vol.3C 25.5.2). */
    MTF_EXIT,
    /** The VMX-preemption timer expired (SDM Vol.3C 25.5.1). */
    PREEMPTION_TIMER_EXIT,
    /** "NMI-window exiting" with no virtual-NMI blocking and no MOV-SS blocking (STI blocking as the profile says). */
    NMI_WINDOW_EXIT,
    /** An NMI with "NMI exiting": VM exit 0 with NMI interruption information. */
    NMI_EXIT,
    /** An NMI delivered through the IDT. */
    NMI,
    /** "Interrupt-window exiting" with RFLAGS.IF = 1 and no STI/MOV-SS blocking. */
    INTERRUPT_WINDOW_EXIT,
    /** An interrupt with "external-interrupt exiting" (RFLAGS.IF does not matter; STI and MOV SS blocking do). */
    EXTERNAL_INTERRUPT_EXIT,
    /** A maskable interrupt delivered through the IDT. */
    INTERRUPT,
    NONE;

    /** The event CPU {@code c} takes at this boundary, {@code blocking} being its STI/MOV-SS blocking here. */
    static PendingEvent next(Cpu c, int blocking) {
        boolean nonRoot = c.vmx.nonRoot;
        if (c.initPending && nonRoot) return INIT_EXIT;
        if (c.initPending && !c.vmx.blocksInit()) return INIT_RESET;
        if (c.activity == Cpu.WAIT_SIPI) return c.sipiVector < 0 ? NONE : nonRoot ? SIPI_EXIT : SIPI_START;
        if (nonRoot) {
            PendingEvent exit = vmExit(c, blocking);
            if (exit != NONE) return exit;
        }
        // a CPU in the shutdown state leaves it only by a VM exit (a guest; SDM Vol.3C 26.6.2) or INIT
        if (c.activity == Cpu.SHUTDOWN) return NONE;
        if (c.nmiPending && !c.nmiBlocked && (blocking & Cpu.BLOCK_MOVSS) == 0) return NMI;
        if ((c.fl.bits & LazyFlags.IF) != 0 && blocking == 0 && c.apic.hasPendingInterrupt()) return INTERRUPT;
        return NONE;
    }

    /** The VM exit VMX non-root operation takes at this boundary, or NONE. */
    private static PendingEvent vmExit(Cpu c, int blocking) {
        long pin = c.vmx.pin, proc = c.vmx.proc;
        boolean movss = (blocking & Cpu.BLOCK_MOVSS) != 0, sti = (blocking & Cpu.BLOCK_STI) != 0;
        // MTF (trap-like, after the previous instruction or injected event) > preemption timer (25.5.1, 25.5.2);
        // both count in instructions + deliveries
        boolean stepped = (proc & VmxControls.PROC_MONITOR_TRAP_FLAG) != 0 && c.instructions + c.deliveries != c.vmx.mtfMark;
        if (c.vmx.mtfPending || stepped) return MTF_EXIT;
        // in HLT the timer keeps counting while nothing else happens: it expires (time is instructions here)
        if (c.vmx.preemptionDeadline >= 0 && (c.instructions >= c.vmx.preemptionDeadline || c.activity == Cpu.HLT)) return PREEMPTION_TIMER_EXIT;
        boolean stiBlocksWindow = sti && c.profile.is(CpuProfile.Choice.NMI_WINDOW_UNDER_STI, "wait");
        if ((proc & VmxControls.PROC_NMI_WINDOW) != 0 && (pin & VmxControls.PIN_VIRTUAL_NMIS) != 0 && !c.vmx.virtualNmiBlocked && !movss && !stiBlocksWindow) {
            return NMI_WINDOW_EXIT;
        }
        if ((pin & VmxControls.PIN_NMI_EXITING) != 0 && c.nmiPending && !VmExits.nmiExitBlocked(c) && !movss) return NMI_EXIT;
        if ((proc & VmxControls.PROC_INTERRUPT_WINDOW) != 0 && (c.fl.bits & LazyFlags.IF) != 0 && blocking == 0) return INTERRUPT_WINDOW_EXIT;
        if ((pin & VmxControls.PIN_EXTERNAL_INTERRUPT_EXITING) != 0 && blocking == 0 && c.apic.hasPendingInterrupt()) return EXTERNAL_INTERRUPT_EXIT;
        return NONE;
    }
}
