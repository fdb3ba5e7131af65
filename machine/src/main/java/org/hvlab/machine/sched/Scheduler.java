package org.hvlab.machine.sched;

/**
 * The one scheduler: repeatedly asks its {@link ChoiceSource} which runnable CPU runs next and
 * for how long, records the choice, and resumes that CPU's coroutine for the quantum.
 */
public final class Scheduler {
    /** What the scheduler drives: one coroutine per CPU plus the machine's view of progress. */
    public interface Target {
        int cpuCount();

        boolean runnable(int cpu);

        /** Grants a quantum to the CPU; its coroutine runs it when resumed. */
        void grant(int cpu, long quantum);

        Coroutine coroutine(int cpu);

        /** Total steps so far (retired instructions plus host operations). */
        long steps();

        /** True once the run has a verdict. */
        boolean finished();

        /** No CPU can make progress. */
        void noRunnableCpu();

        /** The step limit was reached. */
        void stepLimit();

        /**
         * Called at every scheduling boundary, before the step-limit check: where a driver
         * injects events due at this step (an NMI injection plan) between two quanta.
         */
        default void atBoundary() {}

        /**
         * A CPU whose quantum run control cut short (a breakpoint, a pause at a step, an event
         * applied at a step) continues it before any new choice, so the cut leaves no trace in
         * the schedule: its index, or -1. {@link #continuingQuantum} is what is left of it.
         */
        default int continuing() { return -1; }

        default long continuingQuantum() { return 0; }
    }

    private final ChoiceSource source;
    private final ChoiceRecord record = new ChoiceRecord();
    private long switches;

    public Scheduler(ChoiceSource source) {
        this.source = source;
    }

    public ChoiceRecord record() { return record; }
    public ChoiceSource source() { return source; }
    public long switches() { return switches; }

    public void run(Target t, long maxSteps) {
        int n = t.cpuCount();
        int[] runnable = new int[n];
        while (!t.finished()) {
            t.atBoundary();
            if (t.finished()) return;
            long steps = t.steps();
            if (steps >= maxSteps) {
                t.stepLimit();
                return;
            }
            int cont = t.continuing();
            if (cont >= 0) {
                t.grant(cont, Math.min(t.continuingQuantum(), maxSteps - steps));
                switches++;
                t.coroutine(cont).resume();
                continue;
            }
            int count = 0;
            for (int i = 0; i < n; i++) if (t.runnable(i)) runnable[count++] = i;
            if (count == 0) {
                t.noRunnableCpu();
                return;
            }
            int cpu = source.pickCpu(runnable, count);
            int q = source.quantum();
            record.add(cpu, q);
            t.grant(cpu, Math.min(q, maxSteps - steps));
            switches++;
            t.coroutine(cpu).resume();
        }
    }
}
