package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13 item 3: run records are never lost, overwritten or written half, and never outside --records. */
class RecordFilesTest {
    @TempDir
    Path dir;

    static Explorer.Settings once(Path records) {
        return new Explorer.Settings(1, 1, 1, 0, false, "random", 3, records);
    }

    private static List<Path> records(Path d) throws Exception {
        try (var files = Files.list(d)) {
            return files.sorted().toList();
        }
    }

    @Test
    void concurrentAndRepeatedExplorationsKeepEveryRecord() throws Exception {
        Scenario s = ScenarioLoader.load(Path.of("..", "scenarios", "bug024-printf-lock-buggy.yaml"));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Explorer.Summary>> runs = new ArrayList<>();
            for (int i = 0; i < 2; i++) runs.add(pool.submit(() -> Explorer.explore(s, once(dir), null)));
            for (Future<Explorer.Summary> f : runs) assertTrue(f.get().failed());
        } finally {
            pool.shutdown();
        }
        Explorer.explore(s, once(dir), null); // and once more, later
        List<Path> files = records(dir);
        assertEquals(3, files.size(), "one record per exploration, none replaced: " + files);
        for (Path p : files) {
            RunRecord r = RunRecord.read(p); // each whole and readable
            assertEquals("deadlock", r.verdictKind(), p.toString());
        }
    }

    @Test
    void aScenarioNameIsNeverAPath() throws Exception {
        String text = Files.readString(Path.of("..", "scenarios", "bug024-printf-lock-buggy.yaml"))
                .replace("name: bug024-printf-lock-buggy", "name: \"../escaped\"");
        Scenario s = ScenarioLoader.parse(dir.resolve("x.yaml"), text);
        Path records = dir.resolve("records");
        Explorer.Summary sum = Explorer.explore(s, once(records), null);
        Path p = sum.failures().get(0).record();
        assertEquals(records.toAbsolutePath().normalize(), p.toAbsolutePath().normalize().getParent(), "inside --records: " + p);
        assertTrue(p.getFileName().toString().startsWith("_._escaped-deadlock-"), p.toString());
        assertEquals(List.of(p), records(records));
        assertEquals(List.of(records), records(dir), "nothing written beside it");
    }
}
