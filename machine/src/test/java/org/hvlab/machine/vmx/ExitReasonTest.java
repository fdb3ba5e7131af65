package org.hvlab.machine.vmx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Exit reasons by SDM name (Vol.3D Appendix C); traces and reports print them as "name (number)". */
class ExitReasonTest {
    @Test
    void numbersAreTheSdmsAndUnique() {
        assertEquals(48, ExitReason.EPT_VIOLATION.code);
        assertEquals(33, ExitReason.ENTRY_FAILURE_GUEST_STATE.code);
        assertEquals(37, ExitReason.MONITOR_TRAP_FLAG.code);
        assertEquals(55, ExitReason.XSETBV.code);
        Set<Integer> seen = new HashSet<>();
        for (ExitReason r : ExitReason.values()) assertEquals(true, seen.add(r.code), r + " twice");
    }

    @Test
    void describedByName() {
        assertEquals("EPT violation (48)", ExitReason.describe(48));
        assertEquals("failed entry: VM-entry failure due to invalid guest state (33)", ExitReason.describe(0x80000021L));
        assertEquals("exit reason (35)", ExitReason.describe(35));
        assertNull(ExitReason.of(35));
        assertEquals(ExitReason.CPUID, ExitReason.of(10));
    }
}
