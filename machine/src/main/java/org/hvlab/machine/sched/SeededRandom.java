package org.hvlab.machine.sched;

import java.util.SplittableRandom;

/** A uniformly random runnable CPU and a uniformly random quantum in [1, maxQuantum], from a seed. */
public final class SeededRandom implements ChoiceSource {
    private final SplittableRandom rnd;
    private final long seed;
    private final int maxQuantum;

    public SeededRandom(long seed, int maxQuantum) {
        if (maxQuantum < 1) throw new IllegalArgumentException("maxQuantum must be at least 1");
        this.rnd = new SplittableRandom(seed);
        this.seed = seed;
        this.maxQuantum = maxQuantum;
    }

    @Override
    public int pickCpu(int[] runnable, int count) {
        return runnable[count == 1 ? 0 : rnd.nextInt(count)];
    }

    @Override
    public int quantum() {
        return 1 + rnd.nextInt(maxQuantum);
    }

    @Override
    public String describe() {
        return "random(seed=" + seed + ", maxQuantum=" + maxQuantum + ")";
    }
}
