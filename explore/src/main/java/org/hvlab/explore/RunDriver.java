package org.hvlab.explore;

import java.util.List;
import org.hvlab.machine.Machine;
import org.hvlab.machine.events.MachineEvent;
import org.hvlab.machine.boot.Symbols;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.sched.Coroutine;
import org.hvlab.machine.sched.Scheduler;

/**
 * The scheduler's target for an exploration run: the machine, plus the injection plan applied
 * at exact steps (quanta are cut so a boundary falls on every injection step) and the
 * stuck-guest oracle: no progress (serial output, exit) for {@code stuckSteps} after the last
 * injection, or a CPU spinning on an IRETQ whose frame returns to that same IRETQ (seed 000).
 * A run judged "no progress" is named more closely when one of its CPUs keeps arriving at the
 * same IRETQ with the same frame and no NMI in between: a loop through that IRETQ.
 */
final class RunDriver implements Scheduler.Target {
    private final Machine m;
    private final NmiRecords records;
    private final Scheduler.Target inner;
    private final List<InjectionPlan.Nmi> nmis;
    private final long stuckSteps;
    private final boolean stuckOracle;
    private final Symbols symbols;
    private int next;
    private int lastSerial = -1;
    private long lastProgressStep;
    private final int[] iretqSightings;
    private final long[] lastRip, lastInstructions;
    private final long[] iretqInstr;
    /** After the plan: the last IRETQ a CPU stood at (rip, rsp, frame rip, frame rsp), how often, and its NMI arrivals then. */
    private final long[][] loopKey;
    private final int[] loopSightings;
    private final long[] loopNmis;
    /** NMIs injected so far, per CPU (-1 entries counted on every CPU). */
    final long[] injected;

    RunDriver(Machine m, NmiRecords records, Scheduler.Target inner, InjectionPlan plan, long stuckSteps, boolean stuckOracle) {
        this.m = m;
        this.records = records;
        this.inner = inner;
        this.nmis = plan.nmis();
        this.stuckSteps = stuckSteps;
        this.stuckOracle = stuckOracle;
        this.symbols = m.symbols();
        this.iretqSightings = new int[m.cpuCount()];
        this.iretqInstr = new long[m.cpuCount()];
        this.lastRip = new long[m.cpuCount()];
        this.lastInstructions = new long[m.cpuCount()];
        this.injected = new long[m.cpuCount()];
        this.loopKey = new long[m.cpuCount()][4];
        this.loopSightings = new int[m.cpuCount()];
        this.loopNmis = new long[m.cpuCount()];
    }

    @Override
    public void atBoundary() {
        long steps = m.steps();
        while (next < nmis.size() && nmis.get(next).step() <= steps) {
            int cpu = nmis.get(next++).cpu();
            // like QMP inject-nmi: the NMI pin of one CPU, or of every CPU
            for (int i = 0; i < m.cpuCount(); i++) {
                if (cpu == -1 || cpu == i) {
                    if (m.events().wants(MachineEvent.Kind.MARK)) m.events().publish(new MachineEvent.Mark(i, "injection", "plan: NMI", "step " + steps));
                    m.cpu(i).raiseNmi();
                    injected[i]++;
                }
            }
        }
        if (stuckOracle) checkStuck(steps);
    }

    private void checkStuck(long steps) {
        int w = m.serial().written();
        if (w != lastSerial) {
            lastSerial = w;
            lastProgressStep = steps;
        }
        for (int i = 0; i < m.cpuCount(); i++) {
            Cpu c = m.cpu(i);
            // cheap first: the CPU ran and yet stands at the same RIP as at the last boundary
            boolean sameRip = c.rip == lastRip[i] && c.instructions > lastInstructions[i];
            lastRip[i] = c.rip;
            lastInstructions[i] = c.instructions;
            if (sameRip && c.activity == Cpu.ACTIVE && NmiChains.onSelfIretq(c)) {
                if (iretqSightings[i] == 0) iretqInstr[i] = c.instructions;
                // the same IRETQ, frame pointing at itself, over and over: the guest cannot leave
                if (++iretqSightings[i] >= 4 && c.instructions - iretqInstr[i] >= 1000) {
                    long rsp = c.r[Cpu.RSP];
                    m.finishDriven(new GuestStuck.IretqToItself(i, c.rip, symbols.lookup(c.rip),
                            new GuestStuck.IretFrame(c.readLinQuietly(rsp), c.readLinQuietly(rsp + 8), c.readLinQuietly(rsp + 16),
                                    c.readLinQuietly(rsp + 24), c.readLinQuietly(rsp + 32)),
                            NmiChains.selfFrameCause(c, records.chain(i), symbols)));
                    return;
                }
            } else {
                iretqSightings[i] = 0;
            }
            if (next >= nmis.size() && c.activity == Cpu.ACTIVE) watchIretqLoop(i, c);
        }
        long quietFrom = Math.max(lastProgressStep, nmis.isEmpty() ? 0 : nmis.get(nmis.size() - 1).step());
        if (steps - quietFrom > stuckSteps) {
            List<GuestStuck.CpuPlace> places = new java.util.ArrayList<>();
            for (int i = 0; i < m.cpuCount(); i++) places.add(new GuestStuck.CpuPlace(i, m.cpu(i).rip, symbols.lookup(m.cpu(i).rip)));
            m.finishDriven(new GuestStuck.NoProgress(steps - quietFrom, !nmis.isEmpty(), places, iretqLoop()));
        }
    }

    /** Counts arrivals at the same IRETQ with the same frame and no NMI in between (after the plan). */
    private void watchIretqLoop(int i, Cpu c) {
        if (!NmiChains.onIretq(c)) return;
        long rsp = c.r[Cpu.RSP], nmisNow = records.ledger(i).arrivedGuest + records.ledger(i).arrivedHost;
        long[] key = {c.rip, rsp, c.readLinQuietly(rsp), c.readLinQuietly(rsp + 24)};
        if (java.util.Arrays.equals(key, loopKey[i]) && nmisNow == loopNmis[i]) {
            loopSightings[i]++;
        } else {
            loopKey[i] = key;
            loopSightings[i] = 1;
            loopNmis[i] = nmisNow;
        }
    }

    /** The IRETQ loop of the first CPU seen at the same IRETQ state three times, or null. */
    private GuestStuck.IretqLoop iretqLoop() {
        for (int i = 0; i < m.cpuCount(); i++) {
            if (loopSightings[i] < 3) continue;
            long[] k = loopKey[i];
            return new GuestStuck.IretqLoop(i, k[0], symbols.lookup(k[0]), k[1], k[2], symbols.lookup(k[2]), k[3], loopSightings[i],
                    NmiChains.loopFrameCause(m.cpu(i), records.chain(i), symbols, k[1], k[2]));
        }
        return null;
    }

    @Override
    public void grant(int cpu, long quantum) {
        // end the quantum at the next injection step, so the NMI lands exactly there
        if (next < nmis.size()) {
            long until = nmis.get(next).step() - m.steps();
            if (until >= 1 && until < quantum) quantum = until;
        }
        inner.grant(cpu, quantum);
    }

    @Override public int cpuCount() { return inner.cpuCount(); }
    @Override public boolean runnable(int cpu) { return inner.runnable(cpu); }
    @Override public Coroutine coroutine(int cpu) { return inner.coroutine(cpu); }
    @Override public long steps() { return inner.steps(); }
    @Override public boolean finished() { return inner.finished(); }
    @Override public void noRunnableCpu() { inner.noRunnableCpu(); }
    @Override public void stepLimit() { inner.stepLimit(); }
}
