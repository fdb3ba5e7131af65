package org.hvlab.machine.trace;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongSupplier;
import org.hvlab.machine.events.MachineEvent;
import org.hvlab.machine.vmx.ExitReason;

/**
 * Events of one run for timelines (issue 5 "report"): per CPU, with the machine's step count
 * as the clock. Instants (a VM exit, an NMI raised, delivered or injected) and spans (a
 * quiesce, a wait for a lock). A subscriber of the machine's event stream ({@link #on}), attached
 * by {@code Machine.enableTrace}; runs without it pay nothing for the kinds only it wants.
 * Bounded: past {@link #LIMIT} events the rest is counted, not kept.
 */
public final class Trace {
    public static final int LIMIT = 500_000;

    /** One event: {@code phase} 'i' instant, 'B' begin, 'E' end (Chrome trace phases). */
    public record Event(long step, int cpu, char phase, String category, String name, String detail) {}

    private final List<Event> events = new ArrayList<>();
    private final LongSupplier clock;
    private long dropped;

    public Trace(LongSupplier clock) {
        this.clock = clock;
    }

    /** One machine event as timeline entries (names as the reports and benchmarks read them). */
    public void on(MachineEvent e) {
        switch (e) {
            case MachineEvent.NmiRaised n -> instant(n.cpu(), "nmi", n.merged() ? "NMI raised (merged)" : "NMI raised", n.fromHost() ? "from the host" : "");
            case MachineEvent.EventInjected j -> instant(j.cpu(), j.type() == NMI_TYPE ? "nmi" : "vmx", j.type() == NMI_TYPE ? "NMI injected" : "event injected",
                    String.format("vector %d type %d rip=0x%x", j.vector(), j.type(), j.rip()));
            // an injected NMI is on the timeline as injected already
            case MachineEvent.NmiDelivered d -> {
                if (!d.injected()) instant(d.cpu(), "nmi", d.toGuest() ? "NMI delivered to the guest" : "NMI delivered", String.format("rip=0x%x", d.rip()));
            }
            case MachineEvent.VmEntered v -> begin(v.cpu(), "vmx", "guest", String.format("rip=0x%x", v.rip()));
            case MachineEvent.VmExited x -> {
                end(x.cpu(), "vmx", "guest");
                instant(x.cpu(), "vmx", "VM exit " + ExitReason.describe(x.reason()), String.format("rip=0x%x qualification=0x%x", x.rip(), x.qualification()));
            }
            case MachineEvent.VmEntryFailed f -> instant(f.cpu(), "vmx", "VM entry failed", f.failure().render());
            case MachineEvent.HostWait w -> {
                if (w.begin()) begin(w.cpu(), "host", "waiting: " + w.why(), "");
                else end(w.cpu(), "host", "waiting: " + w.why());
            }
            case MachineEvent.Mark m -> instant(m.cpu(), m.category(), m.name(), m.detail());
            case MachineEvent.Span sp -> {
                if (sp.begin()) begin(sp.cpu(), sp.category(), sp.name(), "");
                else end(sp.cpu(), sp.category(), sp.name());
            }
            default -> { } // exceptions, interrupts, IRETs, INITs, host NMIs, NMI declarations, watch hits: not on the timeline
        }
    }

    /** Interruption type 2 (SDM Vol.3C 24.8.3). */
    private static final int NMI_TYPE = 2;

    /** The clock now (the machine's step count). */
    public long now() {
        return clock.getAsLong();
    }

    public void instant(int cpu, String category, String name, String detail) {
        add(new Event(clock.getAsLong(), cpu, 'i', category, name, detail));
    }

    public void begin(int cpu, String category, String name, String detail) {
        add(new Event(clock.getAsLong(), cpu, 'B', category, name, detail));
    }

    public void end(int cpu, String category, String name) {
        add(new Event(clock.getAsLong(), cpu, 'E', category, name, ""));
    }

    private void add(Event e) {
        if (events.size() < LIMIT) events.add(e);
        else dropped++;
    }

    public List<Event> events() {
        return Collections.unmodifiableList(events);
    }

    public long dropped() {
        return dropped;
    }
}
