package org.hvlab.explore;

import org.hvlab.machine.Machine;
import org.hvlab.machine.RunEnding;
import org.hvlab.machine.RunResult;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.host.HostSoftware;

/**
 * Judges a run (issue 5 "Oracles"): its ending as the machine and the stuck-guest oracle gave
 * it — deadlock, hypervisor halt, unhandled exception intercept, isolation breach, stuck guest,
 * guest exit status, step limit, shutdown, simulator error — becomes a {@link Verdict} that
 * carries it; a run that ended in a way whose oracle the scenario did not name still fails,
 * under its kind, so nothing abnormal passes silently. The NMI-accounting oracle then checks a
 * run that passed.
 */
public final class Oracles {
    private Oracles() {}

    public static Verdict judge(RunResult r, String guestSerial) {
        RunEnding e = r.ending();
        if (e instanceof RunEnding.GuestExit x && x.status() == 0) return new Verdict.Pass(e);
        return new Verdict.Ended(e, lastLine(guestSerial));
    }

    /**
     * The NMI-accounting oracle, for a run that otherwise passed: on every CPU each NMI sent to
     * the guest (injected or a guest IPI) was delivered through the guest's IDT, merged by the
     * architectural rule (in the CPU's latch, or declared by the hypervisor while its guest was
     * NMI-blocked with one held), discarded by an INIT or before the guest ran, or is still held
     * when the run ended — by the hypervisor's word, or in flight: taken by an NMI exit (or by
     * host code) on a CPU that has not re-entered its guest since, so the hypervisor may not have
     * recorded it yet (docs/nmi-accounting.md). A shortfall is a lost NMI; a surplus is an NMI the
     * guest got that nobody sent it (a hypervisor's own NMI passed on). Null when every CPU balances.
     */
    public static Verdict nmiAccounting(Machine m, NmiRecords nmis) {
        HostSoftware host = m.hostSoftware();
        for (int i = 0; i < m.cpuCount(); i++) {
            Cpu c = m.cpu(i);
            NmiLedger.Counts l = nmis.ledger(i).counts();
            long inFlight = nmis.ledger(i).inFlight;
            long held = (c.nmiPending ? 1 : 0) + (host == null ? 0 : host.guestNmisHeld(i)) + inFlight;
            long accounted = l.delivered() + l.mergedInLatch() + l.clearedByInit() + l.hypervisorMerged() + l.hypervisorDiscarded();
            long lost = l.arrivedGuest() - accounted - held;
            if (lost > 0) return new Verdict.NmiLost(i, lost, l, held);
            if (l.delivered() > l.arrivedGuest()) return new Verdict.NmiSpurious(i, l.delivered() - l.arrivedGuest(), l);
        }
        return null;
    }

    static String lastLine(String serial) {
        String s = serial.strip();
        int i = s.lastIndexOf('\n');
        return i < 0 ? s : s.substring(i + 1);
    }
}
