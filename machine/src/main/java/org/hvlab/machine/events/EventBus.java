package org.hvlab.machine.events;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The machine's one event stream: subscribers say which kinds they want, publishing sites ask
 * {@link #wants} before they build an event, so a kind nobody listens to costs one array read.
 * Delivery is synchronous, on the publishing CPU's coroutine, in subscription order.
 */
public final class EventBus {
    /** Receives the events of the kinds it subscribed to. */
    @FunctionalInterface
    public interface Subscriber {
        void on(MachineEvent e);
    }

    private record Subscription(Subscriber subscriber, Set<MachineEvent.Kind> kinds) {}

    private final List<Subscription> subscriptions = new ArrayList<>();
    private final boolean[] wanted = new boolean[MachineEvent.Kind.values().length];
    private LongSupplier clock = () -> -1;

    /** The machine's step count, for subscribers that stamp events (-1 outside a machine). */
    public void clock(LongSupplier clock) {
        this.clock = clock;
    }

    public long now() {
        return clock.getAsLong();
    }

    /** Subscribes to {@code kinds} (none given: every kind). */
    public void subscribe(Subscriber s, MachineEvent.Kind... kinds) {
        Set<MachineEvent.Kind> set = kinds.length == 0 ? EnumSet.allOf(MachineEvent.Kind.class) : EnumSet.of(kinds[0], kinds);
        subscriptions.add(new Subscription(s, set));
        for (MachineEvent.Kind k : set) wanted[k.ordinal()] = true;
    }

    public void unsubscribe(Subscriber s) {
        subscriptions.removeIf(x -> x.subscriber == s);
        java.util.Arrays.fill(wanted, false);
        for (Subscription x : subscriptions) for (MachineEvent.Kind k : x.kinds) wanted[k.ordinal()] = true;
    }

    /** Whether anyone listens to {@code kind}. */
    public boolean wants(MachineEvent.Kind kind) {
        return wanted[kind.ordinal()];
    }

    public void publish(MachineEvent e) {
        for (int i = 0; i < subscriptions.size(); i++) {
            Subscription s = subscriptions.get(i);
            if (s.kinds.contains(e.kind())) s.subscriber.on(e);
        }
    }
}
