package org.hvlab.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hvlab.explore.Explorer;
import org.hvlab.explore.Minimiser;
import org.hvlab.explore.Report;
import org.hvlab.explore.RunRecord;
import org.hvlab.explore.Scenario;
import org.hvlab.explore.ScenarioException;
import org.hvlab.explore.ScenarioLoader;
import org.hvlab.explore.ScenarioRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hvlab demo} (issue 5): explores a shipped buggy scenario until it fails, minimises the
 * failing run, writes its report and says where, then runs the fixed variant over the same
 * seeds and shows it pass.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = {
        "Find a historical XMHF bug by exploration, minimise it, write its report, and show the fixed design pass.",
        "Exit status: 0 when the bug was found and the fixed variant passed, 1 otherwise."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--scenario", paramLabel = "NAME", defaultValue = "bug024-printf-lock",
            description = "Shipped scenario pair without -buggy/-fixed (default ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "20", description = "Exploration budget in runs (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "hvlab-demo", description = "Where records and the report go (default ${DEFAULT-VALUE}).")
    Path out;

    private static String shorten(String message) {
        String first = message.lines().findFirst().orElse("");
        int semi = first.indexOf(';', first.indexOf(';') + 1);
        return semi > 0 ? first.substring(0, semi) + "; ..." : first;
    }

    @Override
    public Integer call() throws IOException {
        long t0 = System.nanoTime();
        try {
            Scenario buggy = ScenarioLoader.loadFileOrShipped(name + "-buggy");
            Scenario fixed = ScenarioLoader.loadFileOrShipped(name + "-fixed");
            System.out.println("== 1. exploring " + buggy.name() + ": " + buggy.description());
            Explorer.Summary found = Explorer.explore(buggy, new Explorer.Settings(runs, 1, 2, 60, false, "random", 3, out), System.err);
            if (!found.failed()) {
                System.out.printf("no failure in %d runs: the bug was not found%n", found.runs());
                return 1;
            }
            Explorer.Failure f = found.failures().get(0);
            System.out.printf(Locale.ROOT, "found after %d runs (%.1f s): seed %d%n  %s%n  signature: %s%n", found.runs(), found.seconds(), f.seed(),
                    shorten(f.message()), f.signature());

            System.out.println("== 2. minimising the failing run");
            RunRecord rec = RunRecord.read(f.record());
            Minimiser.Result m = Minimiser.minimise(rec, 30);
            Path min = f.record().resolveSibling(f.record().getFileName().toString().replace(".yaml", "-min.yaml"));
            m.record().write(min);
            System.out.printf("  scheduling choices %d -> %d, injected NMIs %d -> %d (%d replays)%n  record: %s%n",
                    m.choicesBefore(), m.choicesAfter(), m.nmisBefore(), m.nmisAfter(), m.runs(), min);

            System.out.println("== 3. report of the minimised run");
            RunRecord r = m.record();
            Scenario s = r.scenario();
            ScenarioRun.Result o = ScenarioRun.run(s, r.seed(), r.choiceSource(s.scheduling().maxQuantum()), r.plan(), true);
            List<Path> files = Report.write(o, out, min.getFileName().toString().replace(".yaml", ""));
            System.out.printf("  timeline (Perfetto / chrome://tracing): %s%n  page: %s%n", files.get(0), files.get(1));
            System.out.printf("  replay it:  hvlab replay %s%n", min);

            System.out.printf("== 4. the fixed design, %s, over the same budget: %d runs from seed 1%n", fixed.name(), runs);
            Explorer.Summary clean = Explorer.explore(fixed, new Explorer.Settings(runs, 1, 2, 60, true, "random", 3, out), System.err);
            System.out.printf(Locale.ROOT, "%s in %d runs%n", clean.failed() ? "FAILED" : "no failure", clean.runs());
            System.out.printf(Locale.ROOT, "demo done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            return clean.failed() ? 1 : 0;
        } catch (ScenarioException e) {
            throw new Main.BadInput(e.getMessage());
        }
    }
}
