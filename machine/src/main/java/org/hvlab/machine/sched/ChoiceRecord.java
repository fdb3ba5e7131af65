package org.hvlab.machine.sched;

import java.util.Arrays;

/** The scheduler's decisions in order: (CPU, quantum) pairs. Replaying them reproduces a run. */
public final class ChoiceRecord {
    private int[] cpus = new int[256];
    private int[] quanta = new int[256];
    private int size;

    public void add(int cpu, int quantum) {
        if (size == cpus.length) {
            cpus = Arrays.copyOf(cpus, size * 2);
            quanta = Arrays.copyOf(quanta, size * 2);
        }
        cpus[size] = cpu;
        quanta[size] = quantum;
        size++;
    }

    public int size() { return size; }
    public int cpu(int i) { return cpus[i]; }
    public int quantum(int i) { return quanta[i]; }

    /** A choice source that repeats this record; past its end it falls back to {@code then}. */
    public ChoiceSource replay(ChoiceSource then) {
        return new ChoiceSource() {
            private int next;
            private boolean fallback;

            @Override
            public int pickCpu(int[] runnable, int count) {
                if (next < size) {
                    int want = cpus[next];
                    for (int i = 0; i < count; i++) if (runnable[i] == want) return want;
                }
                fallback = true;
                next = Integer.MAX_VALUE;
                return then.pickCpu(runnable, count);
            }

            @Override
            public int quantum() {
                return fallback ? then.quantum() : quanta[next++];
            }

            @Override
            public String describe() {
                return "replay(" + size + " choices, then " + then.describe() + ")";
            }
        };
    }
}
