package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The NMI-accounting oracle against the guest's own count: the nmiflood victim counts the NMIs
 * its handler receives, and that count must be exactly the machine's IDT deliveries, while
 * every NMI sent (the guest's IPIs and the injection plan) is delivered, merged or held.
 */
class NmiAccountingTest {
    static final String SCENARIO = """
            name: accounting
            machine: {cpus: %d, memory: 256M}
            hypervisor: {name: %s}
            guest: {image: nmiflood, cmdline: "%s"}
            scheduling: {max-quantum: 500}
            injections:
              - {kind: periodic, cpu: 0, start: 50000, interval: 3000, jitter: 1000, count: 40}
              - {kind: burst, cpu: 0, at: 200000, count: 3}   # the victim only: its handler counts into one global
            oracles: [deadlock, hypervisor-halt, unhandled-exception, stuck, exit-status, isolation, simulator-error, nmi-accounting]
            limits: {max-steps: 30000000, stuck-steps: 10000000}
            """;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"none|2|", "xmhf|2|", "xmhf|4|mtrr"})
    void theLedgerMatchesTheGuestsOwnCount(String config) throws Exception {
        String[] c = config.split("\\|", -1);
        Scenario s = ScenarioLoader.parse(Path.of("accounting.yaml"), SCENARIO.formatted(Integer.parseInt(c[1]), c[0], c[2]));
        for (long seed = 1; seed <= 3; seed++) {
            ScenarioRun.Result o = ScenarioRun.random(s, seed);
            assertEquals("pass", o.verdict().kind(), o.verdict().message());
            Matcher m = Pattern.compile("sent=(\\d+) received=(\\d+)").matcher(o.guestSerial());
            assertTrue(m.find(), o.guestSerial());
            NmiLedger victim = o.nmis().ledger(0);
            assertEquals(Long.parseLong(m.group(2)), victim.delivered, "the handler's count is the machine's deliveries: " + victim.describe());
            long injected = o.injectedPerCpu()[0];
            assertEquals(Long.parseLong(m.group(1)) + injected, victim.arrivedGuest, "the guest's IPIs and the plan's NMIs: " + victim.describe());
            assertTrue(victim.arrivedGuest > victim.delivered, "a flood merges some: " + victim.describe());
            assertNull(Oracles.nmiAccounting(o.machine(), o.nmis()));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lost", "spurious"})
    void anImbalanceIsAVerdict(String kind) throws Exception {
        Scenario s = ScenarioLoader.parse(Path.of("accounting.yaml"), SCENARIO.formatted(2, "xmhf", ""));
        ScenarioRun.Result o = ScenarioRun.random(s, 1);
        NmiLedger l = o.nmis().ledger(0);
        // what a hypervisor that drops one NMI silently (or passes its own on) leaves behind
        if (kind.equals("lost")) l.delivered--;
        else l.delivered = l.arrivedGuest + 1;
        Verdict v = Oracles.nmiAccounting(o.machine(), o.nmis());
        assertEquals("nmi-accounting", v.kind());
        assertTrue(v.signature().contains(kind.equals("lost") ? "lost" : "nobody sent"), v.signature());
        assertTrue(v.message().startsWith("CPU 0: 1 "), v.message());
    }
}
