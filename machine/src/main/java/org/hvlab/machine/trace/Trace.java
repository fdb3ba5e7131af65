package org.hvlab.machine.trace;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Events of one run for timelines (issue 5 "report"): per CPU, with the machine's step count
 * as the clock. Instants (a VM exit, an NMI raised, delivered or injected) and spans (a
 * quiesce, a wait for a lock). Recording is off unless a Trace is attached, so normal runs pay
 * one null check per event site. Bounded: past {@link #LIMIT} events the rest is counted, not kept.
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
