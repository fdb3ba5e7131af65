package org.hvlab.machine.vmx;

import static org.hvlab.machine.vmx.VmcsFields.*;

/**
 * Checks of the guest-state area that make VM entry fail with exit reason 33 (SDM Vol.3C
 * 26.3.1; docs/vmx-facts.md). {@link #check} returns the first failing check, named, with the
 * exit qualification: 0 for most failures, 3 for NMI injection under STI blocking where the
 * profile says so, 4 for an invalid VMCS link pointer; null when all pass. Modelled: control registers, debug and EFER, segment registers (not in
 * virtual-8086 mode, which the machine does not model), GDTR/IDTR, RIP and RFLAGS, activity and
 * interruptibility state with the event-injection rules, the link pointer's alignment. The
 * checks that read memory (PDPTEs, qualification 2; the revision of the VMCS the link pointer
 * names, qualification 4) are made by the CPU's VM entry (cpu.VmxOps).
 */
public final class GuestStateChecks {
    public static final int QUAL_DEFAULT = 0, QUAL_PDPTE = 2, QUAL_NMI_UNDER_STI = 3, QUAL_LINK_POINTER = 4;

    private GuestStateChecks() {}

    static final int UNUSABLE = 1 << 16;

    /** G must match the limit (SDM 26.3.1.2): limit[11:0] not all ones needs G=0, limit[31:20] non-zero needs G=1. */
    private static boolean granularityOk(long limit, long ar) {
        boolean g = (ar & (1 << 15)) != 0;
        if ((limit & 0xFFF) != 0xFFF && g) return false;
        return (limit >>> 20) == 0 || g;
    }

    /** 26.3.1.2 for a guest that is not in virtual-8086 mode: what is wrong with the segment registers, or null. */
    static String segmentsInvalid(VmcsView v, boolean ia32e, boolean unrestricted, long cr0) {
        int csSel = (int) v.get(GUEST_CS_SELECTOR), ssSel = (int) v.get(GUEST_SS_SELECTOR);
        long csAr = v.get(GUEST_CS_ACCESS_RIGHTS), ssAr = v.get(GUEST_SS_ACCESS_RIGHTS);
        long trAr = v.get(GUEST_TR_ACCESS_RIGHTS), ldtrAr = v.get(GUEST_LDTR_ACCESS_RIGHTS);
        // selectors
        if ((v.get(GUEST_TR_SELECTOR) & 4) != 0) return "TR selector with TI set";
        if ((ldtrAr & UNUSABLE) == 0 && (v.get(GUEST_LDTR_SELECTOR) & 4) != 0) return "usable LDTR selector with TI set";
        if (!unrestricted && (ssSel & 3) != (csSel & 3)) return "SS selector RPL differs from CS selector RPL";
        // bases
        for (int enc : new int[] {GUEST_TR_BASE, GUEST_FS_BASE, GUEST_GS_BASE}) if (!VmEntryChecks.canonical(v.get(enc))) return "TR, FS or GS base not canonical";
        if ((ldtrAr & UNUSABLE) == 0 && !VmEntryChecks.canonical(v.get(GUEST_LDTR_BASE))) return "usable LDTR base not canonical";
        if ((v.get(GUEST_CS_BASE) >>> 32) != 0) return "CS base bits 63:32 set";
        int[][] data = {{GUEST_SS_ACCESS_RIGHTS, GUEST_SS_BASE}, {GUEST_DS_ACCESS_RIGHTS, GUEST_DS_BASE}, {GUEST_ES_ACCESS_RIGHTS, GUEST_ES_BASE}};
        for (int[] d : data) if ((v.get(d[0]) & UNUSABLE) == 0 && (v.get(d[1]) >>> 32) != 0) return "usable SS, DS or ES base bits 63:32 set";
        // CS
        int csType = (int) csAr & 0xF;
        if (!(csType == 9 || csType == 11 || csType == 13 || csType == 15 || (unrestricted && csType == 3))) return "CS type " + csType + " is not an accessed code segment";
        if ((csAr & 0x10) == 0 || (csAr & 0x80) == 0 || (csAr & 0xF00) != 0 || (csAr & 0xFFFE0000L) != 0) return "CS access rights: S, P or reserved bits";
        int csDpl = (int) (csAr >> 5) & 3, ssDpl = (int) (ssAr >> 5) & 3;
        if ((csType == 9 || csType == 11) && csDpl != ssDpl) return "non-conforming CS DPL differs from SS DPL";
        if ((csType == 13 || csType == 15) && csDpl > ssDpl) return "conforming CS DPL above SS DPL";
        if (csType == 3 && csDpl != 0) return "CS type 3 (unrestricted guest) with DPL other than 0";
        if (ia32e && (csAr & (1 << 13)) != 0 && (csAr & (1 << 14)) != 0) return "CS with both L and D/B set in IA-32e mode"; // L and D/B
        if (!granularityOk(v.get(GUEST_CS_LIMIT), csAr)) return "CS limit and granularity disagree";
        // SS
        if ((ssAr & UNUSABLE) == 0) {
            int t = (int) ssAr & 0xF;
            if ((t != 3 && t != 7) || (ssAr & 0x10) == 0 || (ssAr & 0x80) == 0 || (ssAr & 0xF00) != 0 || (ssAr & 0xFFFE0000L) != 0)
                return "usable SS is not a present read/write data segment, or reserved bits";
            if (!granularityOk(v.get(GUEST_SS_LIMIT), ssAr)) return "SS limit and granularity disagree";
        }
        if (!unrestricted && ssDpl != (ssSel & 3)) return "SS DPL differs from SS selector RPL";
        if ((cr0 & 1) == 0 && ssDpl != 0) return "SS DPL other than 0 with CR0.PE clear";
        // DS, ES, FS, GS
        int[][] others = {{GUEST_ES_ACCESS_RIGHTS, GUEST_ES_LIMIT, GUEST_ES_SELECTOR}, {GUEST_DS_ACCESS_RIGHTS, GUEST_DS_LIMIT, GUEST_DS_SELECTOR}, {GUEST_FS_ACCESS_RIGHTS, GUEST_FS_LIMIT, GUEST_FS_SELECTOR}, {GUEST_GS_ACCESS_RIGHTS, GUEST_GS_LIMIT, GUEST_GS_SELECTOR}};
        String[] names = {"ES", "DS", "FS", "GS"};
        for (int k = 0; k < others.length; k++) {
            int[] o = others[k];
            long ar = v.get(o[0]);
            if ((ar & UNUSABLE) != 0) continue;
            if ((ar & 1) == 0 || ((ar & 8) != 0 && (ar & 2) == 0)) return "usable " + names[k] + " not accessed, or code that is not readable";
            if ((ar & 0x10) == 0 || (ar & 0x80) == 0 || (ar & 0xF00) != 0 || (ar & 0xFFFE0000L) != 0) return "usable " + names[k] + " access rights: S, P or reserved bits";
            int type = (int) ar & 0xF;
            if (!unrestricted && type <= 11 && ((ar >> 5) & 3) < (v.get(o[2]) & 3)) return "usable " + names[k] + " DPL below its selector RPL";
            if (!granularityOk(v.get(o[1]), ar)) return names[k] + " limit and granularity disagree";
        }
        // TR: a busy TSS (64-bit in IA-32e mode), usable
        int trType = (int) trAr & 0xF;
        if (ia32e ? trType != 11 : (trType != 3 && trType != 11)) return "TR type " + trType + " is not a busy TSS" + (ia32e ? " (64-bit in IA-32e mode)" : "");
        if ((trAr & 0x10) != 0 || (trAr & 0x80) == 0 || (trAr & 0xF00) != 0 || (trAr & 0xFFFE0000L) != 0) return "TR access rights: S, P, reserved bits or unusable";
        if (!granularityOk(v.get(GUEST_TR_LIMIT), trAr)) return "TR limit and granularity disagree";
        // LDTR, if usable
        if ((ldtrAr & UNUSABLE) == 0) {
            if ((ldtrAr & 0xF) != 2 || (ldtrAr & 0x10) != 0 || (ldtrAr & 0x80) == 0 || (ldtrAr & 0xF00) != 0 || (ldtrAr & 0xFFFE0000L) != 0)
                return "usable LDTR is not a present LDT descriptor, or reserved bits";
            if (!granularityOk(v.get(GUEST_LDTR_LIMIT), ldtrAr)) return "LDTR limit and granularity disagree";
        }
        return null;
    }

    private static EntryCheckFailure fail(String section, String check) {
        return EntryCheckFailure.guest(QUAL_DEFAULT, section, check);
    }

    /** All guest-state checks this class models, in the SDM's order: the first that fails, or null. */
    public static EntryCheckFailure check(VmcsView v, CpuProfile p, int physWidth) {
        long entry = v.get(ENTRY_CONTROLS), pin = v.get(PIN_BASED_CONTROLS), proc = v.get(PROC_BASED_CONTROLS);
        long proc2 = (proc & VmxControls.PROC_ACTIVATE_SECONDARY) != 0 ? v.get(PROC_BASED_CONTROLS2) : 0;
        boolean unrestricted = (proc2 & VmxControls.PROC2_UNRESTRICTED_GUEST) != 0;
        boolean ia32e = (entry & VmxControls.ENTRY_IA32E_MODE_GUEST) != 0;
        long cr0 = v.get(GUEST_CR0), cr4 = v.get(GUEST_CR4), cr3 = v.get(GUEST_CR3);
        // 26.3.1.1 control registers, debug registers, MSRs
        long fixed0 = p.vmx(CpuProfile.IA32_VMX_CR0_FIXED0);
        if (unrestricted) fixed0 &= ~0x80000001L; // PE and PG may be 0 with "unrestricted guest"
        if (!VmEntryChecks.allowed(cr0, (p.vmx(CpuProfile.IA32_VMX_CR0_FIXED1) << 32) | fixed0) || (cr0 >>> 32) != 0) return fail("26.3.1.1", "guest CR0 against IA32_VMX_CR0_FIXED0/FIXED1");
        if ((cr0 & 0x80000000L) != 0 && (cr0 & 1) == 0) return fail("26.3.1.1", "guest CR0.PG without CR0.PE");
        if (!VmEntryChecks.allowed(cr4, (p.vmx(CpuProfile.IA32_VMX_CR4_FIXED1) << 32) | p.vmx(CpuProfile.IA32_VMX_CR4_FIXED0)) || (cr4 >>> 32) != 0) return fail("26.3.1.1", "guest CR4 against IA32_VMX_CR4_FIXED0/FIXED1");
        if ((entry & VmxControls.ENTRY_LOAD_DEBUG_CONTROLS) != 0 && (v.get(GUEST_DR7) >>> 32) != 0) return fail("26.3.1.1", "load debug controls with guest DR7 bits 63:32 set");
        if (ia32e && ((cr0 & 0x80000000L) == 0 || (cr4 & 0x20) == 0)) return fail("26.3.1.1", "IA-32e mode guest without CR0.PG and CR4.PAE");
        if (!ia32e && (cr4 & (1 << 17)) != 0) return fail("26.3.1.1", "guest CR4.PCIDE outside IA-32e mode");
        if (VmEntryChecks.tooWide(cr3, physWidth) != 0) return fail("26.3.1.1", "guest CR3 beyond the physical-address width");
        if (!VmEntryChecks.canonical(v.get(GUEST_SYSENTER_ESP)) || !VmEntryChecks.canonical(v.get(GUEST_SYSENTER_EIP))) return fail("26.3.1.1", "guest IA32_SYSENTER_ESP or EIP not canonical");
        if ((entry & VmxControls.ENTRY_LOAD_EFER) != 0) {
            long efer = v.get(GUEST_EFER);
            if ((efer & ~0xD01L) != 0) return fail("26.3.1.1", "load IA32_EFER with reserved bits set in guest IA32_EFER");
            if (((efer & (1 << 10)) != 0) != ia32e) return fail("26.3.1.1", "guest IA32_EFER.LMA differs from IA-32e mode guest");
            if ((cr0 & 0x80000000L) != 0 && ((efer & (1 << 8)) != 0) != ia32e) return fail("26.3.1.1", "guest IA32_EFER.LME differs from IA-32e mode guest with paging on");
        }
        String seg = segmentsInvalid(v, ia32e, unrestricted, cr0);
        if (seg != null) return fail("26.3.1.2", seg);
        // 26.3.1.3 GDTR and IDTR
        if (!VmEntryChecks.canonical(v.get(GUEST_GDTR_BASE)) || !VmEntryChecks.canonical(v.get(GUEST_IDTR_BASE))) return fail("26.3.1.3", "guest GDTR or IDTR base not canonical");
        if ((v.get(GUEST_GDTR_LIMIT) >>> 16) != 0 || (v.get(GUEST_IDTR_LIMIT) >>> 16) != 0) return fail("26.3.1.3", "guest GDTR or IDTR limit bits 31:16 set");
        // 26.3.1.4 RIP and RFLAGS
        boolean csL = (v.get(GUEST_CS_ACCESS_RIGHTS) & (1 << 13)) != 0;
        long rip = v.get(GUEST_RIP), rflags = v.get(GUEST_RFLAGS);
        if ((!ia32e || !csL) && (rip >>> 32) != 0) return fail("26.3.1.4", "guest RIP bits 63:32 set outside 64-bit mode");
        if (ia32e && csL && !VmEntryChecks.canonical(rip)) return fail("26.3.1.4", "guest RIP not canonical in 64-bit mode");
        if ((rflags & ~0x3F7FD7L) != 0 || (rflags & 2) == 0) return fail("26.3.1.4", "guest RFLAGS reserved bits (63:22, 15, 5, 3 clear; 1 set)");
        if ((ia32e || (cr0 & 1) == 0) && (rflags & (1 << 17)) != 0) return fail("26.3.1.4", "guest RFLAGS.VM in IA-32e mode or with CR0.PE clear");
        long info = v.get(ENTRY_INTERRUPTION_INFO);
        boolean inject = (info & VmxControls.INTERRUPTION_INFO_VALID) != 0;
        int type = (int) (info >>> 8) & 7, vector = (int) info & 0xFF;
        if (inject && type == 0 && (rflags & 0x200) == 0) return fail("26.3.1.4", "external-interrupt injection with RFLAGS.IF clear");
        // 26.3.1.5 non-register state
        long activity = v.get(GUEST_ACTIVITY_STATE), intr = v.get(GUEST_INTERRUPTIBILITY);
        long misc = p.vmx(CpuProfile.IA32_VMX_MISC);
        if (activity > 3 || (activity > 0 && (misc & (1L << (5 + activity))) == 0)) return fail("26.3.1.5", "activity state " + activity + " not supported (IA32_VMX_MISC)");
        int ssDpl = (int) (v.get(GUEST_SS_ACCESS_RIGHTS) >> 5) & 3;
        if (activity == 1 && ssDpl != 0) return fail("26.3.1.5", "HLT activity state with SS DPL other than 0");
        boolean sti = (intr & VmxControls.BLOCKING_BY_STI) != 0, movss = (intr & VmxControls.BLOCKING_BY_MOV_SS) != 0;
        if (activity != 0 && (sti || movss)) return fail("26.3.1.5", "blocking by STI or MOV SS in an activity state other than active");
        if (inject) {
            boolean mtf = type == 7;
            if (activity == 1 && !(type == 0 || type == 2 || mtf || (type == 3 && (vector == 1 || vector == 18)))) return fail("26.3.1.5", "an event injected into the HLT state that HLT does not allow");
            if (activity == 2 && !(type == 2 || (type == 3 && vector == 18))) return fail("26.3.1.5", "an event injected into the shutdown state other than NMI or #MC");
            if (activity == 3) return fail("26.3.1.5", "an event injected into the wait-for-SIPI state");
        }
        if ((intr & ~0x1FL) != 0) return fail("26.3.1.5", "interruptibility-state bits 31:5 set");
        if (sti && movss) return fail("26.3.1.5", "blocking by STI and by MOV SS together");
        if (sti && (rflags & 0x200) == 0) return fail("26.3.1.5", "blocking by STI with RFLAGS.IF clear");
        if (inject && type == 0 && (sti || movss)) return fail("26.3.1.5", "external-interrupt injection under blocking by STI or MOV SS");
        if (inject && type == 2) {
            if (movss) return fail("26.3.1.5", "NMI injection under blocking by MOV SS");
            // STI blocking: the SDM lets processors refuse; the profile decides (docs/vmx-facts.md)
            if (sti && p.is(CpuProfile.Choice.NMI_INJECTION_UNDER_STI, "fail"))
                return EntryCheckFailure.guest(QUAL_NMI_UNDER_STI, "26.3.1.5", "NMI injection under blocking by STI (this profile refuses it)");
            // with "virtual NMIs", injecting an NMI needs no virtual-NMI blocking; without, no check (seed 000)
            if ((pin & VmxControls.PIN_VIRTUAL_NMIS) != 0 && (intr & VmxControls.BLOCKING_BY_NMI) != 0)
                return fail("26.3.1.5", "NMI injection with virtual NMIs while virtual-NMI blocking is set");
        }
        // 26.3.1.5 VMCS link pointer
        long link = v.get(VMCS_LINK_POINTER);
        if (link != -1L) {
            if ((link & 0xFFF) != 0 || VmEntryChecks.tooWide(link, physWidth) != 0)
                return EntryCheckFailure.guest(QUAL_LINK_POINTER, "26.3.1.5", "VMCS link pointer not 4-KByte aligned or beyond the physical-address width");
        }
        return null;
    }
}
