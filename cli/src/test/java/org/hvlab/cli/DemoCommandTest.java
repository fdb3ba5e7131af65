package org.hvlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hvlab demo}: finds the bug, minimises it, writes the report, shows the fixed variant pass. */
class DemoCommandTest {
    @Test
    void theDemoFindsMinimisesReportsAndPassesTheFix(@TempDir Path dir) throws Exception {
        RunCommandTest.Result r = RunCommandTest.hvlab("demo", "--out", dir.toString(), "--runs", "8");
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("== 1. exploring bug024-printf-lock-buggy"), r.out());
        assertTrue(r.out().contains("signature: deadlock: "), r.out());
        assertTrue(r.out().matches("(?s).*scheduling choices \\d+ -> \\d+.*"), r.out());
        assertTrue(r.out().contains("no failure in 8 runs"), r.out());
        try (var files = Files.list(dir)) {
            var names = files.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.endsWith("-min.yaml")), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.endsWith("-min.html")), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.endsWith("-min.trace.json")), names.toString());
        }
    }

    @Test
    void exploreAndReplayFromTheCommandLine(@TempDir Path dir) throws Exception {
        RunCommandTest.Result e = RunCommandTest.hvlab("explore", "bug113-reentrant-nmi-enable-buggy", "--runs", "4", "--records", dir.toString());
        assertEquals(ExploreCommand.FOUND, e.status(), e.out() + e.err());
        assertTrue(e.out().contains("signature: hypervisor-halt: HALT; NMI visited counter underflow 0xffffffff"), e.out());
        Path rec;
        try (var files = Files.list(dir)) {
            rec = files.filter(p -> p.toString().endsWith(".yaml")).findFirst().orElseThrow();
        }
        RunCommandTest.Result r = RunCommandTest.hvlab("replay", rec.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("replay matches the record"), r.err());
        RunCommandTest.Result bad = RunCommandTest.hvlab("explore", dir.resolve("nope.yaml").toString());
        assertEquals(Main.BAD_INPUT, bad.status());
        assertEquals(1, bad.err().lines().count(), bad.err());
    }

    @Test
    void campaignWritesTasksRunsOneAndRunsLocally(@TempDir Path dir) throws Exception {
        RunCommandTest.Result w = RunCommandTest.hvlab("campaign", "bug113-reentrant-nmi-enable-buggy", "--seeds", "1-4", "--task-size", "2",
                "--write-tasks", dir.resolve("tasks").toString());
        assertEquals(0, w.status(), w.out() + w.err());
        assertTrue(w.out().startsWith("2 tasks written"), w.out());
        RunCommandTest.Result t = RunCommandTest.hvlab("campaign", "--run-task", dir.resolve("tasks/task-00000.yaml").toString(), "--records", dir.toString());
        assertEquals(ExploreCommand.FOUND, t.status(), t.out() + t.err());
        assertTrue(t.out().contains("NMI visited counter underflow"), t.out());
        RunCommandTest.Result l = RunCommandTest.hvlab("campaign", "bug113-reentrant-nmi-enable-fixed", "--seeds", "1-4", "--task-size", "2", "--records", dir.toString());
        assertEquals(0, l.status(), l.out() + l.err());
        assertTrue(l.out().startsWith("4 runs: "), l.out());
        RunCommandTest.Result bad = RunCommandTest.hvlab("campaign", "bug113-reentrant-nmi-enable-fixed", "--seeds", "9-3");
        assertEquals(Main.BAD_INPUT, bad.status());
        assertEquals(1, bad.err().lines().count(), bad.err());
    }
}
