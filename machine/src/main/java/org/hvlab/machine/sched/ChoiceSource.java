package org.hvlab.machine.sched;

/**
 * Decides which runnable CPU runs next and for how many instructions. Every decision is
 * recorded by the {@link Scheduler}, so (image, options, seed) reproduces a run.
 */
public interface ChoiceSource {
    /**
     * @param runnable indices of the CPUs that can make progress, ascending
     * @param count how many entries of {@code runnable} are valid (at least 1)
     * @return the chosen CPU index, one of {@code runnable}; {@link #quantum()} follows
     */
    int pickCpu(int[] runnable, int count);

    /** The quantum for the CPU just picked, in instructions (at least 1). */
    int quantum();

    /** A short description for summaries, e.g. "random(seed=7, maxQuantum=2000)". */
    String describe();
}
