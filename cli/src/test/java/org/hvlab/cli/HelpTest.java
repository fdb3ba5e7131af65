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

    /** 'hvlab guests' and 'hvlab scenarios' say what each one is (issue 13 items 9 and 13). */
    @Test
    void guestsAndScenariosAreDescribed() throws Exception {
        RunCommandTest.Result g = RunCommandTest.hvlab("guests");
        assertEquals(0, g.status(), g.err());
        assertEquals(GuestImages.BUNDLED.size(), g.out().lines().count());
        for (String name : GuestImages.BUNDLED) {
            assertTrue(GuestImages.DESCRIPTIONS.containsKey(name), "a description for " + name);
            assertTrue(g.out().lines().anyMatch(l -> l.startsWith(name + " ") && l.contains(GuestImages.DESCRIPTIONS.get(name))), name);
        }
        assertTrue(g.out().lines().anyMatch(l -> l.startsWith("lhv ") && l.contains("until XMHF offers nested VMX")), g.out());

        RunCommandTest.Result s = RunCommandTest.hvlab("scenarios");
        assertEquals(0, s.status(), s.err());
        java.util.List<String> shipped;
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of("..", "scenarios"))) {
            shipped = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".yaml")).map(n -> n.substring(0, n.length() - 5)).sorted().toList();
        }
        assertEquals(shipped, s.out().lines().map(l -> l.split(" ")[0]).toList(), "every shipped scenario, sorted");
        assertTrue(s.out().contains("bug024-printf-lock-buggy") && s.out().contains("printf lock"), s.out());
    }
}
