package org.hvlab.machine.vmx;

/**
 * Checks of the guest-state area that make VM entry fail with exit reason 33 (SDM Vol.3C
 * 26.3.1; VMX-FACTS.md). Returns {@link #OK} or the exit qualification: 0 for most failures,
 * 3 for NMI injection under STI blocking where the profile says so, 4 for an invalid VMCS link
 * pointer. Modelled so far: control registers, debug and EFER, RIP and RFLAGS, activity and
 * interruptibility state with the event-injection rules, the link pointer. Not yet: the
 * segment-register, GDTR/IDTR and PDPTE checks.
 */
public final class GuestStateChecks {
    public static final int OK = -1, QUAL_DEFAULT = 0, QUAL_NMI_UNDER_STI = 3, QUAL_LINK_POINTER = 4;
    static final int ENTRY_LOAD_DEBUG = 1 << 2, ENTRY_LOAD_EFER = 1 << 15;

    private GuestStateChecks() {}

    public static int check(Vmcs v, CpuProfile p, int physWidth) {
        long entry = v.get(0x4012), pin = v.get(0x4000), proc = v.get(0x4002);
        long proc2 = (proc & VmEntryChecks.PROC_SECONDARY) != 0 ? v.get(0x401E) : 0;
        boolean unrestricted = (proc2 & VmEntryChecks.PROC2_UNRESTRICTED) != 0;
        boolean ia32e = (entry & VmEntryChecks.ENTRY_IA32E_GUEST) != 0;
        long cr0 = v.get(0x6800), cr4 = v.get(0x6804), cr3 = v.get(0x6802);
        // 26.3.1.1 control registers, debug registers, MSRs
        long fixed0 = p.vmx(CpuProfile.IA32_VMX_CR0_FIXED0);
        if (unrestricted) fixed0 &= ~0x80000001L; // PE and PG may be 0 with "unrestricted guest"
        if (!VmEntryChecks.allowed(cr0, (p.vmx(CpuProfile.IA32_VMX_CR0_FIXED1) << 32) | fixed0) || (cr0 >>> 32) != 0) return QUAL_DEFAULT;
        if ((cr0 & 0x80000000L) != 0 && (cr0 & 1) == 0) return QUAL_DEFAULT; // PG without PE
        if (!VmEntryChecks.allowed(cr4, (p.vmx(CpuProfile.IA32_VMX_CR4_FIXED1) << 32) | p.vmx(CpuProfile.IA32_VMX_CR4_FIXED0)) || (cr4 >>> 32) != 0) return QUAL_DEFAULT;
        if ((entry & ENTRY_LOAD_DEBUG) != 0 && (v.get(0x681A) >>> 32) != 0) return QUAL_DEFAULT; // DR7 bits 63:32
        if (ia32e && ((cr0 & 0x80000000L) == 0 || (cr4 & 0x20) == 0)) return QUAL_DEFAULT;
        if (!ia32e && (cr4 & (1 << 17)) != 0) return QUAL_DEFAULT; // CR4.PCIDE
        if (VmEntryChecks.tooWide(cr3, physWidth) != 0) return QUAL_DEFAULT;
        if (!VmEntryChecks.canonical(v.get(0x6824)) || !VmEntryChecks.canonical(v.get(0x6826))) return QUAL_DEFAULT;
        if ((entry & ENTRY_LOAD_EFER) != 0) {
            long efer = v.get(0x2806);
            if ((efer & ~0xD01L) != 0) return QUAL_DEFAULT;
            if (((efer & (1 << 10)) != 0) != ia32e) return QUAL_DEFAULT;
            if ((cr0 & 0x80000000L) != 0 && ((efer & (1 << 8)) != 0) != ia32e) return QUAL_DEFAULT;
        }
        // 26.3.1.4 RIP and RFLAGS
        boolean csL = (v.get(0x4816) & (1 << 13)) != 0;
        long rip = v.get(0x681E), rflags = v.get(0x6820);
        if ((!ia32e || !csL) && (rip >>> 32) != 0) return QUAL_DEFAULT;
        if (ia32e && csL && !VmEntryChecks.canonical(rip)) return QUAL_DEFAULT;
        if ((rflags & ~0x3F7FD7L) != 0 || (rflags & 2) == 0) return QUAL_DEFAULT; // reserved bits 63:22, 15, 5, 3; bit 1 set
        if ((ia32e || (cr0 & 1) == 0) && (rflags & (1 << 17)) != 0) return QUAL_DEFAULT; // VM
        long info = v.get(0x4016);
        boolean inject = (info & 0x80000000L) != 0;
        int type = (int) (info >>> 8) & 7, vector = (int) info & 0xFF;
        if (inject && type == 0 && (rflags & 0x200) == 0) return QUAL_DEFAULT; // external interrupt needs IF
        // 26.3.1.5 non-register state
        long activity = v.get(0x4826), intr = v.get(0x4824);
        long misc = p.vmx(CpuProfile.IA32_VMX_MISC);
        if (activity > 3 || (activity > 0 && (misc & (1L << (5 + activity))) == 0)) return QUAL_DEFAULT;
        int ssDpl = (int) (v.get(0x4818) >> 5) & 3;
        if (activity == 1 && ssDpl != 0) return QUAL_DEFAULT; // HLT only at CPL 0
        boolean sti = (intr & 1) != 0, movss = (intr & 2) != 0;
        if (activity != 0 && (sti || movss)) return QUAL_DEFAULT;
        if (inject) {
            boolean mtf = type == 7;
            if (activity == 1 && !(type == 0 || type == 2 || mtf || (type == 3 && (vector == 1 || vector == 18)))) return QUAL_DEFAULT;
            if (activity == 2 && !(type == 2 || (type == 3 && vector == 18))) return QUAL_DEFAULT;
            if (activity == 3) return QUAL_DEFAULT;
        }
        if ((intr & ~0x1FL) != 0) return QUAL_DEFAULT; // bits 31:5 reserved
        if (sti && movss) return QUAL_DEFAULT;
        if (sti && (rflags & 0x200) == 0) return QUAL_DEFAULT;
        if (inject && type == 0 && (sti || movss)) return QUAL_DEFAULT;
        if (inject && type == 2) {
            if (movss) return QUAL_DEFAULT;
            // STI blocking: the SDM lets processors refuse; the profile decides (VMX-FACTS.md)
            if (sti && "fail".equals(p.choice("nmi-injection-under-sti"))) return QUAL_NMI_UNDER_STI;
            // with "virtual NMIs", injecting an NMI needs no virtual-NMI blocking; without, no check (seed 000)
            if ((pin & VmEntryChecks.PIN_VIRTUAL_NMIS) != 0 && (intr & 8) != 0) return QUAL_DEFAULT;
        }
        // 26.3.1.5 VMCS link pointer
        long link = v.get(0x2800);
        if (link != -1L) {
            if ((link & 0xFFF) != 0 || VmEntryChecks.tooWide(link, physWidth) != 0) return QUAL_LINK_POINTER;
        }
        return OK;
    }
}
