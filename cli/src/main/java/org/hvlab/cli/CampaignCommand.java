package org.hvlab.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.hvlab.explore.Campaign;
import org.hvlab.explore.Explorer;
import org.hvlab.explore.Scenario;
import org.hvlab.explore.ScenarioException;
import org.hvlab.explore.ScenarioLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hvlab campaign}: a scenario over a seed range, split into tasks (issue 5 "Campaigns"). */
@Command(name = "campaign", mixinStandardHelpOptions = true, description = {
        "Split a scenario's seed range into tasks and run them on the local executor, or write them as files",
        "for a cluster engine (--write-tasks DIR) and run one such file (--run-task FILE).",
        "Exit status: 0 no failure, 1 a failure was found, 2 bad input."})
final class CampaignCommand implements Callable<Integer> {
    @Parameters(paramLabel = "SCENARIO", arity = "0..1", description = "Scenario file or shipped name (not with --run-task).")
    String scenario;

    @Option(names = "--seeds", paramLabel = "FROM-TO", defaultValue = "1-1000", description = "Seed range (default ${DEFAULT-VALUE}).")
    String seeds;

    @Option(names = "--task-size", paramLabel = "N", defaultValue = "100", description = "Seeds per task (default ${DEFAULT-VALUE}).")
    int taskSize;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "2", description = "Local executor threads (default ${DEFAULT-VALUE}).")
    int jobs;

    @Option(names = "--strategy", paramLabel = "random|pct", defaultValue = "random")
    String strategy;

    @Option(names = "--write-tasks", paramLabel = "DIR", description = "Write the tasks as files instead of running them.")
    Path writeTasks;

    @Option(names = "--run-task", paramLabel = "FILE", description = "Run one task file (what a cluster worker does).")
    Path runTask;

    @Option(names = "--records", paramLabel = "DIR", defaultValue = "hvlab-records")
    Path records;

    @Override
    public Integer call() throws IOException {
        try {
            if (runTask != null) return report(Campaign.run(Campaign.readTask(runTask), records));
            if (scenario == null) throw new Main.BadInput("campaign needs a SCENARIO (or --run-task FILE)");
            String[] r = seeds.split("-");
            if (r.length == 0 || r[0].isEmpty()) throw new Main.BadInput("--seeds wants FROM-TO (non-negative numbers), got '" + seeds + "'");
            if (jobs < 1 || jobs > 64) throw new Main.BadInput("--jobs must be 1-64, got " + jobs);
            if (!strategy.equals("random") && !strategy.equals("pct")) throw new Main.BadInput("--strategy must be random or pct, got '" + strategy + "'");
            long from, to;
            try {
                from = Long.parseLong(r[0]);
                to = Long.parseLong(r.length > 1 ? r[1] : r[0]);
            } catch (NumberFormatException e) {
                throw new Main.BadInput("--seeds wants FROM-TO, got '" + seeds + "'");
            }
            if (r.length > 2 || to < from) throw new Main.BadInput("--seeds wants FROM-TO with FROM <= TO, got '" + seeds + "'");
            if (taskSize < 1) throw new Main.BadInput("--task-size must be at least 1");
            Scenario s = ScenarioLoader.loadFileOrShipped(scenario);
            List<Campaign.Task> tasks;
            try {
                tasks = Campaign.split(s, from, to, taskSize, strategy, 3);
            } catch (IllegalArgumentException e) {
                throw new Main.BadInput(e.getMessage());
            }
            if (writeTasks != null) {
                List<Path> files = Campaign.writeTasks(tasks, writeTasks);
                System.out.printf("%d tasks written to %s (run each with: hvlab campaign --run-task FILE)%n", files.size(), writeTasks);
                return 0;
            }
            return report(Campaign.runLocally(tasks, jobs, records));
        } catch (ScenarioException e) {
            throw new Main.BadInput(e.getMessage());
        }
    }

    private static int report(Campaign.TaskResult r) {
        System.out.printf("%d runs: %s%n", r.runs(), r.verdicts());
        for (Explorer.Failure f : r.failures().values()) {
            System.out.printf("FAILED seed %d (%d run%s): %s%n  record: %s%n", f.seed(), f.runs(), f.runs() == 1 ? "" : "s", f.signature(), f.record());
        }
        return r.failures().isEmpty() ? 0 : ExploreCommand.FOUND;
    }
}
