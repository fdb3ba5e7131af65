package org.hvlab.machine.apic;

import java.util.ArrayList;
import java.util.List;

/** The interrupt bus connecting the local APICs: IPIs are delivered at once to their targets. */
public final class ApicBus {
    private final List<LocalApic> apics = new ArrayList<>();
    /** Observer of every IPI sent, for traces; may be null. */
    public IpiListener listener;

    public interface IpiListener {
        void ipi(int from, int to, int deliveryMode, int vector);
    }

    void attach(LocalApic a) {
        apics.add(a);
    }

    public List<LocalApic> apics() {
        return apics;
    }

    /** Whether an IPI from {@code src} with these ICR fields reaches {@code a} (SDM Vol.3A 10.6.1-10.6.2). */
    static boolean hits(LocalApic src, LocalApic a, int shorthand, boolean logical, long dest, boolean x2apic) {
        return switch (shorthand) {
            case 1 -> a == src;
            case 2 -> true;
            case 3 -> a != src;
            default -> logical ? a.matchesLogical(dest, x2apic) : (x2apic ? dest == 0xFFFFFFFFL || dest == a.id()
                    : dest == 0xFF || dest == a.id());
        };
    }

    /**
     * Whether an ICR write on {@code src} (low dword {@code icrLow}, destination {@code dest})
     * would reach {@code a}: for a hypervisor that intercepts the write and acts for the
     * hardware, with the hardware's own destination rules.
     */
    public static boolean reaches(LocalApic src, LocalApic a, int icrLow, long dest) {
        return hits(src, a, (icrLow >>> 18) & 3, (icrLow & (1 << 11)) != 0, dest, src.x2apic());
    }

    /** Delivers an IPI from {@code src} per the ICR fields (SDM Vol.3A 10.6.1). */
    void send(LocalApic src, int mode, int vector, int shorthand, boolean logical, long dest, boolean x2apic, boolean level, boolean trigger) {
        // INIT level de-assert is a no-op on current processors (SDM Vol.3A 10.6.1)
        if (mode == LocalApic.DM_INIT && !level && trigger) return;
        LocalApic lowest = null;
        for (LocalApic a : apics) {
            if (!hits(src, a, shorthand, logical, dest, x2apic)) continue;
            if (mode == LocalApic.DM_LOWEST) {
                // exactly one processor of the set: the lowest priority, ties to the lowest APIC ID
                // (SDM Vol.3A 10.6.2.4 leaves the arbitration to the model; this one is deterministic)
                if (lowest == null || a.ppr() < lowest.ppr()) lowest = a;
                continue;
            }
            if (listener != null) listener.ipi(src.id(), a.id(), mode, vector);
            a.accept(mode, vector, src.hostSending());
        }
        if (lowest != null) {
            if (listener != null) listener.ipi(src.id(), lowest.id(), mode, vector);
            lowest.accept(mode, vector, src.hostSending());
        }
    }
}
