package org.hvlab.explore;

import java.util.ArrayList;
import java.util.List;

/**
 * The last NMI deliveries through one CPU's IDT, with what the guest's own software sees of NMI
 * blocking: an NMI handler is "open" from the delivery until the guest executes IRET (SDM
 * Vol.3A 6.7.1: delivery blocks NMIs until the next IRET). A delivery while the previous one is
 * still open is one no correct platform makes: a hypervisor injected an NMI into a guest that
 * was still NMI-blocked (seed 000). Reports use this to explain how a guest's NMI frames went
 * wrong. Follows the machine's event stream (NMI deliveries, IRETs, INITs); the last 128.
 */
public final class NmiChain {
    /** One delivery: {@code frame} is where the CPU wrote the 5-word frame (RSP after delivery). */
    public record Delivery(long seq, long step, long instructions, long rip, long rspBefore, long frame, boolean injected, Delivery openBefore) {
        /** Whether the guest was still inside the handler of an earlier NMI (no IRET since it). */
        public boolean whileBlocked() {
            return openBefore != null;
        }
    }

    static final int CAPACITY = 128;
    private final Delivery[] ring = new Delivery[CAPACITY];
    private long count;
    private Delivery open;
    /** Follows one event of this chain's CPU; {@code step} is the machine's step count then. */
    void on(org.hvlab.machine.events.MachineEvent e, long step) {
        switch (e) {
            case org.hvlab.machine.events.MachineEvent.NmiDelivered d -> delivered(step, d.instructions(), d.rip(), d.rspBefore(), d.frame(), d.injected());
            case org.hvlab.machine.events.MachineEvent.Iret i -> iret();
            case org.hvlab.machine.events.MachineEvent.InitReset r -> reset();
            default -> { }
        }
    }

    void delivered(long step, long instructions, long rip, long rspBefore, long frame, boolean injected) {
        Delivery d = new Delivery(count, step, instructions, rip, rspBefore, frame, injected, open == null ? null : strip(open));
        ring[(int) (count++ % CAPACITY)] = d;
        open = d;
    }

    /** The guest executed IRET: no NMI handler is open any more (any IRET unblocks NMIs). */
    void iret() {
        open = null;
    }

    /** An INIT resets the CPU: no handler is open. */
    void reset() {
        open = null;
    }

    private static Delivery strip(Delivery d) {
        return d.openBefore == null ? d : new Delivery(d.seq, d.step, d.instructions, d.rip, d.rspBefore, d.frame, d.injected, null);
    }

    /** NMI deliveries so far. */
    public long count() {
        return count;
    }

    /** The kept deliveries, oldest first. */
    public List<Delivery> recent() {
        List<Delivery> out = new ArrayList<>();
        for (long i = Math.max(0, count - CAPACITY); i < count; i++) out.add(ring[(int) (i % CAPACITY)]);
        return out;
    }
}
