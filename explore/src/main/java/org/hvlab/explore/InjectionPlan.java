package org.hvlab.explore;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A scenario's injections expanded into the NMIs of one run: (step, CPU) pairs in step order,
 * CPU -1 meaning every CPU (QMP {@code inject-nmi} on all of them). Jitter comes from the run's
 * seed, so the plan is part of what (scenario, seed) determines; the expanded plan is stored in
 * run records and is what minimisation shrinks.
 */
public final class InjectionPlan {
    /** One NMI: at {@code step} (machine steps: instructions, deliveries and host operations) to {@code cpu}. */
    public record Nmi(long step, int cpu) {}

    private final List<Nmi> nmis;

    public InjectionPlan(List<Nmi> nmis) {
        List<Nmi> sorted = new ArrayList<>(nmis);
        sorted.sort((a, b) -> Long.compare(a.step(), b.step()));
        this.nmis = List.copyOf(sorted);
    }

    public static final InjectionPlan NONE = new InjectionPlan(List.of());

    public List<Nmi> nmis() {
        return nmis;
    }

    public int size() {
        return nmis.size();
    }

    /** Expands the scenario's injection entries for the run with {@code seed}. */
    public static InjectionPlan expand(List<Scenario.Injection> entries, long seed, long maxSteps) {
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        List<Nmi> out = new ArrayList<>();
        for (Scenario.Injection e : entries) {
            switch (e.kind()) {
                case "at" -> out.add(new Nmi(e.start(), e.cpu()));
                case "periodic" -> {
                    for (int i = 0; e.count() == 0 || i < e.count(); i++) {
                        long base = e.start() + i * e.interval();
                        if (base > e.end() || base > maxSteps) break;
                        long j = e.jitter() == 0 ? 0 : rnd.nextLong(-e.jitter(), e.jitter() + 1);
                        out.add(new Nmi(Math.max(0, base + j), e.cpu()));
                    }
                }
                case "flood" -> {
                    for (int i = 0; i < e.count(); i++) out.add(new Nmi(e.start() + i * e.interval(), e.cpu()));
                }
                case "burst" -> {
                    long t = e.start();
                    for (int b = 0; b < e.count(); b++) {
                        for (int k = 0; k < e.size(); k++) out.add(new Nmi(t + k * e.interval(), e.cpu()));
                        t += (e.size() - 1) * e.interval() + e.gap();
                    }
                }
                default -> throw new IllegalArgumentException("injection kind " + e.kind());
            }
        }
        return new InjectionPlan(out);
    }

    /** The plan without the NMIs at the given indices (minimisation). */
    public InjectionPlan without(int from, int to) {
        List<Nmi> l = new ArrayList<>(nmis.subList(0, from));
        l.addAll(nmis.subList(to, nmis.size()));
        return new InjectionPlan(l);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InjectionPlan p && p.nmis.equals(nmis);
    }

    @Override
    public int hashCode() {
        return nmis.hashCode();
    }

    @Override
    public String toString() {
        return nmis.size() <= 8 ? nmis.toString() : nmis.size() + " NMIs " + nmis.subList(0, 8) + "...";
    }
}
