package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PCT (issue 5 "Choice sources"): priorities, change points, determinism, and finding a seed bug. */
class PctTest {
    /** Drives a source as the scheduler does: a runnable subset each time, picks, quanta. */
    static List<long[]> drive(Pct p, int cpus, long runnableSeed, int picks) {
        SplittableRandom r = new SplittableRandom(runnableSeed);
        List<long[]> out = new ArrayList<>();
        int[] runnable = new int[cpus];
        for (int i = 0; i < picks; i++) {
            int n = 0;
            for (int c = 0; c < cpus; c++) if (r.nextInt(4) != 0) runnable[n++] = c;
            if (n == 0) runnable[n++] = r.nextInt(cpus);
            int pick = p.pickCpu(runnable, n);
            int q = p.quantum();
            boolean ok = false;
            for (int k = 0; k < n; k++) ok |= runnable[k] == pick;
            out.add(new long[] {pick, q, ok ? 1 : 0});
        }
        return out;
    }

    @Property(tries = 200)
    void picksARunnableCpuWithABoundedQuantumAndIsDeterministic(@ForAll long seed, @ForAll @IntRange(min = 1, max = 16) int cpus,
            @ForAll @IntRange(min = 1, max = 6) int depth, @ForAll @IntRange(min = 1, max = 5000) int maxQuantum) {
        List<long[]> a = drive(new Pct(seed, cpus, depth, maxQuantum, 100_000), cpus, seed, 300);
        List<long[]> b = drive(new Pct(seed, cpus, depth, maxQuantum, 100_000), cpus, seed, 300);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(1, a.get(i)[2], "pick " + i + " is runnable");
            assertTrue(a.get(i)[1] >= 1 && a.get(i)[1] <= maxQuantum, "quantum " + a.get(i)[1]);
            assertEquals(a.get(i)[0], b.get(i)[0]);
            assertEquals(a.get(i)[1], b.get(i)[1]);
        }
    }

    @Test
    void withoutChangePointsTheHighestPriorityCpuRunsSevenSlicesInEight() {
        int[] all = {0, 1, 2, 3};
        Pct p = new Pct(42, 4, 1, 100, 1_000_000);
        int[] counts = new int[4];
        for (int i = 0; i < 800; i++) {
            counts[p.pickCpu(all, 4)]++;
            p.quantum();
        }
        int top = 0;
        for (int c = 1; c < 4; c++) if (counts[c] > counts[top]) top = c;
        assertTrue(counts[top] >= 700, java.util.Arrays.toString(counts));
    }

    @Test
    void aChangePointDemotesTheRunningCpuBelowEveryOther() {
        int[] two = {0, 1};
        for (long seed = 1; seed <= 20; seed++) {
            Pct p = new Pct(seed, 2, 2, 1000, 50_000);
            long cp = p.changePoints()[0], steps = 0;
            int demoted = -1, priorityPicksAfter = 0;
            for (int i = 0; steps < 60_000; i++) {
                boolean randomSlice = (i + 1) % 8 == 0; // one slice in eight goes to a random CPU
                int c = p.pickCpu(two, 2);
                long q = p.quantum();
                if (steps < cp) assertTrue(steps + q <= cp, "a quantum ends at the change point");
                if (steps + q == cp) demoted = c; // the CPU running into the change point
                if (steps >= cp && !randomSlice) {
                    assertNotEquals(demoted, c, "seed " + seed + ": the demoted CPU runs below the other");
                    priorityPicksAfter++;
                }
                steps += q;
            }
            assertTrue(demoted >= 0 && priorityPicksAfter > 0);
        }
    }

    @Test
    void pctFindsTheBug024DeadlockAndPassesTheFix(@TempDir Path dir) throws Exception {
        Scenario buggy = ScenarioLoader.load(Path.of("..", "scenarios", "bug024-printf-lock-buggy.yaml"));
        Explorer.Summary found = Explorer.explore(buggy, new Explorer.Settings(16, 1, 2, 0, false, "pct", 3, dir), null);
        assertTrue(found.failed(), found.toString());
        assertTrue(found.failures().get(0).signature().contains("lock printf"), found.failures().get(0).signature());
        RunRecord rec = RunRecord.read(found.failures().get(0).record());
        ScenarioRun.Result again = ScenarioRun.run(rec.scenario(), rec.seed(), rec.choiceSource(buggy.scheduling().maxQuantum()), rec.plan());
        assertEquals(rec.signature(), again.verdict().signature(), "a PCT record replays");
        Scenario fixed = ScenarioLoader.load(Path.of("..", "scenarios", "bug024-printf-lock-fixed.yaml"));
        Explorer.Summary clean = Explorer.explore(fixed, new Explorer.Settings(16, 1, 2, 0, true, "pct", 3, dir), null);
        assertEquals(List.of(), clean.failures());
    }
}
