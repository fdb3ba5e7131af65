package org.hvlab.machine.vmx;

import static org.hvlab.machine.vmx.VmcsFields.*;
import static org.hvlab.machine.vmx.VmxControls.*;

/**
 * The VM-entry checks that end in VMfailValid (SDM Vol.3C 26.2.1 VMX controls, error 7; 26.2.2
 * and 26.2.4 host state, error 8), as a pure function of the VMCS and the profile, in the SDM's
 * order. Returns 0 when they pass.
 */
public final class VmEntryChecks {
    public static final int INVALID_CONTROL_FIELDS = 7, INVALID_HOST_STATE = 8;

    private VmEntryChecks() {}

    /** Physical-address width for VMX structures. */
    static long tooWide(long addr, int width) {
        return addr >>> width;
    }

    /** Allowed-0 bits (low half) must be 1, allowed-1 bits (high half) bound the 1s (SDM Appendix A.3). */
    static boolean allowed(long value, long capability) {
        long must1 = capability & 0xFFFFFFFFL, may1 = capability >>> 32;
        return (value & must1) == must1 && (value & ~may1 & 0xFFFFFFFFL) == 0;
    }

    private static boolean aligned4k(long a, int width) {
        return (a & 0xFFF) == 0 && tooWide(a, width) == 0;
    }

    private static boolean msrListOk(long addr, long count, int width) {
        if (count == 0) return true;
        return (addr & 0xF) == 0 && tooWide(addr, width) == 0 && tooWide(addr + count * 16 - 1, width) == 0;
    }

    /** SDM 26.2.1: VM-execution, VM-exit and VM-entry control fields. */
    public static int controls(Vmcs v, CpuProfile p, int physWidth) {
        boolean trueCtls = (p.vmx(CpuProfile.IA32_VMX_BASIC) & (1L << 55)) != 0;
        long pin = v.get(PIN_BASED_CONTROLS), proc = v.get(PROC_BASED_CONTROLS), exit = v.get(EXIT_CONTROLS), entry = v.get(ENTRY_CONTROLS);
        long proc2 = (proc & PROC_ACTIVATE_SECONDARY) != 0 ? v.get(PROC_BASED_CONTROLS2) : 0;
        if (!allowed(pin, p.vmx(trueCtls ? CpuProfile.IA32_VMX_TRUE_PINBASED_CTLS : CpuProfile.IA32_VMX_PINBASED_CTLS))) return INVALID_CONTROL_FIELDS;
        if (!allowed(proc, p.vmx(trueCtls ? CpuProfile.IA32_VMX_TRUE_PROCBASED_CTLS : CpuProfile.IA32_VMX_PROCBASED_CTLS))) return INVALID_CONTROL_FIELDS;
        if ((proc & PROC_ACTIVATE_SECONDARY) != 0 && !allowed(proc2, p.vmx(CpuProfile.IA32_VMX_PROCBASED_CTLS2))) return INVALID_CONTROL_FIELDS;
        if (v.get(CR3_TARGET_COUNT) > 4) return INVALID_CONTROL_FIELDS; // CR3-target count
        if ((proc & PROC_USE_IO_BITMAPS) != 0 && (!aligned4k(v.get(IO_BITMAP_A), physWidth) || !aligned4k(v.get(IO_BITMAP_B), physWidth))) return INVALID_CONTROL_FIELDS;
        if ((proc & PROC_USE_MSR_BITMAPS) != 0 && !aligned4k(v.get(MSR_BITMAP), physWidth)) return INVALID_CONTROL_FIELDS;
        if ((proc & PROC_USE_TPR_SHADOW) != 0 && !aligned4k(v.get(VIRTUAL_APIC_ADDRESS), physWidth)) return INVALID_CONTROL_FIELDS;
        // "virtual NMIs" needs "NMI exiting"; "NMI-window exiting" needs "virtual NMIs" (docs/vmx-facts.md)
        if ((pin & PIN_NMI_EXITING) == 0 && (pin & PIN_VIRTUAL_NMIS) != 0) return INVALID_CONTROL_FIELDS;
        if ((pin & PIN_VIRTUAL_NMIS) == 0 && (proc & PROC_NMI_WINDOW) != 0) return INVALID_CONTROL_FIELDS;
        if ((proc2 & PROC2_VPID) != 0 && v.get(VPID) == 0) return INVALID_CONTROL_FIELDS;
        if ((proc2 & PROC2_EPT) != 0 && !eptpValid(v.get(EPT_POINTER), p, physWidth)) return INVALID_CONTROL_FIELDS;
        if ((proc2 & PROC2_UNRESTRICTED_GUEST) != 0 && (proc2 & PROC2_EPT) == 0) return INVALID_CONTROL_FIELDS;
        if ((proc2 & PROC2_VMCS_SHADOWING) != 0 && (!aligned4k(v.get(VMREAD_BITMAP_ADDRESS), physWidth) || !aligned4k(v.get(VMWRITE_BITMAP_ADDRESS), physWidth))) return INVALID_CONTROL_FIELDS;
        // VM-exit controls (26.2.1.2)
        if (!allowed(exit, p.vmx(trueCtls ? CpuProfile.IA32_VMX_TRUE_EXIT_CTLS : CpuProfile.IA32_VMX_EXIT_CTLS))) return INVALID_CONTROL_FIELDS;
        if ((pin & PIN_PREEMPTION_TIMER) == 0 && (exit & EXIT_SAVE_PREEMPTION_TIMER) != 0) return INVALID_CONTROL_FIELDS;
        if (!msrListOk(v.get(EXIT_MSR_STORE_ADDRESS), v.get(EXIT_MSR_STORE_COUNT), physWidth) || !msrListOk(v.get(EXIT_MSR_LOAD_ADDRESS), v.get(EXIT_MSR_LOAD_COUNT), physWidth)) return INVALID_CONTROL_FIELDS;
        // VM-entry controls (26.2.1.3)
        if (!allowed(entry, p.vmx(trueCtls ? CpuProfile.IA32_VMX_TRUE_ENTRY_CTLS : CpuProfile.IA32_VMX_ENTRY_CTLS))) return INVALID_CONTROL_FIELDS;
        if (!entryInterruptionValid(v, p, proc2)) return INVALID_CONTROL_FIELDS;
        if (!msrListOk(v.get(ENTRY_MSR_LOAD_ADDRESS), v.get(ENTRY_MSR_LOAD_COUNT), physWidth)) return INVALID_CONTROL_FIELDS;
        if ((entry & (ENTRY_SMM | ENTRY_DEACTIVATE_DUAL_MONITOR)) != 0) return INVALID_CONTROL_FIELDS; // not in SMM
        return 0;
    }

    /** EPTP (SDM 26.2.1.1): a supported memory type, a 4-level walk, A/D only if supported, reserved bits clear. */
    public static boolean eptpValid(long eptp, CpuProfile p, int physWidth) {
        long cap = p.vmx(CpuProfile.IA32_VMX_EPT_VPID_CAP);
        int type = (int) eptp & 7;
        if (!((type == 0 && (cap & (1 << 8)) != 0) || (type == 6 && (cap & (1 << 14)) != 0))) return false;
        if (((eptp >>> 3) & 7) != 3) return false;
        if ((eptp & (1 << 6)) != 0 && (cap & (1 << 21)) == 0) return false;
        return (eptp & 0xF80) == 0 && tooWide(eptp, physWidth) == 0;
    }

    /** The VM-entry interruption-information field (SDM 26.2.1.3), when its valid bit is set. */
    static boolean entryInterruptionValid(Vmcs v, CpuProfile p, long proc2) {
        long info = v.get(ENTRY_INTERRUPTION_INFO);
        if ((info & 0x80000000L) == 0) return true;
        int vector = (int) info & 0xFF, type = (int) (info >>> 8) & 7;
        boolean deliverError = (info & (1 << 11)) != 0;
        if (type == 1) return false;
        if (type == 7 && (vector != 0 || (p.vmx(CpuProfile.IA32_VMX_PROCBASED_CTLS) & (1L << (32 + 27))) == 0)) return false;
        if (type == 2 && vector != 2) return false;
        if (type == 3 && vector > 31) return false;
        boolean unrestricted = (proc2 & PROC2_UNRESTRICTED_GUEST) != 0;
        boolean guestPe = (v.get(GUEST_CR0) & 1) != 0;
        boolean needsError = (!unrestricted || guestPe) && type == 3
                && (vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13 || vector == 14 || vector == 17);
        if (deliverError != needsError) return false;
        if ((info & 0x7FFFF000L) != 0) return false; // bits 30:12 reserved
        if (deliverError && (v.get(ENTRY_EXCEPTION_ERROR_CODE) & 0xFFFF8000L) != 0) return false; // error code bits 31:15
        if (type == 4 || type == 5 || type == 6) {
            long len = v.get(ENTRY_INSTRUCTION_LENGTH);
            boolean zeroOk = (p.vmx(CpuProfile.IA32_VMX_MISC) & (1L << 30)) != 0;
            if (len > 15 || (len == 0 && !zeroOk)) return false;
        }
        return true;
    }

    /** SDM 26.2.2 and 26.2.4: host control registers, MSRs, selectors, bases and address-space size, for a host in IA-32e mode. */
    public static int hostState(Vmcs v, CpuProfile p, int physWidth, boolean hostInIa32e) {
        long exit = v.get(EXIT_CONTROLS);
        long cr0 = v.get(HOST_CR0), cr4 = v.get(HOST_CR4), cr3 = v.get(HOST_CR3);
        if (!allowed(cr0, (p.vmx(CpuProfile.IA32_VMX_CR0_FIXED1) << 32) | p.vmx(CpuProfile.IA32_VMX_CR0_FIXED0)) || (cr0 >>> 32) != 0) return INVALID_HOST_STATE;
        if (!allowed(cr4, (p.vmx(CpuProfile.IA32_VMX_CR4_FIXED1) << 32) | p.vmx(CpuProfile.IA32_VMX_CR4_FIXED0)) || (cr4 >>> 32) != 0) return INVALID_HOST_STATE;
        if (tooWide(cr3, physWidth) != 0) return INVALID_HOST_STATE;
        if (!canonical(v.get(HOST_SYSENTER_ESP)) || !canonical(v.get(HOST_SYSENTER_EIP))) return INVALID_HOST_STATE;
        if ((exit & EXIT_LOAD_PAT) != 0) {
            long pat = v.get(HOST_PAT);
            for (int i = 0; i < 8; i++) {
                long t = (pat >>> (8 * i)) & 0xFF;
                if (!(t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7)) return INVALID_HOST_STATE;
            }
        }
        boolean host64 = (exit & EXIT_HOST_ADDRESS_SPACE_SIZE) != 0;
        if ((exit & EXIT_LOAD_EFER) != 0) {
            long efer = v.get(HOST_EFER);
            if ((efer & ~0xD01L) != 0) return INVALID_HOST_STATE;
            if (((efer & (1 << 10)) != 0) != host64 || ((efer & (1 << 8)) != 0) != host64) return INVALID_HOST_STATE;
        }
        for (int enc = HOST_ES_SELECTOR; enc <= HOST_TR_SELECTOR; enc += 2) if ((v.get(enc) & 7) != 0) return INVALID_HOST_STATE;
        if (v.get(HOST_CS_SELECTOR) == 0 || v.get(HOST_TR_SELECTOR) == 0) return INVALID_HOST_STATE; // CS and TR selectors
        if (!host64 && v.get(HOST_SS_SELECTOR) == 0) return INVALID_HOST_STATE;
        for (int enc : new int[] {HOST_FS_BASE, HOST_GS_BASE, HOST_TR_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE}) if (!canonical(v.get(enc))) return INVALID_HOST_STATE;
        // address-space size (26.2.4): a processor in IA-32e mode can only return to a 64-bit host
        if (hostInIa32e && !host64) return INVALID_HOST_STATE;
        if (!hostInIa32e && ((v.get(ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST) != 0 || host64)) return INVALID_HOST_STATE;
        if (host64 && ((cr4 & 0x20) == 0 || !canonical(v.get(HOST_RIP)))) return INVALID_HOST_STATE;
        return 0;
    }

    static boolean canonical(long a) {
        return ((a << 16) >> 16) == a;
    }
}
