package org.hvlab.machine.vmx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Profiles that start from a bundled one ("base = NAME") and change a few lines. */
class CpuProfileBaseTest {
    @Test
    void aDerivedProfileKeepsTheBaseTableAndChangesWhatItSays() throws Exception {
        CpuProfile base = CpuProfile.load("kvm-2022"), nested = CpuProfile.load("kvm-2022-nested-nmi");
        assertEquals("kvm-2022-nested-nmi", nested.name);
        assertEquals(base.msrTable().size(), nested.msrTable().size());
        assertEquals(base.vmx(CpuProfile.IA32_VMX_PINBASED_CTLS), nested.vmx(CpuProfile.IA32_VMX_PINBASED_CTLS));
        assertEquals("held", base.choice("nmi-exit-while-guest-nmi-blocked"));
        assertEquals("exit", nested.choice("nmi-exit-while-guest-nmi-blocked"));
        assertEquals(base.choice("nmi-window-under-sti"), nested.choice("nmi-window-under-sti"));
    }

    @Test
    void anMsrLineOverridesTheBase() throws Exception {
        CpuProfile p = CpuProfile.parse("t.profile", "name = t\nbase = kvm-2022\nmsr.0x277 = 0x0007040600070406 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=pat\n");
        assertEquals(0x0007040600070406L, p.msr(0x277));
    }

    @Test
    void badBasesAreReportedWithFileAndLine() {
        var e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("t.profile", "name = t\nbase = nosuch\n"));
        assertEquals("t.profile:2: base: unknown CPU profile 'nosuch' (known: kvm-2022, kvm-2022-i386, kvm-2022-nested-nmi)", e.getMessage());
        e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("t.profile", "name = t\nchoice.x = y\nbase = kvm-2022\n"));
        assertEquals("t.profile:3: 'base' must come before every MSR and choice line", e.getMessage());
        e = assertThrows(CpuProfile.ProfileException.class,
                () -> CpuProfile.parse("t.profile", "name = t\nbase = kvm-2022\nmsr.0x10 = 0\nmsr.0x10 = 1\n"));
        assertEquals("t.profile:4: MSR 0x10 given twice", e.getMessage());
    }
}
