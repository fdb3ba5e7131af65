package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 item 7: with several workers the reported failing seed does not depend on timing —
 * it is the lowest failing seed, as with one worker (README "hvlab explore").
 */
class ExplorerDeterminismTest {
    @TempDir
    Path dir;

    @Test
    void theLowestFailingSeedIsReportedWhateverTheWorkers() throws Exception {
        Scenario s = ScenarioLoader.load(Path.of("..", "scenarios", "bug024-printf-lock-buggy.yaml"));
        // every seed's verdict, one worker
        Explorer.Summary all = Explorer.explore(s, new Explorer.Settings(8, 1, 1, 0, true, "random", 3, null), null);
        long lowest = all.failures().stream().mapToLong(Explorer.Failure::seed).min().orElseThrow();
        for (int trial = 0; trial < 4; trial++) {
            Path records = dir.resolve("t" + trial);
            Explorer.Summary two = Explorer.explore(s, new Explorer.Settings(8, 1, 2, 0, false, "random", 3, records), null);
            assertEquals(1, two.failures().size(), "stopping at the first failure reports one");
            assertEquals(lowest, two.failures().get(0).seed(), "trial " + trial);
            try (var files = Files.list(records)) {
                assertEquals(1, files.count(), "one record, the reported one's");
            }
            assertTrue(Files.isRegularFile(two.failures().get(0).record()));
        }
        // going on: each signature's lowest seed, whatever the workers
        Explorer.Summary goingOn = Explorer.explore(s, new Explorer.Settings(8, 1, 2, 0, true, "random", 3, null), null);
        assertEquals(all.failures().stream().map(f -> f.signature() + "@" + f.seed()).sorted().toList(),
                goingOn.failures().stream().map(f -> f.signature() + "@" + f.seed()).sorted().toList());
    }
}
