package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 5 "Campaigns": splitting, the task files a cluster engine would run, merging, the local executor. */
class CampaignTest {
    static Scenario load(String name) throws ScenarioException {
        return ScenarioLoader.load(Path.of("..", "scenarios", name + ".yaml"));
    }

    @Test
    void splitCoversTheRangeExactlyOnce() throws Exception {
        List<Campaign.Task> tasks = Campaign.split(load("bug024-printf-lock-buggy"), 5, 27, 10, "random", 3);
        assertEquals(3, tasks.size());
        assertEquals(List.of(5L, 15L, 25L), tasks.stream().map(Campaign.Task::from).toList());
        assertEquals(List.of(10, 10, 3), tasks.stream().map(Campaign.Task::count).toList());
        assertThrows(IllegalArgumentException.class, () -> Campaign.split(load("bug024-printf-lock-buggy"), 9, 3, 10, "random", 3));
    }

    @Test
    void taskFilesRoundTripAndRunLikeTheLocalExecutor(@TempDir Path dir) throws Exception {
        Scenario s = load("bug024-printf-lock-buggy");
        List<Campaign.Task> tasks = Campaign.split(s, 1, 4, 2, "random", 3);
        List<Path> files = Campaign.writeTasks(tasks, dir.resolve("tasks"));
        assertEquals(2, files.size());
        List<Campaign.TaskResult> fromFiles = new java.util.ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            Campaign.Task back = Campaign.readTask(files.get(i));
            assertEquals(tasks.get(i), back, "a task file carries the whole task");
            fromFiles.add(Campaign.run(back, dir.resolve("records-files")));
        }
        Campaign.TaskResult merged = Campaign.merge(fromFiles);
        Campaign.TaskResult local = Campaign.runLocally(tasks, 2, dir.resolve("records-local"));
        assertEquals(4, local.runs());
        assertEquals(local.verdicts(), merged.verdicts(), "the same tasks give the same verdicts wherever they run");
        assertEquals(local.failures().keySet(), merged.failures().keySet());
        assertTrue(local.failures().keySet().stream().anyMatch(k -> k.contains("lock printf")), local.failures().keySet().toString());
        for (Explorer.Failure f : local.failures().values()) assertTrue(Files.isRegularFile(f.record()));
    }

    @Test
    void mergeKeepsTheLowestSeedPerSignature() {
        Explorer.Failure a = new Explorer.Failure("sig", "deadlock", 7, "m", Path.of("a")), b = new Explorer.Failure("sig", "deadlock", 3, "m", Path.of("b"), 5);
        Campaign.TaskResult r = Campaign.merge(List.of(
                new Campaign.TaskResult(0, 5, Map.of("pass", 4L, "deadlock", 1L), Map.of("sig", a)),
                new Campaign.TaskResult(1, 5, Map.of("deadlock", 5L), Map.of("sig", b))));
        assertEquals(10, r.runs());
        assertEquals(Map.of("pass", 4L, "deadlock", 6L), r.verdicts());
        assertEquals(3, r.failures().get("sig").seed());
        assertEquals(6, r.failures().get("sig").runs(), "the runs of a signature add up");
    }

    @Test
    void fixedCampaignPasses(@TempDir Path dir) throws Exception {
        Campaign.TaskResult r = Campaign.runLocally(Campaign.split(load("bug024-printf-lock-fixed"), 1, 4, 2, "random", 3), 2, dir);
        assertEquals(4, r.runs());
        assertEquals(Map.of(), r.failures());
    }

    @Test
    void malformedTaskFileIsOneLine(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("t.yaml");
        Files.writeString(bad, "hvlab-task: 1\nindex: x\n");
        ScenarioException e = assertThrows(ScenarioException.class, () -> Campaign.readTask(bad));
        assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
        Files.writeString(bad, "just: text\n");
        assertTrue(assertThrows(ScenarioException.class, () -> Campaign.readTask(bad)).getMessage().contains("not an hvlab campaign task"));
    }
}
