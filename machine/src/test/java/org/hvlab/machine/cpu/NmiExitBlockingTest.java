package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.Test;

/**
 * An NMI that arrives while the guest is NMI-blocked, with "NMI exiting" = 1 and "virtual NMIs" =
 * 0 - XMHF64's seed-000 configuration. The SDM (Vol.3C 26.6.1) keeps the blocking in effect for
 * as long as the processor stays in VMX non-root operation: the NMI waits for the next VM exit.
 * Profile kvm-2022-nested-nmi models KVM's nested VMX, the seed's L0, which exits at once.
 */
class NmiExitBlockingTest {
    static final long GUEST = VmxTestBed.GUEST;

    private static VmxTestBed nmiBlockedGuest(CpuProfile profile, String code) {
        VmxTestBed b = new VmxTestBed(profile, GUEST);
        b.t.load(GUEST, TestCpu.assemble(code));
        b.v.set(PIN_BASED_CONTROLS, b.v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_NMI_EXITING);
        b.v.set(GUEST_INTERRUPTIBILITY, 8); // blocking by NMI: the guest is inside its NMI handler
        b.enter("vmlaunch");
        assertTrue(b.c.vmx.nonRoot);
        return b;
    }

    @Test
    void theSdmHoldsTheNmiUntilTheNextVmExit() {
        VmxTestBed b = nmiBlockedGuest(CpuProfile.defaultProfile(), "inc %rbx\ninc %rbx\ninc %rbx\ninc %rbx\niretq");
        b.c.r[3] = 0;
        b.c.raiseNmi();
        for (int i = 0; i < 4; i++) b.c.run(1);
        assertTrue(b.c.vmx.nonRoot, "no NMI exit while blocking by NMI is in effect");
        assertEquals(4, b.c.r[3], "the guest ran on");
        assertTrue(b.c.nmiPending, "the NMI is held pending");
    }

    @Test
    void theKvmNestedProfileExitsAtOnce() throws Exception {
        VmxTestBed b = nmiBlockedGuest(CpuProfile.load("kvm-2022-nested-nmi"), "inc %rbx\ninc %rbx\ninc %rbx\ninc %rbx\niretq");
        b.c.run(1);
        b.c.raiseNmi();
        b.c.run(1);
        assertFalse(b.c.vmx.nonRoot, "the NMI exits the NMI-blocked guest");
        assertEquals(0, b.v.get(EXIT_REASON), "exit reason 0");
        assertEquals(0x80000202L, b.v.get(EXIT_INTERRUPTION_INFO), "an NMI");
        assertEquals(GUEST + 3, b.v.get(GUEST_RIP), "after the first instruction, at the next boundary");
        assertEquals(8, b.v.get(GUEST_INTERRUPTIBILITY) & 8, "the guest was NMI-blocked, and the exit saved that");
        assertTrue(b.c.nmiBlocked, "the host is NMI-blocked after an NMI exit");
    }

    @Test
    void bothRulesAgreeForAnUnblockedGuest() throws Exception {
        for (String p : new String[] {"kvm-2022", "kvm-2022-nested-nmi"}) {
            VmxTestBed b = new VmxTestBed(CpuProfile.load(p), GUEST);
            b.t.load(GUEST, TestCpu.assemble("1: jmp 1b"));
            b.v.set(PIN_BASED_CONTROLS, b.v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_NMI_EXITING);
            b.enter("vmlaunch");
            b.c.raiseNmi();
            b.c.run(1);
            assertFalse(b.c.vmx.nonRoot, p);
            assertEquals(0x80000202L, b.v.get(EXIT_INTERRUPTION_INFO), p);
        }
    }
}
