package org.hvlab.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.hvlab.explore.Minimiser;
import org.hvlab.explore.RunRecord;
import org.hvlab.explore.ScenarioException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hvlab minimise RECORD}: shrink a failing run record while its signature holds. */
@Command(name = "minimise", mixinStandardHelpOptions = true, aliases = "minimize", description = {
        "Shrink a run record's injection plan and scheduling choices while it still fails with the same signature.",
        "Writes RECORD-min.yaml (or --out) and reports the sizes before and after. Exit status: 0, or 2 for bad input."})
final class MinimiseCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RECORD")
    Path record;

    @Option(names = "--budget", paramLabel = "RUNS", defaultValue = "60", description = "Replays at most (default ${DEFAULT-VALUE}).")
    int budget;

    @Option(names = "--out", paramLabel = "FILE", description = "Where the minimised record goes (default: RECORD with -min).")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (budget < 1) throw new Main.BadInput("--budget must be at least 1, got " + budget);
        try {
            RunRecord r = RunRecord.read(record);
            Minimiser.Result m = Minimiser.minimise(r, budget);
            Path dest = out != null ? out : record.resolveSibling(record.getFileName().toString().replaceFirst("(\\.yaml)?$", "-min.yaml"));
            m.record().write(dest);
            System.out.printf("minimised %s in %d replays: scheduling choices %d -> %d, injected NMIs %d -> %d%n  signature: %s%n  record: %s%n",
                    record, m.runs(), m.choicesBefore(), m.choicesAfter(), m.nmisBefore(), m.nmisAfter(), r.signature(), dest);
            return 0;
        } catch (ScenarioException e) {
            throw new Main.BadInput(e.getMessage());
        }
    }
}
