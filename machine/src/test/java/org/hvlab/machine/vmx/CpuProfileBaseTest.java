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
        assertEquals("held", base.choice(CpuProfile.Choice.NMI_EXIT_WHILE_GUEST_NMI_BLOCKED));
        assertEquals("exit", nested.choice(CpuProfile.Choice.NMI_EXIT_WHILE_GUEST_NMI_BLOCKED));
        assertEquals(base.choice(CpuProfile.Choice.NMI_WINDOW_UNDER_STI), nested.choice(CpuProfile.Choice.NMI_WINDOW_UNDER_STI));
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
        e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("t.profile", "name = t\nchoice.nmi-window-under-sti = open\nbase = kvm-2022\n"));
        assertEquals("t.profile:3: 'base' must come before every MSR and choice line", e.getMessage());
        e = assertThrows(CpuProfile.ProfileException.class,
                () -> CpuProfile.parse("t.profile", "name = t\nbase = kvm-2022\nmsr.0x10 = 0\nmsr.0x10 = 1\n"));
        assertEquals("t.profile:4: MSR 0x10 given twice", e.getMessage());
    }

    /** The choices the SDM leaves open are closed sets, checked at load (issue 12 item 7). */
    @Test
    void choicesAreTypedAndValidatedAtLoad() throws Exception {
        CpuProfile p = CpuProfile.parse("t.profile", "name = t\nbase = kvm-2022\nchoice.nmi-window-under-sti = open\n");
        assertEquals("open", p.choice(CpuProfile.Choice.NMI_WINDOW_UNDER_STI));
        org.junit.jupiter.api.Assertions.assertTrue(p.is(CpuProfile.Choice.NMI_WINDOW_UNDER_STI, "open"));
        var e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("t.profile", "name = t\nbase = kvm-2022\nchoice.nmi-window = open\n"));
        assertEquals("t.profile:3: unknown choice 'nmi-window' (nmi-injection-under-sti, nmi-window-under-sti, hlt-nmi-exit-activity, nmi-exit-while-guest-nmi-blocked)",
                e.getMessage());
        e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("t.profile", "name = t\nbase = kvm-2022\nchoice.nmi-injection-under-sti = maybe\n"));
        assertEquals("t.profile:3: choice.nmi-injection-under-sti: expected one of [fail, allow], got 'maybe'", e.getMessage());
        String noChoices = new String(CpuProfile.class.getResourceAsStream("profiles/kvm-2022.profile").readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII)
                .replace("choice.nmi-window-under-sti = wait", "");
        e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("t.profile", noChoices));
        assertEquals("t.profile: no 'choice.nmi-window-under-sti' (one of [wait, open])", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.is(CpuProfile.Choice.NMI_WINDOW_UNDER_STI, "sometimes"));
    }
}
