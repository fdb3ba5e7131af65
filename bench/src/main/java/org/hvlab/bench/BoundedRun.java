package org.hvlab.bench;

import org.hvlab.machine.Machine;
import org.hvlab.machine.sched.Coroutine;
import org.hvlab.machine.sched.Scheduler;

/**
 * The {@link Machine} as a {@link Scheduler.Target}, except that reaching the step limit only
 * ends this call of {@link Scheduler#run} instead of giving the machine its final verdict, so a
 * benchmark can run the same machine for one slice of instructions per invocation. CPUs,
 * grants and coroutines are the machine's own.
 */
final class BoundedRun implements Scheduler.Target {
    private final Machine m;
    private boolean limit;

    BoundedRun(Machine m) {
        this.m = m;
    }

    /** Runs the machine for {@code instructions} more retired instructions (over all CPUs). */
    void run(Scheduler s, long instructions) {
        limit = false;
        s.run(this, m.steps() + instructions);
    }

    @Override public int cpuCount() { return m.cpuCount(); }
    @Override public boolean runnable(int cpu) { return m.runnable(cpu); }
    @Override public void grant(int cpu, long quantum) { m.grant(cpu, quantum); }
    @Override public Coroutine coroutine(int cpu) { return m.coroutine(cpu); }
    @Override public long steps() { return m.steps(); }
    @Override public boolean finished() { return limit || m.finished(); }
    @Override public void stepLimit() { limit = true; }

    @Override
    public void noRunnableCpu() {
        throw new IllegalStateException("no runnable CPU in a benchmark loop");
    }
}
