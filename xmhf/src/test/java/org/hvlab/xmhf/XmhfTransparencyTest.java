package org.hvlab.xmhf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.Outcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * docs/xmhf-facts.md / issue 4 "Transparency": a guest that passes on the bare machine passes
 * under XMHF with the same serial output (XMHF prints nothing in a quiet run).
 */
class XmhfTransparencyTest {
    @ParameterizedTest(name = "{0} on {1} CPUs, seed {2}")
    @CsvSource({"hello, 1, 1, ''", "hello, 4, 2, ''", "smp, 2, 1, ''", "smp, 4, 3, ''", "smp, 4, 4, x2apic", "exceptions, 1, 1, ''",
            "nmi, 2, 1, ''", "nmiflood, 2, 1, ''", "nmiflood, 4, 2, mtrr"})
    void sameOutputAsOnTheBareMachine(String guest, int cpus, long seed, String cmdline) {
        var bare = XmhfRuns.bare(guest, cpus, seed, cmdline);
        assertEquals(Outcome.EXITED, bare.result().outcome(), bare.result().message());
        var under = XmhfRuns.xmhf(guest, cpus, seed, cmdline, new XmhfOptions());
        // INIT-SIPI-SIPI went through the x2APIC ICR, which XMHF intercepts as a WRMSR
        if (cmdline.equals("x2apic")) org.junit.jupiter.api.Assertions.assertTrue(under.machine().cpu(0).apic.x2apic());
        assertEquals(Outcome.EXITED, under.result().outcome(), under.result().message() + "\n" + under.serial());
        assertEquals(bare.result().exitStatus(), under.result().exitStatus());
        // nmiflood reports how many NMIs merged, which depends on timing: compare the verdict lines
        if (guest.equals("nmiflood")) {
            assertEquals(bare.serial().replaceAll("received=\\d+", "received=N"), under.guestSerial().replaceAll("received=\\d+", "received=N"));
        } else {
            assertEquals(bare.serial(), under.guestSerial(), "the guest's own output");
        }
        // XMHF's own lines are whole lines of its formats (docs/xmhf-facts.md "Serial log lines")
        for (String line : under.serial().split("\n")) {
            if (!under.guestSerial().contains(line)) assertEquals("CPU(0x00): inject NMI", line.replaceAll("CPU\\(0x0[0-9]\\)", "CPU(0x00)"), "an XMHF line");
        }
    }
}
