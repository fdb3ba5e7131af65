package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 6 "Isolation oracle": the OS probing registered PALs while PALs run and NMIs arrive is
 * refused every time, never gets through (no isolation verdict), and loses no NMI.
 */
class PalIsolationTest {
    @Test
    void randomProbesAreRefusedAndNeverBreach() throws Exception {
        Scenario s = ScenarioLoader.load(Path.of("..", "scenarios", "pal-isolation-probe.yaml"));
        long refused = 0, nmis = 0;
        for (long seed = 1; seed <= 6; seed++) {
            ScenarioRun.Result o = ScenarioRun.random(s, seed);
            assertEquals("pass", o.verdict().kind(), o.verdict().message());
            Matcher m = Pattern.compile("calls=40 probes=40 refused=(\\d+) nmis=(\\d+): Test pass").matcher(o.guestSerial());
            int lines = 0;
            while (m.find()) {
                lines++;
                refused += Long.parseLong(m.group(1));
                nmis += Long.parseLong(m.group(2));
            }
            assertEquals(4, lines, o.guestSerial());
        }
        assertTrue(refused > 100, "probes hit registered PALs: " + refused);
        assertTrue(nmis > 100, "NMIs arrived while PALs ran: " + nmis);
    }
}
