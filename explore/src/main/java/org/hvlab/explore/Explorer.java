package org.hvlab.explore;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code hvlab explore}: runs a scenario with seeds {@code seed, seed+1, ...} on local worker
 * threads (each run its own machine), judges each with the oracles, and keeps one run record
 * per distinct failure signature. Stops at the first failure, or keeps collecting distinct
 * signatures, within a run count and a wall-time budget. Results do not depend on the number
 * of workers: run i always uses seed + i.
 */
public final class Explorer {
    /** @param keepGoing collect every distinct signature instead of stopping at the first failure */
    public record Settings(int runs, long seed, int jobs, double timeBudgetSeconds, boolean keepGoing, String strategy, int pctDepth, Path recordDir) {}

    /** A distinct failure: its signature, the first run that showed it, its record file, and how many runs showed it. */
    public record Failure(String signature, String kind, long seed, String message, Path record, long runs) {
        public Failure(String signature, String kind, long seed, String message, Path record) {
            this(signature, kind, seed, message, record, 1);
        }

        Failure plusRuns(long n) {
            return new Failure(signature, kind, seed, message, record, runs + n);
        }
    }

    public record Summary(long runs, double seconds, Map<String, Long> verdicts, List<Failure> failures) {
        public boolean failed() {
            return !failures.isEmpty();
        }
    }

    private Explorer() {}

    /** The largest PCT depth (change points) worth asking for; more is bad input. */
    public static final int MAX_PCT_DEPTH = 1000;
    /** The largest time budget in seconds (about 11.5 days; its nanoseconds fit comfortably in a long). */
    public static final double MAX_TIME_BUDGET = 1_000_000;

    public static Summary explore(Scenario s, Settings st, PrintStream progress) throws ScenarioException {
        long start = System.nanoTime();
        AtomicLong nextRun = new AtomicLong();
        AtomicLong done = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        Map<String, Long> verdicts = new TreeMap<>();
        Map<String, Failure> failures = new LinkedHashMap<>();
        ScenarioException[] bad = new ScenarioException[1];
        Throwable[] crash = new Throwable[1];
        long deadline = st.timeBudgetSeconds() <= 0 ? Long.MAX_VALUE : start + (long) (st.timeBudgetSeconds() * 1e9);
        ScenarioRun.image(s); // a bad image is one clear error before any worker starts
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < Math.max(1, st.jobs()); w++) {
            Thread t = new Thread(() -> {
                while (!stop.get() && System.nanoTime() < deadline) {
                    long i = nextRun.getAndIncrement();
                    if (i >= st.runs()) return;
                    long seed = st.seed() + i;
                    try {
                        ScenarioRun.Result o = Strategies.run(s, seed, st.strategy(), st.pctDepth());
                        Verdict v = o.verdict();
                        synchronized (verdicts) {
                            verdicts.merge(v.kind(), 1L, Long::sum);
                            Failure known = v.failed() ? failures.get(v.signature()) : null;
                            if (v.failed() && (known == null || seed < known.seed())) {
                                // whichever worker finishes first, the lowest failing seed of a signature is the one kept
                                long runs = known == null ? 1 : known.runs() + 1;
                                Path record = save(st.recordDir(), s, o, known == null ? null : known.record());
                                failures.put(v.signature(), new Failure(v.signature(), v.kind(), seed, v.message(), record, runs));
                            } else if (v.failed()) {
                                failures.put(v.signature(), known.plusRuns(1));
                            }
                        }
                        if (v.failed() && !st.keepGoing()) stop.set(true);
                    } catch (ScenarioException e) {
                        bad[0] = e;
                        stop.set(true);
                    } catch (IOException e) {
                        crash[0] = e;
                        stop.set(true);
                    } catch (RuntimeException | Error e) {
                        // a bug in hvlab (or the JVM out of memory): never "no failure" - a failure of its own
                        String sig = "simulator-error: explore worker " + e.getClass().getSimpleName();
                        synchronized (verdicts) {
                            verdicts.merge("simulator-error", 1L, Long::sum);
                            Failure known = failures.get(sig);
                            if (known == null || seed < known.seed()) {
                                failures.put(sig, new Failure(sig, "simulator-error", seed, "explore worker failed on seed " + seed + ": " + e, null,
                                        known == null ? 1 : known.runs() + 1));
                            } else {
                                failures.put(sig, known.plusRuns(1));
                            }
                        }
                        stop.set(true);
                    }
                    done.incrementAndGet();
                }
            }, "explore-" + w);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
        try {
            while (workers.stream().anyMatch(Thread::isAlive)) {
                for (Thread t : workers) t.join(250);
                if (progress != null) progress.print("\r" + line(s, st, done.get(), start, verdicts));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop.set(true);
        }
        if (progress != null) progress.println("\r" + line(s, st, done.get(), start, verdicts));
        if (bad[0] != null) throw bad[0];
        if (crash[0] != null) throw new ScenarioException("cannot write a run record: " + crash[0].getMessage());
        Map<String, Long> v;
        synchronized (verdicts) {
            v = new TreeMap<>(verdicts);
        }
        List<Failure> found = new ArrayList<>(failures.values());
        found.sort(java.util.Comparator.comparingLong(Failure::seed));
        if (!st.keepGoing() && found.size() > 1) {
            // stopping at the first failure: every seed below a failing one was run (seeds are taken in
            // order and runs in progress finish), so the lowest failing seed does not depend on timing;
            // failures that other workers found at higher seeds do, and are not reported
            for (Failure f : found.subList(1, found.size())) {
                try {
                    if (f.record() != null && !f.record().equals(found.get(0).record())) Files.deleteIfExists(f.record());
                } catch (IOException e) {
                    throw new ScenarioException("cannot remove run record " + f.record() + ": " + e.getMessage());
                }
            }
            found = List.of(found.get(0));
        }
        return new Summary(done.get(), (System.nanoTime() - start) / 1e9, v, List.copyOf(found));
    }

    private static String line(Scenario s, Settings st, long done, long start, Map<String, Long> verdicts) {
        double secs = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s: %d/%d runs, %.1f runs/s", s.name(), done, st.runs(), done / secs));
        synchronized (verdicts) {
            verdicts.forEach((k, n) -> sb.append(", ").append(k).append(' ').append(n));
        }
        return sb.toString();
    }

    /**
     * Writes the run's record into {@code dir}: over {@code mine} when this exploration already
     * wrote one for the signature (a lower seed replaces it), else under a new name, claimed
     * atomically, so records of earlier or concurrent explorations are never overwritten.
     */
    private static Path save(Path dir, Scenario s, ScenarioRun.Result o, Path mine) throws IOException {
        if (dir == null) return null;
        Files.createDirectories(dir);
        Path p = mine;
        if (p == null) {
            String id = Integer.toHexString(o.verdict().signature().hashCode() & 0x7FFFFFFF);
            String base = fileNamePart(s.name()) + "-" + fileNamePart(o.verdict().kind()) + "-" + id;
            for (int n = 1; p == null; n++) {
                Path candidate = dir.resolve(base + (n == 1 ? "" : "-" + n) + ".yaml");
                try {
                    p = Files.createFile(candidate);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // taken by an earlier run or another exploration: try the next name
                }
            }
        }
        RunRecord.of(o).write(p);
        return p;
    }

    /** A scenario name as part of a file name: letters, digits, '.', '_' and '-' only, never a path ("../x" stays in the folder). */
    static String fileNamePart(String name) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < name.length() && sb.length() < 100; i++) {
            char ch = name.charAt(i);
            sb.append(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-' || ch == '.' && i > 0 ? ch : '_');
        }
        return sb.isEmpty() ? "scenario" : sb.toString();
    }
}
