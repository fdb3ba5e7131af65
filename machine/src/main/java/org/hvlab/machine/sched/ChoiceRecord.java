package org.hvlab.machine.sched;

import java.util.Arrays;

/**
 * The scheduler's decisions in order: (CPU, quantum) pairs, packed into one int each (CPU in the
 * top 8 bits, quantum below; longer quanta are split into several entries for the same CPU,
 * which replays identically). Bounded: past {@link #LIMIT} entries the record is marked
 * truncated rather than exhausting the heap; a truncated record cannot be replayed, but the run
 * stays reproducible from its seed.
 */
public final class ChoiceRecord {
    /** 16 M entries, 64 MiB. */
    public static final int LIMIT = 1 << 24;
    static final int MAX_QUANTUM = (1 << 24) - 1;

    private int[] entries = new int[256];
    private int size;
    private boolean truncated;

    public void add(int cpu, int quantum) {
        if (cpu < 0 || cpu > 255 || quantum < 1) throw new IllegalArgumentException("choice (" + cpu + ", " + quantum + ")");
        while (quantum > 0) {
            int q = Math.min(quantum, MAX_QUANTUM);
            if (size == LIMIT) {
                truncated = true;
                return;
            }
            if (size == entries.length) entries = Arrays.copyOf(entries, Math.min(LIMIT, size * 2));
            entries[size++] = (cpu << 24) | q;
            quantum -= q;
        }
    }

    /**
     * The last choice's CPU ran only {@code quantum} steps of it (run control stopped it at a
     * breakpoint): the entry says so, or goes if the CPU did not run at all.
     */
    public void amendLast(int quantum) {
        if (size == 0 || truncated) return;
        if (quantum <= 0) size--;
        else entries[size - 1] = (entries[size - 1] & ~MAX_QUANTUM) | Math.min(quantum, MAX_QUANTUM);
    }

    public int size() { return size; }
    public int cpu(int i) { return entries[i] >>> 24; }
    public int quantum(int i) { return entries[i] & MAX_QUANTUM; }
    public boolean truncated() { return truncated; }

    /** A choice source that repeats this record; past its end it falls back to {@code then}. */
    public ChoiceSource replay(ChoiceSource then) {
        if (truncated) throw new IllegalStateException("the choice record was truncated at " + LIMIT + " entries; replay from the seed instead");
        return new ChoiceSource() {
            private int next;
            private boolean fallback;

            @Override
            public int pickCpu(int[] runnable, int count) {
                if (next < size) {
                    int want = cpu(next);
                    for (int i = 0; i < count; i++) if (runnable[i] == want) return want;
                }
                fallback = true;
                next = Integer.MAX_VALUE;
                return then.pickCpu(runnable, count);
            }

            @Override
            public int quantum() {
                return fallback ? then.quantum() : ChoiceRecord.this.quantum(next++);
            }

            @Override
            public String describe() {
                return "replay(" + size + " choices, then " + then.describe() + ")";
            }
        };
    }
}
