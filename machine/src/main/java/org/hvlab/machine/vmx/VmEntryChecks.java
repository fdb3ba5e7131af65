package org.hvlab.machine.vmx;

import static org.hvlab.machine.vmx.VmcsFields.*;
import static org.hvlab.machine.vmx.EntryCheckFailure.control;
import static org.hvlab.machine.vmx.EntryCheckFailure.host;
import static org.hvlab.machine.vmx.VmxControls.*;

/**
 * The VM-entry checks that end in VMfailValid (SDM Vol.3C 26.2.1 VMX controls, error 7; 26.2.2
 * to 26.2.4 host state, error 8), as a pure function of a VMCS view and the profile, in the SDM's
 * order. Each returns the first failing check, named ({@link EntryCheckFailure}), or null.
 */
public final class VmEntryChecks {

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

    /** SDM 26.2.1: VM-execution, VM-exit and VM-entry control fields; null when they pass. */
    public static EntryCheckFailure controls(VmcsView v, CpuProfile p, int physWidth) {
        boolean trueCtls = (p.vmx(CpuProfile.IA32_VMX_BASIC) & (1L << 55)) != 0;
        long pin = v.get(PIN_BASED_CONTROLS), proc = v.get(PROC_BASED_CONTROLS), exit = v.get(EXIT_CONTROLS), entry = v.get(ENTRY_CONTROLS);
        long proc2 = (proc & PROC_ACTIVATE_SECONDARY) != 0 ? v.get(PROC_BASED_CONTROLS2) : 0;
        // 26.2.1.1 VM-execution control fields
        if (!allowed(pin, p.vmx(trueCtls ? CpuProfile.IA32_VMX_TRUE_PINBASED_CTLS : CpuProfile.IA32_VMX_PINBASED_CTLS)))
            return control("26.2.1.1", "pin-based controls outside what IA32_VMX_" + (trueCtls ? "TRUE_" : "") + "PINBASED_CTLS allows");
        if (!allowed(proc, p.vmx(trueCtls ? CpuProfile.IA32_VMX_TRUE_PROCBASED_CTLS : CpuProfile.IA32_VMX_PROCBASED_CTLS)))
            return control("26.2.1.1", "primary processor-based controls outside what IA32_VMX_" + (trueCtls ? "TRUE_" : "") + "PROCBASED_CTLS allows");
        if ((proc & PROC_ACTIVATE_SECONDARY) != 0 && !allowed(proc2, p.vmx(CpuProfile.IA32_VMX_PROCBASED_CTLS2)))
            return control("26.2.1.1", "secondary processor-based controls outside what IA32_VMX_PROCBASED_CTLS2 allows");
        if (v.get(CR3_TARGET_COUNT) > 4) return control("26.2.1.1", "CR3-target count greater than 4");
        if ((proc & PROC_USE_IO_BITMAPS) != 0 && (!aligned4k(v.get(IO_BITMAP_A), physWidth) || !aligned4k(v.get(IO_BITMAP_B), physWidth)))
            return control("26.2.1.1", "I/O bitmap address not 4-KByte aligned or beyond the physical-address width");
        if ((proc & PROC_USE_MSR_BITMAPS) != 0 && !aligned4k(v.get(MSR_BITMAP), physWidth))
            return control("26.2.1.1", "MSR-bitmap address not 4-KByte aligned or beyond the physical-address width");
        if ((proc & PROC_USE_TPR_SHADOW) != 0 && !aligned4k(v.get(VIRTUAL_APIC_ADDRESS), physWidth))
            return control("26.2.1.1", "virtual-APIC address not 4-KByte aligned or beyond the physical-address width");
        // "virtual NMIs" needs "NMI exiting"; "NMI-window exiting" needs "virtual NMIs" (docs/vmx-facts.md)
        if ((pin & PIN_NMI_EXITING) == 0 && (pin & PIN_VIRTUAL_NMIS) != 0) return control("26.2.1.1", "virtual NMIs without NMI exiting");
        if ((pin & PIN_VIRTUAL_NMIS) == 0 && (proc & PROC_NMI_WINDOW) != 0) return control("26.2.1.1", "NMI-window exiting without virtual NMIs");
        if ((proc2 & PROC2_VPID) != 0 && v.get(VPID) == 0) return control("26.2.1.1", "enable VPID with VPID 0");
        if ((proc2 & PROC2_EPT) != 0 && !eptpValid(v.get(EPT_POINTER), p, physWidth))
            return control("26.2.1.1", "enable EPT with an invalid EPT pointer (memory type, walk length, A/D flag or reserved bits)");
        if ((proc2 & PROC2_UNRESTRICTED_GUEST) != 0 && (proc2 & PROC2_EPT) == 0) return control("26.2.1.1", "unrestricted guest without enable EPT");
        if ((proc2 & PROC2_VMCS_SHADOWING) != 0 && (!aligned4k(v.get(VMREAD_BITMAP_ADDRESS), physWidth) || !aligned4k(v.get(VMWRITE_BITMAP_ADDRESS), physWidth)))
            return control("26.2.1.1", "VMCS shadowing with a VMREAD or VMWRITE bitmap address not 4-KByte aligned or too wide");
        // 26.2.1.2 VM-exit control fields
        if (!allowed(exit, p.vmx(trueCtls ? CpuProfile.IA32_VMX_TRUE_EXIT_CTLS : CpuProfile.IA32_VMX_EXIT_CTLS)))
            return control("26.2.1.2", "VM-exit controls outside what IA32_VMX_" + (trueCtls ? "TRUE_" : "") + "EXIT_CTLS allows");
        if ((pin & PIN_PREEMPTION_TIMER) == 0 && (exit & EXIT_SAVE_PREEMPTION_TIMER) != 0)
            return control("26.2.1.2", "save VMX-preemption timer value without activate VMX-preemption timer");
        if (!msrListOk(v.get(EXIT_MSR_STORE_ADDRESS), v.get(EXIT_MSR_STORE_COUNT), physWidth))
            return control("26.2.1.2", "VM-exit MSR-store address not 16-byte aligned or the list beyond the physical-address width");
        if (!msrListOk(v.get(EXIT_MSR_LOAD_ADDRESS), v.get(EXIT_MSR_LOAD_COUNT), physWidth))
            return control("26.2.1.2", "VM-exit MSR-load address not 16-byte aligned or the list beyond the physical-address width");
        // 26.2.1.3 VM-entry control fields
        if (!allowed(entry, p.vmx(trueCtls ? CpuProfile.IA32_VMX_TRUE_ENTRY_CTLS : CpuProfile.IA32_VMX_ENTRY_CTLS)))
            return control("26.2.1.3", "VM-entry controls outside what IA32_VMX_" + (trueCtls ? "TRUE_" : "") + "ENTRY_CTLS allows");
        String injection = entryInterruptionInvalid(v, p, proc2);
        if (injection != null) return control("26.2.1.3", "VM-entry interruption information: " + injection);
        if (!msrListOk(v.get(ENTRY_MSR_LOAD_ADDRESS), v.get(ENTRY_MSR_LOAD_COUNT), physWidth))
            return control("26.2.1.3", "VM-entry MSR-load address not 16-byte aligned or the list beyond the physical-address width");
        if ((entry & (ENTRY_SMM | ENTRY_DEACTIVATE_DUAL_MONITOR)) != 0)
            return control("26.2.1.3", "entry to SMM or deactivate dual-monitor treatment outside SMM");
        return null;
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

    /** The VM-entry interruption-information field (SDM 26.2.1.3), when its valid bit is set: what is wrong with it, or null. */
    static String entryInterruptionInvalid(VmcsView v, CpuProfile p, long proc2) {
        long info = v.get(ENTRY_INTERRUPTION_INFO);
        if ((info & INTERRUPTION_INFO_VALID) == 0) return null;
        int vector = (int) info & 0xFF, type = (int) (info >>> 8) & 7;
        boolean deliverError = (info & (1 << 11)) != 0;
        if (type == 1) return "reserved type 1";
        if (type == 7 && (vector != 0 || (p.vmx(CpuProfile.IA32_VMX_PROCBASED_CTLS) & (1L << (32 + 27))) == 0))
            return "other event (type 7) needs vector 0 and monitor trap flag support";
        if (type == 2 && vector != 2) return "NMI (type 2) with a vector other than 2";
        if (type == 3 && vector > 31) return "hardware exception (type 3) with a vector above 31";
        boolean unrestricted = (proc2 & PROC2_UNRESTRICTED_GUEST) != 0;
        boolean guestPe = (v.get(GUEST_CR0) & 1) != 0;
        boolean needsError = (!unrestricted || guestPe) && type == 3
                && (vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13 || vector == 14 || vector == 17);
        if (deliverError != needsError) return deliverError ? "deliver error code for an event that has none" : "no error code for an exception that has one";
        if ((info & 0x7FFFF000L) != 0) return "reserved bits 30:12 set";
        if (deliverError && (v.get(ENTRY_EXCEPTION_ERROR_CODE) & 0xFFFF8000L) != 0) return "error code bits 31:15 set";
        if (type == 4 || type == 5 || type == 6) {
            long len = v.get(ENTRY_INSTRUCTION_LENGTH);
            boolean zeroOk = (p.vmx(CpuProfile.IA32_VMX_MISC) & (1L << 30)) != 0;
            if (len > 15 || (len == 0 && !zeroOk)) return "software event with an instruction length of " + len;
        }
        return null;
    }

    /** SDM 26.2.2 to 26.2.4: host control registers, MSRs, selectors, bases and address-space size; null when they pass. */
    public static EntryCheckFailure hostState(VmcsView v, CpuProfile p, int physWidth, boolean hostInIa32e) {
        long exit = v.get(EXIT_CONTROLS);
        long cr0 = v.get(HOST_CR0), cr4 = v.get(HOST_CR4), cr3 = v.get(HOST_CR3);
        if (!allowed(cr0, (p.vmx(CpuProfile.IA32_VMX_CR0_FIXED1) << 32) | p.vmx(CpuProfile.IA32_VMX_CR0_FIXED0)) || (cr0 >>> 32) != 0)
            return host("26.2.2", "host CR0 against IA32_VMX_CR0_FIXED0/FIXED1");
        if (!allowed(cr4, (p.vmx(CpuProfile.IA32_VMX_CR4_FIXED1) << 32) | p.vmx(CpuProfile.IA32_VMX_CR4_FIXED0)) || (cr4 >>> 32) != 0)
            return host("26.2.2", "host CR4 against IA32_VMX_CR4_FIXED0/FIXED1");
        if (tooWide(cr3, physWidth) != 0) return host("26.2.2", "host CR3 beyond the physical-address width");
        if (!canonical(v.get(HOST_SYSENTER_ESP)) || !canonical(v.get(HOST_SYSENTER_EIP))) return host("26.2.2", "host IA32_SYSENTER_ESP or EIP not canonical");
        if ((exit & EXIT_LOAD_PAT) != 0) {
            long pat = v.get(HOST_PAT);
            for (int i = 0; i < 8; i++) {
                long t = (pat >>> (8 * i)) & 0xFF;
                if (!(t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7)) return host("26.2.2", "load IA32_PAT with an invalid memory type in host IA32_PAT");
            }
        }
        boolean host64 = (exit & EXIT_HOST_ADDRESS_SPACE_SIZE) != 0;
        if ((exit & EXIT_LOAD_EFER) != 0) {
            long efer = v.get(HOST_EFER);
            if ((efer & ~0xD01L) != 0) return host("26.2.2", "load IA32_EFER with reserved bits set in host IA32_EFER");
            if (((efer & (1 << 10)) != 0) != host64 || ((efer & (1 << 8)) != 0) != host64)
                return host("26.2.2", "host IA32_EFER.LMA/LME differ from host address-space size");
        }
        for (int enc = HOST_ES_SELECTOR; enc <= HOST_TR_SELECTOR; enc += 2) if ((v.get(enc) & 7) != 0) return host("26.2.3", "a host selector with RPL or TI set");
        if (v.get(HOST_CS_SELECTOR) == 0 || v.get(HOST_TR_SELECTOR) == 0) return host("26.2.3", "host CS or TR selector 0");
        if (!host64 && v.get(HOST_SS_SELECTOR) == 0) return host("26.2.3", "host SS selector 0 without host address-space size");
        for (int enc : new int[] {HOST_FS_BASE, HOST_GS_BASE, HOST_TR_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE})
            if (!canonical(v.get(enc))) return host("26.2.3", "a host FS, GS, TR, GDTR or IDTR base not canonical");
        // address-space size (26.2.4): a processor in IA-32e mode can only return to a 64-bit host
        if (hostInIa32e && !host64) return host("26.2.4", "IA-32e mode host without host address-space size");
        if (!hostInIa32e && ((v.get(ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST) != 0 || host64))
            return host("26.2.4", "IA-32e mode guest or host address-space size from a host outside IA-32e mode");
        if (host64 && (cr4 & 0x20) == 0) return host("26.2.4", "host address-space size without host CR4.PAE");
        if (host64 && !canonical(v.get(HOST_RIP))) return host("26.2.4", "host RIP not canonical");
        return null;
    }

    static boolean canonical(long a) {
        return ((a << 16) >> 16) == a;
    }
}
