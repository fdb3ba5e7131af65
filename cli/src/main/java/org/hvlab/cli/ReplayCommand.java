package org.hvlab.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.hvlab.explore.RunRecord;
import org.hvlab.explore.Scenario;
import org.hvlab.explore.ScenarioException;
import org.hvlab.explore.ScenarioRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code hvlab replay RECORD}: runs a run record again and checks it reaches the same verdict and output. */
@Command(name = "replay", mixinStandardHelpOptions = true, description = {
        "Replay a run record: the same scenario, seed, injections and scheduling choices.",
        "Prints the serial output, then the verdict. Exit status: 0 the replay matched the record,",
        "1 it did not (a determinism bug), 2 bad input."})
final class ReplayCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RECORD", description = "A run record written by 'hvlab explore'.")
    Path record;

    @Override
    public Integer call() {
        try {
            RunRecord r = RunRecord.read(record);
            Scenario s = r.scenario();
            ScenarioRun.Result o = ScenarioRun.run(s, r.seed(), r.choiceSource(s.scheduling().maxQuantum()), r.plan());
            System.out.print(o.serial());
            System.out.flush();
            boolean same = r.matches(o.verdict()) && o.serial().equals(r.serial());
            System.err.println("hvlab: replay " + (same ? "matches" : "DIFFERS from") + " the record: " + o.verdict().kind() + ": "
                    + o.verdict().message().lines().findFirst().orElse(""));
            return same ? 0 : 1;
        } catch (ScenarioException e) {
            throw new Main.BadInput(e.getMessage());
        }
    }
}
