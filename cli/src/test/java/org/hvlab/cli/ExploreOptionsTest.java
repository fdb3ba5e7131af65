package org.hvlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Issue 13 item 2: numbers explore cannot honour are bad input (status 2, one line), never "no failure in 0 runs". */
class ExploreOptionsTest {
    /** Runs {@code command} on a shipped scenario with {@code options}; it must be refused as bad input in one line. */
    private static RunCommandTest.Result refused(String command, String[] options) {
        String[] args = new String[options.length + 2];
        args[0] = command;
        args[1] = "bug024-printf-lock-fixed";
        System.arraycopy(options, 0, args, 2, options.length);
        RunCommandTest.Result r = RunCommandTest.hvlab(args);
        assertEquals(Main.BAD_INPUT, r.status(), String.join(" ", options) + ": " + r.err());
        assertEquals(1, r.err().lines().count(), String.join(" ", options) + ": " + r.err());
        return r;
    }

    @Test
    void impossibleNumbersAreBadInput() {
        String[][] cases = {
                {"--time-budget", "NaN"}, {"--time-budget", "Infinity"}, {"--time-budget", "1e10"}, {"--time-budget", "-1"},
                {"--pct-depth", "2147483647"}, {"--pct-depth", "0"}, {"--jobs", "0"}, {"--runs", "0"},
                {"--seed", "9223372036854775807", "--runs", "2"}};
        for (String[] c : cases) {
            RunCommandTest.Result r = refused("explore", c);
            assertTrue(r.err().startsWith("hvlab: --"), r.err());
            assertEquals("", r.out());
        }
    }

    /** Issue 13 item 5: campaign ranges, worker counts and strategies it cannot honour are bad input, at once. */
    @Test
    void impossibleCampaignsAreBadInput() {
        String[][] cases = {
                {"--seeds", "-"}, {"--seeds", "5-1"}, {"--seeds", "1-9223372036854775807", "--task-size", "1"},
                {"--seeds", "9223372036854775806-9223372036854775807", "--jobs", "0"}, {"--jobs", "-3"}, {"--strategy", "fifo"}, {"--task-size", "0"}};
        for (String[] c : cases) refused("campaign", c);
    }
}
