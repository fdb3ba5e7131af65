package org.hvlab.xmhf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.Outcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * XMHF-FACTS.md / issue 4 "Transparency": a guest that passes on the bare machine passes
 * under XMHF with the same serial output (XMHF prints nothing in a quiet run).
 */
class XmhfTransparencyTest {
    @ParameterizedTest(name = "{0} on {1} CPUs, seed {2}")
    @CsvSource({"hello, 1, 1", "hello, 4, 2", "smp, 2, 1", "smp, 4, 3", "exceptions, 1, 1", "nmi, 2, 1"})
    void sameOutputAsOnTheBareMachine(String guest, int cpus, long seed) {
        var bare = XmhfRuns.bare(guest, cpus, seed, "");
        assertEquals(Outcome.EXITED, bare.result().outcome(), bare.result().message());
        var under = XmhfRuns.xmhf(guest, cpus, seed, "", new XmhfOptions());
        assertEquals(Outcome.EXITED, under.result().outcome(), under.result().message() + "\n" + under.serial());
        assertEquals(bare.result().exitStatus(), under.result().exitStatus());
        assertEquals(bare.serial(), under.guestSerial(), "the guest's own output");
        // XMHF's own lines are whole lines of its formats (XMHF-FACTS.md "Serial log lines")
        for (String line : under.serial().split("\n")) {
            if (!bare.serial().contains(line)) assertEquals("CPU(0x00): inject NMI", line.replaceAll("CPU\\(0x0[0-9]\\)", "CPU(0x00)"), "an XMHF line");
        }
    }
}
