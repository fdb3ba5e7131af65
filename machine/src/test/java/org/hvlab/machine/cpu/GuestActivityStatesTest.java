package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.Test;

/**
 * Guest activity states shutdown and wait-for-SIPI (SDM Vol.3C 26.6.2, 27.2.1). The bundled
 * profiles, like seed 003's CPU, allow only HLT (IA32_VMX_MISC bits 8:6 = 001b); a profile that
 * also allows the other two (bits 7 and 8) is derived from kvm-2022 here.
 */
class GuestActivityStatesTest {
    static final long GUEST = 0x520000;

    static CpuProfile allActivityStates() throws IOException, CpuProfile.ProfileException {
        try (InputStream in = CpuProfile.class.getResourceAsStream("profiles/kvm-2022.profile")) {
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII)
                    .replace("msr.0x00000485 = 0x0000000020000065", "msr.0x00000485 = 0x00000000200001e5")
                    .replace("name = kvm-2022", "name = kvm-2022-all-activity-states");
            return CpuProfile.parse("test profile", text);
        }
    }

    VmxTestBed bed;
    TestCpu t;
    Cpu c;
    Vmcs v;

    void setUp(CpuProfile p) {
        bed = new VmxTestBed(p, GUEST);
        t = bed.t;
        c = bed.c;
        v = bed.v;
        t.load(GUEST, TestCpu.assemble("cpuid"));
    }

    void launch() {
        bed.enter("vmlaunch");
    }

    @Test
    void aSipiEndsWaitForSipiWithExit4AndTheVectorAsQualification() throws Exception {
        setUp(allActivityStates());
        v.set(GUEST_ACTIVITY_STATE, Cpu.WAIT_SIPI);
        launch();
        assertTrue(c.vmx.nonRoot, "entered: reason " + Long.toHexString(v.get(EXIT_REASON)));
        assertFalse(c.runnable(), "waiting for a SIPI");
        c.raiseSipi(0x12);
        assertTrue(c.runnable());
        c.run(1);
        assertFalse(c.vmx.nonRoot);
        assertEquals(4, v.get(EXIT_REASON), "SIPI");
        assertEquals(0x12, v.get(EXIT_QUALIFICATION), "the SIPI vector");
        assertEquals(Cpu.WAIT_SIPI, v.get(GUEST_ACTIVITY_STATE), "activity state saved: wait-for-SIPI");
    }

    @Test
    void anNmiExitEndsTheShutdownActivityState() throws Exception {
        setUp(allActivityStates());
        v.set(GUEST_ACTIVITY_STATE, Cpu.SHUTDOWN);
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_NMI_EXITING);
        launch();
        assertTrue(c.vmx.nonRoot);
        assertFalse(c.runnable());
        c.raiseNmi();
        assertTrue(c.runnable());
        c.run(1);
        assertEquals(0, v.get(EXIT_REASON));
        assertEquals(0x80000202L, v.get(EXIT_INTERRUPTION_INFO));
        assertEquals(Cpu.SHUTDOWN, v.get(GUEST_ACTIVITY_STATE), "activity state saved: shutdown");
    }

    @Test
    void theBundledProfileAllowsOnlyHlt() {
        setUp(CpuProfile.defaultProfile());
        v.set(GUEST_ACTIVITY_STATE, Cpu.WAIT_SIPI);
        launch();
        assertEquals(0x80000021L, v.get(EXIT_REASON), "wait-for-SIPI is not an allowed activity state (IA32_VMX_MISC bit 8)");
    }
}
