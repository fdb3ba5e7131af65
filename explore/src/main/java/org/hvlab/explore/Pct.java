package org.hvlab.explore;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.hvlab.machine.sched.ChoiceSource;

/**
 * PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010), over CPUs: each CPU
 * gets a random distinct priority; the highest-priority runnable CPU runs; at {@code depth - 1}
 * change points, chosen at random among the first {@code horizon} steps, the running CPU drops
 * below every other. A bug that needs d ordering constraints is found with probability at least
 * 1/(n k^(d-1)) per run. Quanta are cut at change points and bounded by {@code maxQuantum}; a
 * CPU spinning on PAUSE ends its quantum early and is picked again while it has the highest
 * priority, so every {@code maxQuantum}-sized slice the running CPU yields one slice to a random
 * other CPU, which keeps spin-waits on lower-priority CPUs from livelocking the run.
 */
final class Pct implements ChoiceSource {
    private final SplittableRandom rnd;
    private final long seed;
    private final int depth, maxQuantum;
    private final int[] priority;
    private final long[] changePoints;
    private int nextChange;
    private long steps;
    private int lowest;
    private int current = -1;
    private int pending;
    private int slices;

    Pct(long seed, int cpus, int depth, int maxQuantum, long horizon) {
        if (depth < 1) throw new IllegalArgumentException("PCT depth must be at least 1");
        this.rnd = new SplittableRandom(seed);
        this.seed = seed;
        this.depth = depth;
        this.maxQuantum = maxQuantum;
        priority = new int[cpus];
        int[] perm = new int[cpus];
        for (int i = 0; i < cpus; i++) perm[i] = i;
        for (int i = cpus - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int i = 0; i < cpus; i++) priority[perm[i]] = depth + i; // depth.. above every demoted priority
        changePoints = new long[depth - 1];
        for (int i = 0; i < changePoints.length; i++) changePoints[i] = 1 + rnd.nextLong(Math.max(1, horizon));
        Arrays.sort(changePoints);
        lowest = depth - 1;
    }

    @Override
    public int pickCpu(int[] runnable, int count) {
        while (nextChange < changePoints.length && steps >= changePoints[nextChange]) {
            if (current >= 0) priority[current] = lowest--; // demote the CPU that ran into the change point
            nextChange++;
        }
        int best = runnable[0];
        for (int i = 1; i < count; i++) if (priority[runnable[i]] > priority[best]) best = runnable[i];
        // one slice in eight goes to another runnable CPU, at random: spin-waits make progress
        if (count > 1 && ++slices % 8 == 0) {
            int other = runnable[rnd.nextInt(count)];
            if (other != best) best = other;
        }
        current = best;
        long q = maxQuantum;
        if (nextChange < changePoints.length) q = Math.min(q, Math.max(1, changePoints[nextChange] - steps));
        pending = (int) q;
        return best;
    }

    @Override
    public int quantum() {
        steps += pending;
        return pending;
    }

    /** The change points, in steps (tests). */
    long[] changePoints() {
        return changePoints.clone();
    }

    @Override
    public String describe() {
        return "pct(seed=" + seed + ", depth=" + depth + ", maxQuantum=" + maxQuantum + ")";
    }
}
