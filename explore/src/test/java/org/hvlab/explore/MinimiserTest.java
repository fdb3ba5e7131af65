package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/** Issue 5 "Minimisation": the signature holds, the record shrinks, the minimised record replays. */
class MinimiserTest {
    /** Every shipped buggy scenario (issue 5 "Verification": minimising keeps the signature and shrinks the record). */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"seed000-direct-nmi, 12", "bug018-endquiesce-order, 40", "bug018-no-iret, 12", "bug024-printf-lock, 12",
            "bug113-reentrant-nmi-enable, 12", "bug022-ept-gpa-32bit, 12",
            // a plan of 100 NMIs to bisect before the choices get their turn
            "seed001-inject-at-arrival, 40", "bug087-hypapp-nmi-block, 40",
            // 60,050 NMIs (the loop forms at any of them)
            "seed000-linux-nmi, 60"})
    void aMinimisedRecordStillFailsTheSameWayAndIsSmaller(String name, int budget, @TempDir Path dir) throws Exception {
        Scenario s = ScenarioLoader.load(Path.of("..", "scenarios", name + "-buggy.yaml"));
        Explorer.Summary found = Explorer.explore(s, new Explorer.Settings(4, 1, 2, 0, false, "random", 3, dir), null);
        assertTrue(found.failed(), "the buggy scenario fails: " + found);
        RunRecord rec = RunRecord.read(found.failures().get(0).record());

        Minimiser.Result m = Minimiser.minimise(rec, budget);
        assertTrue(m.runs() <= budget, "within the budget: " + m.runs());
        assertTrue(m.choicesAfter() < m.choicesBefore(), m.choicesBefore() + " -> " + m.choicesAfter());
        assertTrue(m.nmisAfter() <= m.nmisBefore(), m.nmisBefore() + " -> " + m.nmisAfter());
        if (m.nmisBefore() > 1) assertTrue(m.nmisAfter() < m.nmisBefore(), "the plan shrinks: " + m.nmisBefore() + " -> " + m.nmisAfter());
        assertEquals(rec.signature(), m.record().signature());

        Path min = dir.resolve("min.yaml");
        m.record().write(min);
        RunRecord back = RunRecord.read(min);
        assertEquals(RunRecord.ROUND_ROBIN, back.fallback());
        ScenarioRun.Result again = ScenarioRun.run(back.scenario(), back.seed(), back.choiceSource(s.scheduling().maxQuantum()), back.plan());
        assertEquals(rec.signature(), again.verdict().signature(), "the minimised record replays the failure");
        assertEquals(back.serial(), again.serial());
    }

    @Test
    void aRecordThatDoesNotFailIsRefused(@TempDir Path dir) throws Exception {
        Scenario s = ScenarioLoader.load(Path.of("..", "scenarios", "bug113-reentrant-nmi-enable-buggy.yaml"));
        ScenarioRun.Result o = ScenarioRun.random(s, 1);
        RunRecord passing = RunRecord.of(o).withChoices(new int[0], RunRecord.ROUND_ROBIN);
        // pretend it failed with a signature the run never shows
        RunRecord fake = new RunRecord(RunRecord.VERSION, passing.scenarioPath(), passing.scenarioSource(), passing.seed(), passing.strategy(), passing.plan(),
                passing.choices(), passing.fallback(), "deadlock", "deadlock: nowhere", "-", "", 0);
        String msg = org.junit.jupiter.api.Assertions.assertThrows(ScenarioException.class, () -> Minimiser.minimise(fake, 5)).getMessage();
        assertEquals("the record does not fail as recorded when replayed; nothing to minimise", msg);
    }
}
