package org.hvlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Issue 13 item 9: every command answers --help and 'hvlab help COMMAND'; a missing argument shows the usage line. */
class HelpTest {
    /** Every subcommand by its name (not the alias "minimize", not "help" itself). */
    static final String[] COMMANDS = new CommandLine(new Main()).getSubcommands().keySet().stream()
            .filter(c -> !c.equals("help") && !c.equals("minimize")).toArray(String[]::new);

    @Test
    void everyCommandHasHelp() {
        assertTrue(COMMANDS.length >= 8, java.util.Arrays.toString(COMMANDS));
        for (String c : COMMANDS) {
            RunCommandTest.Result r = RunCommandTest.hvlab(c, "--help");
            assertEquals(0, r.status(), c + " --help: " + r.err());
            assertTrue(r.out().startsWith("Usage: hvlab " + c), c + ": " + r.out());
            RunCommandTest.Result h = RunCommandTest.hvlab("help", c);
            assertEquals(0, h.status(), "help " + c + ": " + h.err());
            assertEquals(r.out(), h.out(), "help " + c + " prints the same");
        }
    }

    @Test
    void aMissingArgumentShowsTheUsageLine() {
        RunCommandTest.Result r = RunCommandTest.hvlab("replay");
        assertEquals(Main.BAD_INPUT, r.status());
        assertTrue(r.err().startsWith("hvlab: Missing required parameter: 'RECORD'"), r.err());
        assertEquals(2, r.err().lines().count(), r.err());
        assertEquals("Usage: hvlab replay [-hV] RECORD (hvlab replay --help for more)", r.err().lines().skip(1).findFirst().orElseThrow());
    }
}
