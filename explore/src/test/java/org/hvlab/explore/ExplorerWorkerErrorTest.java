package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Issue 13 item 2: an exception in an explore worker is a failure of its own, never "no failure in 0 runs". */
class ExplorerWorkerErrorTest {
    @Test
    void aCrashedWorkerIsASimulatorErrorNotAPass() throws Exception {
        Scenario s = ScenarioLoader.load(Path.of("..", "scenarios", "bug024-printf-lock-fixed.yaml"));
        // what a campaign task file without a strategy once did: a NullPointerException in the worker
        Explorer.Summary sum = Explorer.explore(s, new Explorer.Settings(4, 1, 2, 0, false, null, 3, null), null);
        assertTrue(sum.failed(), "a crashed worker must not pass");
        Explorer.Failure f = sum.failures().get(0);
        assertEquals("simulator-error", f.kind());
        assertEquals("simulator-error: explore worker NullPointerException", f.signature());
        assertTrue(f.message().startsWith("explore worker failed on seed 1: java.lang.NullPointerException"), f.message());
        assertTrue(sum.verdicts().get("simulator-error") >= 1, sum.verdicts().toString());
    }
}
