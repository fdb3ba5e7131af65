package org.hvlab.explore;

import org.hvlab.machine.events.MachineEvent;

/**
 * Where every NMI that reached one CPU went, for the NMI-accounting oracle (issue 5): counted
 * from the machine's event stream at the NMI pin, the latch, the IDT and the VMX transitions,
 * plus what a Java hypervisor declares it merged or discarded for its guest. The architecture keeps at most one
 * NMI latched while NMIs are blocked (SDM Vol.3A 6.7.1) and discards the rest; a hypervisor
 * that virtualizes NMIs may do the same for its guest, and nothing else.
 */
public final class NmiLedger {
    /** NMIs from outside the host software: injected like QMP inject-nmi, or IPIs sent by guest code. */
    public long arrivedGuest;
    /** NMI IPIs the Java host software sent itself (XMHF's quiesce). */
    public long arrivedHost;
    /** Arrivals while one NMI was already latched: merged with it (SDM Vol.3A 6.7.1). */
    public long mergedInLatch;
    /** Latched NMIs that an INIT's reset discarded. */
    public long clearedByInit;
    /** NMIs delivered through this CPU's IDT: on the bare machine, or injected into / taken by a guest in VMX non-root. */
    public long delivered;
    /** NMIs that caused a VM exit (NMI exiting). */
    public long nmiExits;
    /** NMIs the Java host software took at a yield point. */
    public long hostTaken;
    /** Guest NMIs a hypervisor merged by the architectural rule (one held while its guest is NMI-blocked). */
    public long hypervisorMerged;
    /** Guest NMIs a hypervisor discarded because no guest runs on this CPU yet. */
    public long hypervisorDiscarded;
    /**
     * A guest NMI the hypervisor has taken (an NMI exit, or an NMI its host code took) and the
     * CPU has not re-entered its guest since: 0 or 1. Until that entry the hypervisor may not yet
     * have recorded it anywhere, so a run that ends then must not call it lost (docs/nmi-accounting.md).
     */
    public long inFlight;
    /** Whether the NMI latched at this CPU's pin now came from outside the host software. */
    private boolean latchedFromGuest;

    /** Counts one event of this ledger's CPU. */
    void on(MachineEvent e) {
        switch (e) {
            case MachineEvent.NmiRaised r -> {
                if (r.fromHost()) arrivedHost++;
                else arrivedGuest++;
                if (r.merged()) mergedInLatch++;
                else latchedFromGuest = !r.fromHost();
            }
            case MachineEvent.InitReset i -> {
                if (i.nmiWasLatched()) clearedByInit++;
            }
            case MachineEvent.NmiDelivered d -> delivered++;
            case MachineEvent.VmExited x -> {
                if (x.nmi()) {
                    nmiExits++;
                    inFlight = latchedFromGuest ? 1 : 0;
                }
            }
            case MachineEvent.VmEntered v -> inFlight = 0;
            case MachineEvent.HostNmiTaken h -> {
                hostTaken++;
                if (latchedFromGuest) inFlight = 1;
            }
            case MachineEvent.HypervisorNmi h -> {
                if (h.merged()) hypervisorMerged++;
                else hypervisorDiscarded++;
            }
            default -> { }
        }
    }

    /** The counts now, as a value. */
    public Counts counts() {
        return new Counts(arrivedGuest, arrivedHost, mergedInLatch, clearedByInit, delivered, nmiExits, hostTaken, hypervisorMerged, hypervisorDiscarded);
    }

    /** All counts on one line, for verdict messages. */
    public String describe() {
        return counts().describe();
    }

    /** A ledger's counts at one moment (fields as in {@link NmiLedger}). */
    public record Counts(long arrivedGuest, long arrivedHost, long mergedInLatch, long clearedByInit, long delivered, long nmiExits,
            long hostTaken, long hypervisorMerged, long hypervisorDiscarded) {
        /** All counts on one line, for verdict messages. */
        public String describe() {
            return String.format("arrived %d (+%d from the host), merged in the latch %d, cleared by INIT %d, delivered %d, NMI exits %d,"
                    + " host-taken %d, merged by the hypervisor %d, discarded by the hypervisor %d",
                    arrivedGuest, arrivedHost, mergedInLatch, clearedByInit, delivered, nmiExits, hostTaken, hypervisorMerged, hypervisorDiscarded);
        }
    }
}
