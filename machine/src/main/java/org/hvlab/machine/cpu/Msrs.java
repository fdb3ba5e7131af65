package org.hvlab.machine.cpu;

import java.util.HashMap;
import java.util.Map;

/**
 * Model-specific registers of one CPU (SDM Vol.4). An index not listed here raises #GP(0) on
 * RDMSR and WRMSR; so does a value with reserved bits set. Capability profiles (VT-x issue)
 * extend this with the scanned behaviour of seed 003.
 */
public final class Msrs {
    public static final int IA32_TSC = 0x10, IA32_APIC_BASE = 0x1B, IA32_FEATURE_CONTROL = 0x3A,
            IA32_BIOS_SIGN_ID = 0x8B, IA32_MTRRCAP = 0xFE, IA32_SYSENTER_CS = 0x174, IA32_SYSENTER_ESP = 0x175,
            IA32_SYSENTER_EIP = 0x176, IA32_MCG_CAP = 0x179, IA32_MCG_STATUS = 0x17A, IA32_MISC_ENABLE = 0x1A0,
            IA32_MTRR_PHYSBASE0 = 0x200, IA32_MTRR_FIX64K = 0x250, IA32_MTRR_FIX16K_80000 = 0x258,
            IA32_MTRR_FIX16K_A0000 = 0x259, IA32_MTRR_FIX4K_C0000 = 0x268, IA32_PAT = 0x277,
            IA32_MTRR_DEF_TYPE = 0x2FF, IA32_EFER = 0xC0000080, IA32_STAR = 0xC0000081, IA32_LSTAR = 0xC0000082,
            IA32_CSTAR = 0xC0000083, IA32_FMASK = 0xC0000084, IA32_FS_BASE = 0xC0000100, IA32_GS_BASE = 0xC0000101,
            IA32_KERNEL_GS_BASE = 0xC0000102, IA32_TSC_AUX = 0xC0000103;
    /** 8 variable MTRRs, fixed MTRRs and write-combining supported. */
    public static final long MTRRCAP = 0x508;
    public static final int VARIABLE_MTRRS = 8;

    private final Cpu c;
    public long star, lstar, cstar, fmask, kernelGsBase, tscAux;
    public long sysenterCs, sysenterEsp, sysenterEip;
    public long pat = 0x0007040600070406L;
    public long mtrrDefType;
    public long tscAdjust;
    /** IA32_FEATURE_CONTROL: the profile's value (locked, VMXON outside SMX enabled). */
    public long featureControl;
    private final Map<Integer, Long> mtrrs = new HashMap<>();

    Msrs(Cpu c) {
        this.c = c;
        Long fc = c.profile.msr(IA32_FEATURE_CONTROL);
        featureControl = fc == null ? 0 : fc;
    }

    private static boolean isMtrr(int i) {
        return (i >= IA32_MTRR_PHYSBASE0 && i < IA32_MTRR_PHYSBASE0 + 2 * VARIABLE_MTRRS) || i == IA32_MTRR_FIX64K
                || i == IA32_MTRR_FIX16K_80000 || i == IA32_MTRR_FIX16K_A0000
                || (i >= IA32_MTRR_FIX4K_C0000 && i <= IA32_MTRR_FIX4K_C0000 + 7);
    }

    private static boolean validType(long t) {
        return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
    }

    public long read(int index) {
        if (index >= 0x800 && index <= 0x8FF) return c.apic.x2apicRead(index);
        if (isMtrr(index)) return mtrrs.getOrDefault(index, 0L);
        if (index >= 0x480 && index <= 0x491) return c.profile.vmx(index); // VMX capability MSRs (SDM Appendix A)
        return switch (index) {
            case IA32_TSC -> c.tsc();
            case IA32_APIC_BASE -> c.apic.apicBase();
            case IA32_FEATURE_CONTROL -> featureControl;
            case IA32_BIOS_SIGN_ID -> 0;
            case IA32_MTRRCAP -> MTRRCAP;
            case IA32_SYSENTER_CS -> sysenterCs;
            case IA32_SYSENTER_ESP -> sysenterEsp;
            case IA32_SYSENTER_EIP -> sysenterEip;
            case IA32_MCG_CAP, IA32_MCG_STATUS -> 0;
            case IA32_MISC_ENABLE -> 1; // fast strings
            case IA32_PAT -> pat;
            case IA32_MTRR_DEF_TYPE -> mtrrDefType;
            case IA32_EFER -> c.efer;
            case IA32_STAR -> star;
            case IA32_LSTAR -> lstar;
            case IA32_CSTAR -> cstar;
            case IA32_FMASK -> fmask;
            case IA32_FS_BASE -> c.seg[Segment.FS].base;
            case IA32_GS_BASE -> c.seg[Segment.GS].base;
            case IA32_KERNEL_GS_BASE -> kernelGsBase;
            case IA32_TSC_AUX -> tscAux;
            default -> throw CpuFault.gp0();
        };
    }

    private static long canonical(long v) {
        if (!Cpu.canonical(v)) throw CpuFault.gp0();
        return v;
    }

    public void write(int index, long v) {
        if (index >= 0x800 && index <= 0x8FF) { c.apic.x2apicWrite(index, v); return; }
        if (isMtrr(index)) { writeMtrr(index, v); return; }
        switch (index) {
            case IA32_TSC -> tscAdjust = v - c.tsc() + tscAdjust;
            case IA32_APIC_BASE -> c.apic.setApicBase(v);
            case IA32_BIOS_SIGN_ID -> { }
            case IA32_FEATURE_CONTROL -> {
                if ((featureControl & 1) != 0 || (v & ~7L) != 0) throw CpuFault.gp0(); // locked until reset
                featureControl = v;
            }
            case IA32_SYSENTER_CS -> sysenterCs = v & 0xFFFFFFFFL;
            case IA32_SYSENTER_ESP -> sysenterEsp = canonical(v);
            case IA32_SYSENTER_EIP -> sysenterEip = canonical(v);
            case IA32_MCG_STATUS -> { if (v != 0) throw CpuFault.gp0(); }
            case IA32_MISC_ENABLE -> { }
            case IA32_PAT -> {
                for (int i = 0; i < 8; i++) {
                    long t = (v >>> (8 * i)) & 0xFF;
                    if (!(validType(t) || t == 7)) throw CpuFault.gp0();
                }
                pat = v;
            }
            case IA32_MTRR_DEF_TYPE -> {
                if ((v & ~0xCFFL) != 0 || !validType(v & 0xFF)) throw CpuFault.gp0();
                mtrrDefType = v;
            }
            case IA32_EFER -> writeEfer(v);
            case IA32_STAR -> star = v;
            case IA32_LSTAR -> lstar = canonical(v);
            case IA32_CSTAR -> cstar = canonical(v);
            case IA32_FMASK -> fmask = v & 0xFFFFFFFFL;
            case IA32_FS_BASE -> c.seg[Segment.FS].base = canonical(v);
            case IA32_GS_BASE -> c.seg[Segment.GS].base = canonical(v);
            case IA32_KERNEL_GS_BASE -> kernelGsBase = canonical(v);
            case IA32_TSC_AUX -> {
                if ((v >>> 32) != 0) throw CpuFault.gp0();
                tscAux = v;
            }
            default -> throw CpuFault.gp0();
        }
    }

    /** EFER: SCE, LME, NXE writable; LMA follows LME and paging (SDM Vol.3A 2.2.1). */
    private void writeEfer(long v) {
        long writable = c.profile.eferWritable & (Cpu.EFER_SCE | Cpu.EFER_LME | Cpu.EFER_NXE);
        if ((v & ~(writable | Cpu.EFER_LMA)) != 0) throw CpuFault.gp0();
        boolean lmeChange = ((v ^ c.efer) & Cpu.EFER_LME) != 0;
        if (lmeChange && (c.cr0 & Cpu.CR0_PG) != 0) throw CpuFault.gp0();
        c.efer = (c.efer & Cpu.EFER_LMA) | (v & writable);
        c.flushTlb();
    }

    private void writeMtrr(int index, long v) {
        long physMask = (1L << Cpuid.MAXPHYADDR) - 1;
        if (index < IA32_MTRR_PHYSBASE0 + 2 * VARIABLE_MTRRS && index >= IA32_MTRR_PHYSBASE0) {
            boolean base = ((index - IA32_MTRR_PHYSBASE0) & 1) == 0;
            long reserved = base ? ~(physMask & ~0xFFFL | 0xFF) : ~(physMask & ~0xFFFL | 0x800);
            if ((v & reserved) != 0) throw CpuFault.gp0();
            if (base && !validType(v & 0xFF)) throw CpuFault.gp0();
        } else {
            for (int i = 0; i < 8; i++) if (!validType((v >>> (8 * i)) & 0xFF)) throw CpuFault.gp0();
        }
        mtrrs.put(index, v);
    }
}
