package org.hvlab.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.hvlab.explore.Report;
import org.hvlab.explore.RunRecord;
import org.hvlab.explore.Scenario;
import org.hvlab.explore.ScenarioException;
import org.hvlab.explore.ScenarioRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hvlab report RECORD}: replays a record with the timeline on and writes the trace JSON and HTML page. */
@Command(name = "report", mixinStandardHelpOptions = true, description = {
        "Replay a run record recording its timeline, and write RECORD.trace.json (Perfetto / chrome://tracing)",
        "and RECORD.html (verdict, per-CPU timeline, last events, deadlock stacks, serial output).",
        "Exit status: 0, 1 if the replay did not match the record, 2 for bad input."})
final class ReportCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RECORD")
    Path record;

    @Option(names = "--out", paramLabel = "DIR", description = "Directory for the report (default: the record's).")
    Path out;

    @Override
    public Integer call() throws IOException {
        try {
            RunRecord r = RunRecord.read(record);
            Scenario s = r.scenario();
            ScenarioRun.Result o = ScenarioRun.run(s, r.seed(), r.choiceSource(s.scheduling().maxQuantum()), r.plan(), true);
            Path dir = out != null ? out : (record.toAbsolutePath().getParent());
            String base = record.getFileName().toString().replaceFirst("\\.yaml$", "");
            List<Path> files = Report.write(o, dir, base);
            boolean same = r.matches(o.verdict());
            System.out.printf("%s: %s%n  trace: %s%n  page:  %s%n", same ? "replayed" : "replay DIFFERS", o.verdict().signature(), files.get(0), files.get(1));
            return same ? 0 : 1;
        } catch (ScenarioException e) {
            throw new Main.BadInput(e.getMessage());
        }
    }
}
