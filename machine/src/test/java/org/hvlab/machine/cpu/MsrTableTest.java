package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.sched.RoundRobin;
import org.hvlab.machine.vmx.CpuProfile;
import org.junit.jupiter.api.Test;

/** RDMSR/WRMSR follow the profile's MSR behaviour table and its named rules. */
class MsrTableTest {
    final Cpu c = new TestCpu().cpu; // kvm-2022, 64-bit mode with paging

    void gp(Runnable r, String why) {
        CpuFault f = assertThrows(CpuFault.class, r::run, why);
        assertEquals(CpuFault.GP, f.vector, why);
    }

    static Cpu cpu(String profile) throws Exception {
        var m = new Machine(new MachineConfig(1, 64L << 20, Long.MAX_VALUE, new RoundRobin(1000), CpuProfile.load(profile)), null);
        Cpu c = m.cpu(0);
        c.bootstrapLongMode(0x100000, 0x80000, 0x8000);
        return c;
    }

    @Test
    void anMsrWithoutALineDoesNotExist() {
        gp(() -> c.msrs.read(0x9B), "IA32_SMM_MONITOR_CTL is not in the table");
        gp(() -> c.msrs.write(0x9B, 0), "nor writable");
        gp(() -> c.msrs.read(0xC0000104), "past IA32_TSC_AUX");
    }

    @Test
    void readOnlyMsrsRefuseEveryWrite() {
        gp(() -> c.msrs.write(0x480, c.msrs.read(0x480)), "VMX capability MSRs are read-only, even the same value");
        gp(() -> c.msrs.write(Msrs.IA32_MTRRCAP, 0x508), "MTRRCAP");
        gp(() -> c.msrs.write(Msrs.IA32_FEATURE_CONTROL, 5), "locked IA32_FEATURE_CONTROL");
        assertEquals(0x0100010AL, c.msrs.read(Msrs.IA32_MCG_CAP), "the table's value");
    }

    @Test
    void writableMaskAndPreservedMask() {
        gp(() -> c.msrs.write(0x1D9, 4), "IA32_DEBUGCTL bit 2 is outside its writable mask 0x3");
        c.msrs.write(0x1D9, 3);
        assertEquals(0, c.msrs.read(0x1D9), "writable but not preserved: accepted and dropped");
        c.msrs.write(0x140, 1);
        assertEquals(1, c.msrs.read(0x140), "MISC_FEATURES_ENABLES bit 0 is kept");
        c.msrs.write(Msrs.IA32_SYSENTER_CS, 0xFFFFFFFF12345678L);
        assertEquals(0x12345678L, c.msrs.read(Msrs.IA32_SYSENTER_CS), "SYSENTER_CS keeps 32 bits");
        c.msrs.write(Msrs.IA32_BIOS_SIGN_ID, 0);
        assertEquals(0x100000000L, c.msrs.read(Msrs.IA32_BIOS_SIGN_ID), "writes to BIOS_SIGN_ID are dropped");
    }

    @Test
    void memoryTypesFollowTheSdmNotSingleBits() {
        c.msrs.write(0x202, 0x80000006L); // type 6 sets bits 1 and 2; bit 1 alone (type 2) is reserved
        assertEquals(0x80000006L, c.msrs.read(0x202));
        gp(() -> c.msrs.write(0x202, 2), "MTRR type 2");
        gp(() -> c.msrs.write(0x202, 7), "MTRR type 7 (UC- exists only in the PAT)");
        gp(() -> c.msrs.write(0x202, 0x1000000000L), "PHYSBASE bit 36: MAXPHYADDR is 36");
        c.msrs.write(0x250, 0x0406060606060606L);
        assertEquals(0x0406060606060606L, c.msrs.read(0x250), "fixed-range byte 7 is a type field too");
        gp(() -> c.msrs.write(0x250, 0x0706060606060606L), "fixed-range type 7");
        c.msrs.write(Msrs.IA32_PAT, 0x0707040600070406L);
        assertEquals(0x0707040600070406L, c.msrs.pat, "PAT entry 7 = UC-");
        gp(() -> c.msrs.write(Msrs.IA32_PAT, 0x0207040600070406L), "PAT type 2");
        gp(() -> c.msrs.write(Msrs.IA32_MTRR_DEF_TYPE, 0xC02), "default type 2");
        gp(() -> c.msrs.write(Msrs.IA32_MTRR_DEF_TYPE, 0x1C06), "DEF_TYPE bit 12");
    }

    @Test
    void canonicalAddresses() {
        gp(() -> c.msrs.write(Msrs.IA32_FS_BASE, 0x0000800000000000L), "non-canonical FS base");
        gp(() -> c.msrs.write(Msrs.IA32_SYSENTER_EIP, 0x8000000000000000L), "non-canonical SYSENTER_EIP");
        c.msrs.write(Msrs.IA32_LSTAR, 0xFFFF800000001000L);
        assertEquals(0xFFFF800000001000L, c.msrs.lstar);
        c.msrs.write(Msrs.IA32_FMASK, 0xFFFFFFFF00000700L);
        assertEquals(0xFFFFFFFF00000700L, c.msrs.read(Msrs.IA32_FMASK), "seed 003: FMASK keeps all 64 bits");
    }

    @Test
    void eferInLongModeAndWithPagingOff() throws Exception {
        c.msrs.write(Msrs.IA32_EFER, 0xD01);
        assertEquals(0xD01, c.efer, "SCE and NXE set, LME and LMA kept");
        gp(() -> c.msrs.write(Msrs.IA32_EFER, 0x901), "LMA is the processor's: a write may not change it");
        gp(() -> c.msrs.write(Msrs.IA32_EFER, 0x401), "LME may not change while paging is on");
        gp(() -> c.msrs.write(Msrs.IA32_EFER, 0x2500), "bit 13 is not writable");

        Cpu x = cpu("kvm-2022"), i = cpu("kvm-2022-i386");
        for (Cpu k : new Cpu[] {x, i}) { // 32-bit protected mode without paging, EFER.LME still set
            k.cr0 &= ~Cpu.CR0_PG;
            k.efer = Cpu.EFER_LME;
            k.msrs.write(Msrs.IA32_EFER, 0);
            assertEquals(0, k.efer, "with paging off LME can be cleared, even where it cannot be set");
        }
        x.msrs.write(Msrs.IA32_EFER, Cpu.EFER_LME);
        assertEquals(Cpu.EFER_LME, x.efer, "kvm-2022: LME writable (0x901)");
        gp(() -> i.msrs.write(Msrs.IA32_EFER, Cpu.EFER_LME), "kvm-2022-i386: only SCE and NXE (0x801)");
        gp(() -> x.msrs.write(Msrs.IA32_EFER, Cpu.EFER_LMA), "setting LMA");
    }

    @Test
    void tscWritesMoveTscAdjustButTscAdjustWritesAreDropped() {
        c.instructions = 1000;
        c.msrs.write(Msrs.IA32_TSC, 5000);
        assertEquals(4000, c.msrs.read(Msrs.IA32_TSC_ADJUST), "SDM 17.15.3: TSC_ADJUST += new - old TSC");
        c.instructions += 7;
        assertEquals(5007, c.msrs.read(Msrs.IA32_TSC), "and the TSC keeps counting");
        c.msrs.write(Msrs.IA32_TSC_ADJUST, 0);
        assertEquals(4000, c.msrs.read(Msrs.IA32_TSC_ADJUST),
                "the profile's CPU does not enumerate TSC_ADJUST (CPUID.7.0:EBX[1] = 0): writes are dropped");
        assertEquals(0, Cpuid.query(c, 7, 0)[1] & 2, "and CPUID agrees");
    }

    @Test
    void apicBaseKeepsTheBspFlagAsWritten() {
        c.msrs.write(Msrs.IA32_APIC_BASE, 0xFEE00800L);
        assertEquals(0xFEE00800L, c.msrs.read(Msrs.IA32_APIC_BASE), "BSP flag is R/W");
        gp(() -> c.msrs.write(Msrs.IA32_APIC_BASE, 0xFEE00A00L), "bit 9 is reserved");
        c.msrs.write(Msrs.IA32_APIC_BASE, 0xFEE00C00L);
        gp(() -> c.msrs.write(Msrs.IA32_APIC_BASE, 0xFEE00800L), "x2APIC -> xAPIC directly is illegal");
    }

    @Test
    void bothProfilesHaveTheSameTableButForEfer() throws Exception {
        CpuProfile i386 = CpuProfile.load("kvm-2022-i386"), x64 = CpuProfile.load("kvm-2022");
        assertEquals(119, x64.msrTable().size(), "one line per row of seed 003's table");
        for (var s : i386.msrTable()) {
            var t = x64.msrSpec(s.index());
            if (s.index() == 0x483 || s.index() == 0x48F) continue;
            if (s.index() == Msrs.IA32_EFER) {
                assertEquals(0x801, s.writable());
                assertEquals(0x901, t.writable());
                continue;
            }
            assertEquals(s, t, "MSR 0x" + Integer.toHexString(s.index()));
        }
    }
}
