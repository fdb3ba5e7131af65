package org.hvlab.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.hvlab.explore.Explorer;
import org.hvlab.explore.Scenario;
import org.hvlab.explore.ScenarioException;
import org.hvlab.explore.ScenarioLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hvlab explore SCENARIO}: issue 5 "hvlab explore". */
@Command(name = "explore", mixinStandardHelpOptions = true, description = {
        "Run a scenario over many seeds, judge each run with its oracles, keep one run record per distinct failure.",
        "Exit status: 0 no failure within the budget, " + ExploreCommand.FOUND + " a failure was found, 2 bad input."})
final class ExploreCommand implements Callable<Integer> {
    /** The exit status when exploration found a failure (scripts and CI rely on it). */
    static final int FOUND = 1;

    @Parameters(paramLabel = "SCENARIO", description = "A scenario YAML file, or the name of a shipped one (see scenarios/).")
    String scenario;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "1000", description = "Runs at most (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the first run; run i uses seed + i (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "2", description = "Worker threads (default ${DEFAULT-VALUE}).")
    int jobs;

    @Option(names = "--strategy", paramLabel = "random|pct", defaultValue = "random", description = "Scheduling strategy (default ${DEFAULT-VALUE}).")
    String strategy;

    @Option(names = "--pct-depth", paramLabel = "D", defaultValue = "3", description = "PCT bug depth: D-1 priority change points (default ${DEFAULT-VALUE}).")
    int pctDepth;

    @Option(names = "--time-budget", paramLabel = "SECONDS", defaultValue = "0", description = "Stop starting runs after this long (0: no limit).")
    double timeBudget;

    @Option(names = "--keep-going", description = "Collect every distinct failure signature instead of stopping at the first.")
    boolean keepGoing;

    @Option(names = "--records", paramLabel = "DIR", defaultValue = "hvlab-records", description = "Where run records go (default ${DEFAULT-VALUE}).")
    Path records;

    @Override
    public Integer call() {
        if (runs < 1) throw new Main.BadInput("--runs must be at least 1, got " + runs);
        if (jobs < 1 || jobs > 64) throw new Main.BadInput("--jobs must be 1-64, got " + jobs);
        if (pctDepth < 1) throw new Main.BadInput("--pct-depth must be at least 1, got " + pctDepth);
        if (!strategy.equals("random") && !strategy.equals("pct")) throw new Main.BadInput("--strategy must be random or pct, got '" + strategy + "'");
        if (pctDepth > Explorer.MAX_PCT_DEPTH) throw new Main.BadInput("--pct-depth must be at most " + Explorer.MAX_PCT_DEPTH + ", got " + pctDepth);
        // NaN, infinities and budgets whose nanoseconds overflow are not a time budget
        if (!(timeBudget >= 0 && timeBudget <= Explorer.MAX_TIME_BUDGET)) {
            throw new Main.BadInput("--time-budget must be 0 (no limit) to " + (long) Explorer.MAX_TIME_BUDGET + " seconds, got " + timeBudget);
        }
        if (seed > Long.MAX_VALUE - runs + 1) throw new Main.BadInput("--seed " + seed + " + --runs " + runs + " passes the largest seed");
        try {
            Scenario s = ScenarioLoader.loadFileOrShipped(scenario);
            Explorer.Summary sum = Explorer.explore(s, new Explorer.Settings(runs, seed, jobs, timeBudget, keepGoing, strategy, pctDepth, records), System.err);
            for (Explorer.Failure f : sum.failures()) {
                System.out.printf("FAILED seed %d: %s%n  signature: %s%s%n  record: %s%n", f.seed(), f.message().lines().findFirst().orElse(""),
                        f.signature(), keepGoing ? String.format(" (%d of %d runs)", f.runs(), sum.runs()) : "", f.record());
            }
            if (!sum.failed()) System.out.printf("no failure in %d runs (%.1f s)%n", sum.runs(), sum.seconds());
            return sum.failed() ? FOUND : 0;
        } catch (ScenarioException e) {
            throw new Main.BadInput(e.getMessage());
        }
    }
}
