package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import org.hvlab.machine.events.MachineEvent;
import org.hvlab.machine.vmx.ExitReason;
import org.hvlab.machine.vmx.Vmcs;

/**
 * The host side of every VM exit and of failed VM entries (SDM Vol.3C 27.5 loading host state,
 * 27.6 the VM-exit MSR-load list, 27.7 VMX aborts).
 */
final class VmExits {
    static final int ABORT_EXIT_MSR_STORE = 1, ABORT_EXIT_MSR_LOAD = 4;


    private VmExits() {}

    /**
     * A VM exit (SDM 27): save guest state with RIP at the instruction that caused it, write the
     * exit-information fields, clear the entry interruption valid bit, load host state and
     * process the MSR lists. Execution continues at host RIP.
     */
    static void exit(Cpu c, int reason, long qualification, int insnLength) {
        exit(c, reason, qualification, insnLength, false);
    }

    /** As {@link #exit(Cpu, int, long, int)}; {@code nmi}: the exit is an NMI's under NMI exiting. */
    static void exit(Cpu c, int reason, long qualification, int insnLength, boolean nmi) {
        Vmcs v = c.vmx.current;
        if (c.bus.wants(MachineEvent.Kind.VM_EXIT)) c.bus.publish(new MachineEvent.VmExited(c.index, reason, qualification, c.rip, nmi));
        c.vmx.exits++;
        VmEntry.saveGuestState(c, v);
        v.set(EXIT_REASON, reason);
        v.set(EXIT_QUALIFICATION, qualification);
        v.set(EXIT_INSTRUCTION_LENGTH, insnLength);
        v.set(EXIT_INTERRUPTION_INFO, 0); // no event caused this exit (exception exits overwrite it)
        v.set(IDT_VECTORING_INFO, 0); // IDT-vectoring information: event delivery is not yet a source of exits
        v.set(ENTRY_INTERRUPTION_INFO, v.get(ENTRY_INTERRUPTION_INFO) & ~0x80000000L); // every VM exit clears the valid bit (docs/vmx-facts.md)
        // ... and stores IA32_EFER.LMA into the "IA-32e mode guest" entry control (SDM Vol.3C 27.2,
        // "updating VM-entry control fields"): a guest that switched modes is re-entered in its mode
        long entryCtl = v.get(ENTRY_CONTROLS) & ~VmxControls.ENTRY_IA32E_MODE_GUEST;
        v.set(ENTRY_CONTROLS, entryCtl | ((c.efer & Cpu.EFER_LMA) != 0 ? VmxControls.ENTRY_IA32E_MODE_GUEST : 0));
        savePreemptionTimer(c, v, reason);
        c.vmx.nonRoot = false;
        c.vmx.mtfPending = false;
        c.vmx.preemptionDeadline = -1;
        c.shadow = 0;
        if (!storeExitMsrs(c, v)) return; // VMX abort: the processor shut down
        loadHostState(c, v);
        if (c.javaHost) c.endQuantum(); // the Java host runs next, not x86 code at host RIP
        // without VPID, exits invalidate VPID 0's mappings; with VPID, nothing (SDM 28.3.3.1)
        if (!c.vmx.vpidEnabled) c.tlbs.invalidateVpid0();
        c.tlbs.switchTo(0, -1);
        c.tlbSwitched();
        loadExitMsrs(c, v);
    }


    /** "Save VMX-preemption timer value" (exit control bit 22): the value the timer had counted down to (27.3.4). */
    private static void savePreemptionTimer(Cpu c, Vmcs v, int reason) {
        if ((v.get(EXIT_CONTROLS) & VmxControls.EXIT_SAVE_PREEMPTION_TIMER) == 0 || c.vmx.preemptionDeadline < 0) return;
        // the changes of TSC bit X still to come before the deadline (which is a multiple of 2^X in TSC terms)
        int x = preemptionRate(c);
        long adjust = c.tsc() - c.instructions;
        long left = reason == ExitReason.PREEMPTION_TIMER.code ? 0 : Math.max(0, ((c.vmx.preemptionDeadline + adjust) >> x) - (c.tsc() >> x));
        v.set(VMX_PREEMPTION_TIMER_VALUE, left);
    }

    /** The timer counts down by 1 every 2^X TSC cycles, X = IA32_VMX_MISC[4:0] (SDM 25.5.1; one cycle per instruction here). */
    static int preemptionRate(Cpu c) {
        return (int) (c.profile.vmx(org.hvlab.machine.vmx.CpuProfile.IA32_VMX_MISC) & 0x1F);
    }

    /**
     * An EPT violation (exit 48) or misconfiguration (exit 49), SDM Vol.3C 27.2.1: the
     * guest-physical address, for violations the qualification and guest linear address, and
     * bit 12 when the access was part of an IRET that unblocked NMIs.
     */
    static void eptExit(Cpu c, CpuFault f) {
        Vmcs v = c.vmx.current;
        boolean violation = f.vector == CpuFault.EPT_VIOLATION;
        long q = violation ? f.qualification | (c.iretUnblockedNmi ? 1 << 12 : 0) : 0;
        long linear = c.m64 ? f.linear : f.linear & 0xFFFFFFFFL; // bits 63:32 clear outside 64-bit mode
        exit(c, violation ? ExitReason.EPT_VIOLATION.code : ExitReason.EPT_MISCONFIGURATION.code, q, 0);
        v.set(GUEST_PHYSICAL_ADDRESS, f.address);
        if (violation && f.linear != -1) v.set(GUEST_LINEAR_ADDRESS, linear);
    }

    /** An instruction or event delivery raised {@code f} in VMX non-root operation: a VM exit instead of delivery? */
    static boolean faultExits(Cpu c, CpuFault f) {
        return f.isVmExit() || exceptionExits(c, f);
    }

    /** The VM exit for a fault that {@link #faultExits} says exits. */
    static void faultExit(Cpu c, CpuFault f) {
        if (f.isVmExit()) eptExit(c, f);
        else exceptionExit(c, f);
    }


    /** Performs the boundary VM exit {@link PendingEvent#next} chose (SDM Vol.3C 27.1, 27.2 for what each saves). */
    static void boundaryExit(Cpu c, PendingEvent p) {
        Vmcs v = c.vmx.current;
        switch (p) {
            case MTF_EXIT -> {
                c.vmx.mtfPending = false;
                exit(c, ExitReason.MONITOR_TRAP_FLAG.code, 0, 0);
            }
            case PREEMPTION_TIMER_EXIT -> exit(c, ExitReason.PREEMPTION_TIMER.code, 0, 0);
            case NMI_WINDOW_EXIT -> exit(c, ExitReason.NMI_WINDOW.code, 0, 0);
            case NMI_EXIT -> {
                c.nmiPending = false;
                // from HLT: RIP is already after the HLT and the activity state HLT is saved (real hardware)
                exit(c, ExitReason.EXCEPTION_OR_NMI.code, 0, 0, true);
                v.set(EXIT_INTERRUPTION_INFO, 0x80000202L);
                c.nmiBlocked = true; // an NMI-caused exit leaves NMIs blocked in the host until IRET
            }
            case INTERRUPT_WINDOW_EXIT -> exit(c, ExitReason.INTERRUPT_WINDOW.code, 0, 0);
            case EXTERNAL_INTERRUPT_EXIT -> {
                boolean ack = (v.get(EXIT_CONTROLS) & VmxControls.EXIT_ACK_INTERRUPT) != 0;
                int vector = ack ? c.apic.acknowledge() : -1;
                exit(c, ExitReason.EXTERNAL_INTERRUPT.code, 0, 0);
                v.set(EXIT_INTERRUPTION_INFO, ack ? 0x80000000L | vector : 0);
            }
            default -> throw new IllegalArgumentException("not a boundary VM exit: " + p);
        }
    }

    /**
     * Whether the guest's controls make a later boundary exit without any new event: window
     * exits (the guest's own STI, POPF or IRET can open the window), MTF, preemption timer.
     * Otherwise the boundary is checked again only when an event arrives (Cpu.kick).
     */
    static boolean watchesBoundaries(Cpu c) {
        return (c.vmx.proc & (VmxControls.PROC_NMI_WINDOW | VmxControls.PROC_INTERRUPT_WINDOW | VmxControls.PROC_MONITOR_TRAP_FLAG)) != 0
                || c.vmx.mtfPending || c.vmx.preemptionDeadline >= 0;
    }


    /**
     * Whether NMI blocking holds back an NMI exit. The SDM (Vol.3C 26.6.1, "Interruptibility
     * State"): with "virtual NMIs" = 0 and "NMI exiting" = 1, blocking by NMI remains in effect as
     * long as the processor is in VMX non-root operation, so the NMI waits for the next VM exit.
     * KVM's nested VMX, as L0 under the seeds' XMHF, makes an NMI for L1 exit L2 whatever L2's
     * blocking by NMI (its vmx_nmi_blocked() is false while L1 intercepts NMIs): profile choice
     * nmi-exit-while-guest-nmi-blocked = exit. Seed 000 needs it: its NMIs were injected at the
     * first instruction of Linux's NMI handler, right after the previous injection.
     */
    static boolean nmiExitBlocked(Cpu c) {
        return c.nmiBlocked && !c.nmiExitIgnoresGuestBlocking;
    }


    /** The exception bitmap decides; for #PF the error-code mask/match selects the bit or its inverse (SDM Vol.3C 24.6.3). */
    static boolean exceptionExits(Cpu c, CpuFault f) {
        Vmcs v = c.vmx.current;
        boolean bit = (v.get(EXCEPTION_BITMAP) & (1L << f.vector)) != 0;
        if (f.vector == CpuFault.PF) {
            boolean match = (f.error & v.get(PF_ERROR_CODE_MASK)) == v.get(PF_ERROR_CODE_MATCH);
            return match == bit;
        }
        return bit;
    }

    /** Exit reason 0 for a hardware exception: interruption information, error code, #PF address as qualification (27.2). */
    static void exceptionExit(Cpu c, CpuFault f) {
        Vmcs v = c.vmx.current;
        long info = 0x80000000L | (3 << 8) | f.vector | (f.hasError ? 0x800 : 0)
                | (c.iretUnblockedNmi ? 0x1000 : 0); // bit 12: the faulting IRET had unblocked NMIs (27.2.2)
        exit(c, ExitReason.EXCEPTION_OR_NMI.code, f.vector == CpuFault.PF ? f.address : 0, 0);
        v.set(EXIT_INTERRUPTION_INFO, info);
        v.set(EXIT_INTERRUPTION_ERROR_CODE, f.error & 0xFFFFFFFFL);
    }

    /** A fault exit (exception or EPT) while delivering another event: IDT-vectoring information and error code (27.2.3). */
    static void exitDuringDelivery(Cpu c, CpuFault f, int vector, int type, boolean hasErr, int err, long length) {
        Vmcs v = c.vmx.current;
        boolean software = type == Interrupts.SW_INTERRUPT || type == Interrupts.SW_EXCEPTION || type == Interrupts.PRIV_SW_EXCEPTION;
        c.iretUnblockedNmi = false; // bit 12 is undefined when IDT-vectoring information is valid; report 0
        faultExit(c, f);
        v.set(IDT_VECTORING_INFO, 0x80000000L | ((long) type << 8) | vector | (hasErr ? 0x800 : 0));
        v.set(IDT_VECTORING_ERROR_CODE, err & 0xFFFFFFFFL);
        if (software) v.set(EXIT_INSTRUCTION_LENGTH, length);
    }

    /** 27.4: the VM-exit MSR-store list; a failure is a VMX abort with indicator 1. */
    static boolean storeExitMsrs(Cpu c, Vmcs v) {
        long count = v.get(EXIT_MSR_STORE_COUNT), addr = v.get(EXIT_MSR_STORE_ADDRESS);
        for (long i = 0; i < count; i++) {
            long e = addr + 16 * i;
            int index = c.mem.read32(e);
            long max = 512L * (((c.profile.vmx(org.hvlab.machine.vmx.CpuProfile.IA32_VMX_MISC) >>> 25) & 7) + 1);
            try {
                if (i >= max || c.mem.read32(e + 4) != 0 || (index >>> 8) == 0x8 || index == 0x9B) throw CpuFault.gp0();
                c.mem.write64(e + 8, c.msrs.read(index));
            } catch (CpuFault f) {
                abort(c, v, ABORT_EXIT_MSR_STORE);
                return false;
            }
        }
        return true;
    }

    /**
     * A VM entry that failed after the VMfail checks (26.7): only the exit reason and
     * qualification are written; host state is loaded and the exit MSR-load list processed.
     */
    static void failedEntry(Cpu c, Vmcs v, int basicReason, long qualification) {
        c.vmx.exits++;
        v.set(EXIT_REASON, ExitReason.FAILED_ENTRY | basicReason);
        v.set(EXIT_QUALIFICATION, qualification);
        loadHostState(c, v);
        c.flushTlb(); // host CR3 was reloaded; invalidating more than required is always allowed
        loadExitMsrs(c, v);
    }

    /** SDM 27.5.1-27.5.3: control registers, MSRs, segments, descriptor tables, RIP, RSP, RFLAGS. */
    static void loadHostState(Cpu c, Vmcs v) {
        long exitCtl = v.get(EXIT_CONTROLS);
        boolean host64 = (exitCtl & VmxControls.EXIT_HOST_ADDRESS_SPACE_SIZE) != 0;
        c.cr0 = v.get(HOST_CR0) | Cpu.CR0_ET;
        c.cr3 = v.get(HOST_CR3);
        c.cr4 = v.get(HOST_CR4);
        c.dr[7] = 0x400;
        c.msrs.sysenterCs = v.get(HOST_SYSENTER_CS);
        c.msrs.sysenterEsp = v.get(HOST_SYSENTER_ESP);
        c.msrs.sysenterEip = v.get(HOST_SYSENTER_EIP);
        if ((exitCtl & VmxControls.EXIT_LOAD_PAT) != 0) c.msrs.pat = v.get(HOST_PAT);
        if ((exitCtl & VmxControls.EXIT_LOAD_EFER) != 0) {
            c.efer = v.get(HOST_EFER);
        } else {
            c.efer = host64 ? c.efer | Cpu.EFER_LMA | Cpu.EFER_LME : c.efer & ~(Cpu.EFER_LMA | Cpu.EFER_LME);
        }
        // CS: a flat code segment; the other selectors with flat data attributes (27.5.2)
        c.seg[Segment.CS].set((int) v.get(HOST_CS_SELECTOR), 0, 0xFFFFFFFFL, host64 ? 0xA09B : 0xC09B);
        int[] data = {Segment.ES, Segment.SS, Segment.DS, Segment.FS, Segment.GS};
        int[] enc = {HOST_ES_SELECTOR, HOST_SS_SELECTOR, HOST_DS_SELECTOR, HOST_FS_SELECTOR, HOST_GS_SELECTOR};
        for (int i = 0; i < data.length; i++) {
            int sel = (int) v.get(enc[i]);
            boolean unusable = sel == 0 && data[i] != Segment.SS;
            c.seg[data[i]].set(sel, 0, 0xFFFFFFFFL, unusable ? Segment.UNUSABLE : 0xC093);
        }
        c.seg[Segment.FS].base = v.get(HOST_FS_BASE);
        c.seg[Segment.GS].base = v.get(HOST_GS_BASE);
        c.tr.set((int) v.get(HOST_TR_SELECTOR), v.get(HOST_TR_BASE), 0x67, 0x8B);
        c.ldtr.set(0, 0, 0, Segment.UNUSABLE);
        c.gdtrBase = v.get(HOST_GDTR_BASE);
        c.gdtrLimit = 0xFFFF;
        c.idtrBase = v.get(HOST_IDTR_BASE);
        c.idtrLimit = 0xFFFF;
        c.r[Cpu.RSP] = v.get(HOST_RSP);
        c.nrip = v.get(HOST_RIP); // instruction exits: the run loop moves RIP to nrip
        c.rip = c.nrip;          // exits on the fault and event paths
        c.fl.setAll(2);
        c.cpl = 0;
        c.activity = Cpu.ACTIVE;
        c.modeChanged();
    }

    /** SDM 27.6 with the failure rules of docs/vmx-facts.md "MSR load/store lists"; a failure is a VMX abort. */
    static void loadExitMsrs(Cpu c, Vmcs v) {
        long count = v.get(EXIT_MSR_LOAD_COUNT), addr = v.get(EXIT_MSR_LOAD_ADDRESS);
        for (long i = 0; i < count; i++) {
            long e = addr + 16 * i;
            int index = c.mem.read32(e);
            int reserved = c.mem.read32(e + 4);
            long value = c.mem.read64(e + 8);
            if (!msrListEntryLoads(c, index, reserved, value, i)) {
                abort(c, v, ABORT_EXIT_MSR_LOAD);
                return;
            }
        }
    }

    /** Loads one MSR-list entry as VM entry/exit would; false where hardware fails the entry (docs/vmx-facts.md). */
    static boolean msrListEntryLoads(Cpu c, int index, int reserved, long value, long position) {
        long max = 512L * (((c.profile.vmx(org.hvlab.machine.vmx.CpuProfile.IA32_VMX_MISC) >>> 25) & 7) + 1);
        if (position >= max || reserved != 0) return false;
        if (index == Msrs.IA32_FS_BASE || index == Msrs.IA32_GS_BASE || index == 0x9B /* IA32_SMM_MONITOR_CTL */
                || (index >>> 8) == 0x8 /* x2APIC */ || index == 0x79 /* microcode update trigger */ || index == Msrs.IA32_BIOS_SIGN_ID) return false;
        try {
            c.msrs.write(index, value);
            return true;
        } catch (CpuFault f) {
            return false;
        }
    }

    /** VMX abort (SDM 27.7): the indicator goes into the VMCS region, the processor shuts down. */
    static void abort(Cpu c, Vmcs v, int indicator) {
        c.mem.write32(v.address + 4, indicator);
        c.ints.shutdown("VMX abort, indicator " + indicator);
    }
}
