package org.hvlab.explore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A campaign (issue 5 "Campaigns"): a scenario over a seed range, split into tasks of a fixed
 * number of seeds. A task is self-contained — the scenario's text, its seeds, the strategy — and
 * its result is a small map (runs, verdict counts, one record per distinct signature), so the
 * same tasks can go to a cluster engine as files ({@link #writeTasks}) and their results be
 * merged the same way ({@link #merge}); {@link #runLocally} is the local executor.
 */
public final class Campaign {
    /** One unit of work: seeds {@code from} .. {@code from + count - 1} of the scenario. */
    public record Task(int index, String scenarioPath, String scenarioSource, long from, int count, String strategy, int pctDepth) {}

    /** What a task produced: runs, verdict counts, the first seed and record of each distinct failure. */
    public record TaskResult(int index, long runs, Map<String, Long> verdicts, Map<String, Explorer.Failure> failures) {}

    private Campaign() {}

    /** The most tasks one campaign is split into. */
    public static final int MAX_TASKS = 1_000_000;

    public static List<Task> split(Scenario s, long from, long to, int taskSize, String strategy, int pctDepth) {
        if (to < from) throw new IllegalArgumentException("empty seed range " + from + "-" + to);
        if (taskSize < 1) throw new IllegalArgumentException("task size must be at least 1");
        // the number of tasks, without overflow even for ranges that end at the largest seed
        long n = Math.floorDiv(to - from, taskSize) + 1;
        if (to - from < 0 || n > MAX_TASKS) {
            throw new IllegalArgumentException("seeds " + from + "-" + to + " in tasks of " + taskSize + " make more than " + MAX_TASKS + " tasks");
        }
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long seed = from + (long) i * taskSize;
            int count = (int) Math.min(taskSize, to - seed + 1);
            tasks.add(new Task(i, s.file() == null ? "" : s.file().toString(), s.source(), seed, count, strategy, pctDepth));
        }
        return tasks;
    }

    /** Runs one task (what a cluster worker runs). */
    public static TaskResult run(Task t, Path recordDir) throws ScenarioException {
        Scenario s = ScenarioLoader.parse(Path.of(t.scenarioPath().isEmpty() ? "task" : t.scenarioPath()), t.scenarioSource());
        Explorer.Summary sum = Explorer.explore(s, new Explorer.Settings(t.count(), t.from(), 1, 0, true, t.strategy(), t.pctDepth(), recordDir), null);
        Map<String, Explorer.Failure> f = new LinkedHashMap<>();
        for (Explorer.Failure x : sum.failures()) f.put(x.signature(), x);
        return new TaskResult(t.index(), sum.runs(), sum.verdicts(), f);
    }

    /** The local executor: the tasks on {@code jobs} threads, results merged in task order. */
    public static TaskResult runLocally(List<Task> tasks, int jobs, Path recordDir) throws ScenarioException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, jobs));
        try {
            List<Future<TaskResult>> futures = new ArrayList<>();
            for (Task t : tasks) futures.add(pool.submit(() -> run(t, recordDir)));
            List<TaskResult> results = new ArrayList<>();
            for (Future<TaskResult> f : futures) {
                try {
                    results.add(f.get());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof ScenarioException se) throw se;
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ScenarioException("campaign interrupted");
                }
            }
            return merge(results);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Merges task results: runs and verdicts add up; for each signature the lowest seed wins and the runs add up. */
    public static TaskResult merge(List<TaskResult> results) {
        long runs = 0;
        Map<String, Long> verdicts = new TreeMap<>();
        Map<String, Explorer.Failure> failures = new LinkedHashMap<>();
        for (TaskResult r : results) {
            runs += r.runs();
            r.verdicts().forEach((k, n) -> verdicts.merge(k, n, Long::sum));
            for (Explorer.Failure f : r.failures().values()) {
                failures.merge(f.signature(), f, (a, b) -> a.seed() <= b.seed() ? a.plusRuns(b.runs()) : b.plusRuns(a.runs()));
            }
        }
        return new TaskResult(-1, runs, verdicts, failures);
    }

    /** Writes each task as a YAML file a cluster engine can hand to {@code hvlab campaign --run-task FILE}. */
    public static List<Path> writeTasks(List<Task> tasks, Path dir) throws IOException {
        Files.createDirectories(dir);
        DumperOptions d = new DumperOptions();
        d.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        List<Path> out = new ArrayList<>();
        for (Task t : tasks) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("hvlab-task", 1);
            m.put("index", t.index());
            m.put("from", t.from());
            m.put("count", t.count());
            m.put("strategy", t.strategy());
            m.put("pct-depth", t.pctDepth());
            m.put("scenario-path", t.scenarioPath());
            m.put("scenario", t.scenarioSource());
            Path p = dir.resolve(String.format("task-%05d.yaml", t.index()));
            Files.writeString(p, new Yaml(d).dump(m));
            out.add(p);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    public static Task readTask(Path file) throws ScenarioException {
        try {
            Object o = new Yaml().load(Files.readString(file));
            if (!(o instanceof Map<?, ?> m) || !Integer.valueOf(1).equals(m.get("hvlab-task"))) throw new ScenarioException(file + ": not an hvlab campaign task");
            return new Task(((Number) m.get("index")).intValue(), (String) m.get("scenario-path"), (String) m.get("scenario"),
                    ((Number) m.get("from")).longValue(), ((Number) m.get("count")).intValue(), (String) m.get("strategy"),
                    ((Number) m.get("pct-depth")).intValue());
        } catch (IOException e) {
            throw new ScenarioException(file + ": cannot read: " + e.getMessage());
        } catch (ClassCastException | NullPointerException | org.yaml.snakeyaml.error.YAMLException e) {
            throw new ScenarioException(file + ": a field of the task is missing or malformed");
        }
    }
}
