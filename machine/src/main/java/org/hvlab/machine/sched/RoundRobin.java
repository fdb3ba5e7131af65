package org.hvlab.machine.sched;

/** Runnable CPUs in turn, a fixed quantum each. */
public final class RoundRobin implements ChoiceSource {
    private final int quantum;
    private int last = -1;

    public RoundRobin(int quantum) {
        if (quantum < 1) throw new IllegalArgumentException("quantum must be at least 1");
        this.quantum = quantum;
    }

    @Override
    public int pickCpu(int[] runnable, int count) {
        for (int i = 0; i < count; i++) {
            if (runnable[i] > last) return last = runnable[i];
        }
        return last = runnable[0];
    }

    @Override
    public int quantum() {
        return quantum;
    }

    @Override
    public String describe() {
        return "round-robin(quantum=" + quantum + ")";
    }
}
