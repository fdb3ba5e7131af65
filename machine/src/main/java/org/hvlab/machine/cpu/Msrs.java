package org.hvlab.machine.cpu;

import java.util.HashMap;
import java.util.Map;
import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.CpuProfile.MsrRule;
import org.hvlab.machine.vmx.CpuProfile.MsrSpec;

/**
 * Model-specific registers of one CPU (SDM Vol.3C chapter 35), driven by the CPU profile's MSR behaviour
 * table ({@link CpuProfile}): the processor has exactly the MSRs of the table (plus the x2APIC
 * MSRs 0x800-0x8FF of the local APIC). RDMSR or WRMSR of any other index is #GP(0).
 *
 * <p>WRMSR of a table MSR (SDM Vol.2 WRMSR; Vol.3C chapter 35 for each MSR):
 * <ol>
 * <li>a read-only MSR (writable mask 0) is #GP(0);
 * <li>a value that changes a bit outside the writable mask is #GP(0);
 * <li>the line's rule may reject the value (#GP(0)): PAT and MTRR memory types, canonical
 *     addresses, EFER.LME while paging is on, a locked IA32_FEATURE_CONTROL, illegal APIC mode
 *     transitions;
 * <li>the preserved bits of the value are stored; the other writable bits are dropped.
 * </ol>
 * MSRs with an architectural model keep their state where the rest of the machine uses it (the
 * time-stamp counter, the APIC, EFER, segment bases, the SYSCALL/SYSENTER fields); the others
 * hold their value here.
 */
public final class Msrs {
    public static final int IA32_TSC = 0x10, IA32_APIC_BASE = 0x1B, IA32_FEATURE_CONTROL = 0x3A, IA32_TSC_ADJUST = 0x3B,
            IA32_BIOS_SIGN_ID = 0x8B, IA32_MTRRCAP = 0xFE, IA32_SYSENTER_CS = 0x174, IA32_SYSENTER_ESP = 0x175,
            IA32_SYSENTER_EIP = 0x176, IA32_MCG_CAP = 0x179, IA32_MCG_STATUS = 0x17A, IA32_MISC_ENABLE = 0x1A0,
            IA32_MTRR_PHYSBASE0 = 0x200, IA32_MTRR_PHYSMASK7 = 0x20F, IA32_MTRR_FIX64K = 0x250,
            IA32_MTRR_FIX16K_80000 = 0x258, IA32_MTRR_FIX16K_A0000 = 0x259, IA32_MTRR_FIX4K_C0000 = 0x268,
            IA32_MTRR_FIX4K_F8000 = 0x26F, IA32_PAT = 0x277, IA32_MTRR_DEF_TYPE = 0x2FF, IA32_EFER = 0xC0000080,
            IA32_STAR = 0xC0000081, IA32_LSTAR = 0xC0000082, IA32_CSTAR = 0xC0000083, IA32_FMASK = 0xC0000084,
            IA32_FS_BASE = 0xC0000100, IA32_GS_BASE = 0xC0000101, IA32_KERNEL_GS_BASE = 0xC0000102,
            IA32_TSC_AUX = 0xC0000103;

    private final Cpu c;
    public long star, lstar, cstar, fmask, kernelGsBase, tscAux;
    public long sysenterCs, sysenterEsp, sysenterEip;
    public long pat;
    /** IA32_TSC_ADJUST (SDM Vol.3B 17.15.3): the TSC reads retired instructions plus this. */
    public long tscAdjust;
    /** IA32_FEATURE_CONTROL: the profile's value (locked, VMXON outside SMX enabled). */
    public long featureControl;
    /** MSRs without an architectural model: their current values. */
    private final Map<Integer, Long> values = new HashMap<>();

    Msrs(Cpu c) {
        this.c = c;
        for (MsrSpec s : c.profile.msrTable()) values.put(s.index(), s.value());
        star = reset(IA32_STAR);
        lstar = reset(IA32_LSTAR);
        cstar = reset(IA32_CSTAR);
        fmask = reset(IA32_FMASK);
        kernelGsBase = reset(IA32_KERNEL_GS_BASE);
        tscAux = reset(IA32_TSC_AUX);
        sysenterCs = reset(IA32_SYSENTER_CS);
        sysenterEsp = reset(IA32_SYSENTER_ESP);
        sysenterEip = reset(IA32_SYSENTER_EIP);
        pat = reset(IA32_PAT);
        tscAdjust = reset(IA32_TSC_ADJUST);
        featureControl = reset(IA32_FEATURE_CONTROL);
    }

    private long reset(int index) {
        Long v = c.profile.msr(index);
        return v == null ? 0 : v;
    }

    private MsrSpec spec(int index) {
        MsrSpec s = c.profile.msrSpec(index);
        if (s == null) throw CpuFault.gp0(); // the processor has no such MSR
        return s;
    }

    private static boolean x2apic(int index) {
        return index >= 0x800 && index <= 0x8FF;
    }

    public long read(int index) {
        if (x2apic(index)) return c.apic.x2apicRead(index);
        spec(index);
        return switch (index) {
            case IA32_TSC -> c.tsc();
            case IA32_TSC_ADJUST -> tscAdjust;
            case IA32_APIC_BASE -> c.apic.apicBase();
            case IA32_FEATURE_CONTROL -> featureControl;
            case IA32_SYSENTER_CS -> sysenterCs;
            case IA32_SYSENTER_ESP -> sysenterEsp;
            case IA32_SYSENTER_EIP -> sysenterEip;
            case IA32_PAT -> pat;
            case IA32_EFER -> c.efer;
            case IA32_STAR -> star;
            case IA32_LSTAR -> lstar;
            case IA32_CSTAR -> cstar;
            case IA32_FMASK -> fmask;
            case IA32_FS_BASE -> c.seg[Segment.FS].base;
            case IA32_GS_BASE -> c.seg[Segment.GS].base;
            case IA32_KERNEL_GS_BASE -> kernelGsBase;
            case IA32_TSC_AUX -> tscAux;
            default -> values.get(index);
        };
    }

    public void write(int index, long v) {
        if (x2apic(index)) { c.apic.x2apicWrite(index, v); return; }
        MsrSpec s = spec(index);
        if (s.readOnly()) throw CpuFault.gp0();
        long cur = read(index);
        long writable = s.writable(), preserved = s.preserved();
        if (s.rule() == MsrRule.EFER && (c.cr0 & Cpu.CR0_PG) == 0) {
            // The boot protocol starts every profile in IA-32e mode, even one whose EFER cannot
            // write LME (a CPU without long mode): with paging off, software may still clear it.
            writable |= cur & Cpu.EFER_LME;
            preserved |= cur & Cpu.EFER_LME;
        }
        if (((v ^ cur) & ~writable) != 0) throw CpuFault.gp0();
        check(s.rule(), index, v, cur);
        long nv = (cur & ~preserved) | (v & preserved);
        switch (index) {
            // SDM Vol.3B 17.15.3: a write to IA32_TSC adds (new - old) to IA32_TSC_ADJUST
            case IA32_TSC -> tscAdjust += nv - c.tsc();
            // ...and a write to IA32_TSC_ADJUST moves the TSC by the same amount (tsc() adds it)
            case IA32_TSC_ADJUST -> tscAdjust = nv;
            case IA32_APIC_BASE -> c.apic.setApicBase(nv);
            case IA32_FEATURE_CONTROL -> featureControl = nv;
            case IA32_SYSENTER_CS -> sysenterCs = nv;
            case IA32_SYSENTER_ESP -> sysenterEsp = nv;
            case IA32_SYSENTER_EIP -> sysenterEip = nv;
            case IA32_PAT -> pat = nv;
            case IA32_EFER -> {
                c.efer = (nv & ~Cpu.EFER_LMA) | (cur & Cpu.EFER_LMA); // LMA is the processor's (SDM Vol.3A 2.2.1)
                if (((nv ^ cur) & Cpu.EFER_NXE) != 0) c.flushTlb(); // NXE changes what the page tables mean
            }
            case IA32_STAR -> star = nv;
            case IA32_LSTAR -> lstar = nv;
            case IA32_CSTAR -> cstar = nv;
            case IA32_FMASK -> fmask = nv;
            case IA32_FS_BASE -> c.seg[Segment.FS].base = nv;
            case IA32_GS_BASE -> c.seg[Segment.GS].base = nv;
            case IA32_KERNEL_GS_BASE -> kernelGsBase = nv;
            case IA32_TSC_AUX -> tscAux = nv;
            default -> values.put(index, nv);
        }
    }

    /** The validity checks of a named rule (#GP(0) when the value breaks them). */
    private void check(MsrRule rule, int index, long v, long cur) {
        switch (rule) {
            case NONE, TSC, TSC_ADJUST, APIC_BASE -> { } // APIC_BASE: the APIC checks it when it is stored
            case FEATURE_CONTROL -> {
                // SDM Vol.3C 23.7 (Enabling and entering VMX operation): locked until reset
                if ((cur & 1) != 0) throw CpuFault.gp0();
            }
            case EFER -> {
                // SDM Vol.3A 9.8.5 (Initializing IA-32e mode): LME may change only while paging is off
                if (((v ^ cur) & Cpu.EFER_LME) != 0 && (c.cr0 & Cpu.CR0_PG) != 0) throw CpuFault.gp0();
            }
            case PAT -> {
                // SDM Vol.3A 11.12.2 (IA32_PAT MSR): 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-; 2, 3 and 8-255 reserved
                for (int i = 0; i < 8; i++) if (!mtrrType((v >>> (8 * i)) & 0xFF) && ((v >>> (8 * i)) & 0xFF) != 7) throw CpuFault.gp0();
            }
            case MTRR -> {
                for (int i = 0, n = mtrrTypeFields(index); i < n; i++) if (!mtrrType((v >>> (8 * i)) & 0xFF)) throw CpuFault.gp0();
            }
            case CANONICAL -> {
                if (!Cpu.canonical(v)) throw CpuFault.gp0();
            }
        }
    }

    /**
     * Memory-type fields of an MTRR, each in one byte from bit 0 (SDM Vol.3A 11.11.2-11.11.3):
     * eight in a fixed-range MTRR, one in IA32_MTRR_DEF_TYPE and in a PHYSBASE register, none in
     * a PHYSMASK register.
     */
    private static int mtrrTypeFields(int index) {
        if (index >= IA32_MTRR_PHYSBASE0 && index <= IA32_MTRR_PHYSMASK7) return (index & 1) == 0 ? 1 : 0;
        if (index == IA32_MTRR_DEF_TYPE) return 1;
        return 8;
    }

    /** MTRR memory types: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB; writing any other is #GP (SDM Vol.3A 11.11.2). */
    private static boolean mtrrType(long t) {
        return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
    }
}
