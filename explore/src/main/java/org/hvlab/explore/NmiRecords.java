package org.hvlab.explore;

import org.hvlab.machine.Machine;
import org.hvlab.machine.events.MachineEvent;
import org.hvlab.machine.events.MachineEvent.Kind;

/**
 * The NMI accounting ({@link NmiLedger}) and the NMI delivery chains ({@link NmiChain}) of one
 * run, per CPU: subscribers of the machine's event stream, attached before the run starts.
 */
public final class NmiRecords {
    private final NmiLedger[] ledgers;
    private final NmiChain[] chains;

    private NmiRecords(int cpus) {
        ledgers = new NmiLedger[cpus];
        chains = new NmiChain[cpus];
        for (int i = 0; i < cpus; i++) {
            ledgers[i] = new NmiLedger();
            chains[i] = new NmiChain();
        }
    }

    /** Subscribes to {@code m}'s NMI events (call before the run). */
    public static NmiRecords attach(Machine m) {
        NmiRecords r = new NmiRecords(m.cpuCount());
        m.events().subscribe(e -> {
            r.ledgers[e.cpu()].on(e);
            r.chains[e.cpu()].on(e, m.events().now());
        }, Kind.NMI_RAISED, Kind.NMI_DELIVERED, Kind.IRET, Kind.INIT_RESET, Kind.VM_EXIT, Kind.VM_ENTRY, Kind.HOST_NMI_TAKEN,
                Kind.HYPERVISOR_NMI);
        return r;
    }

    /** Where CPU {@code cpu}'s NMIs went. */
    public NmiLedger ledger(int cpu) {
        return ledgers[cpu];
    }

    /** CPU {@code cpu}'s last NMI deliveries through its IDT. */
    public NmiChain chain(int cpu) {
        return chains[cpu];
    }
}
