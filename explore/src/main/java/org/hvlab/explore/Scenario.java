package org.hvlab.explore;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One exploration scenario (issue 5): the machine, the hypervisor and its options, the guest,
 * the NMI injection plan, the oracles that judge a run, and the limits. Loaded from YAML by
 * {@link ScenarioLoader}; a run is a pure function of (scenario, seed, choices).
 *
 * @param expects     signature fragments of the failure the scenario was written to show (a historical bug); may be empty
 * @param file        where it was loaded from (images and records are found relative to it)
 * @param source      the YAML text, kept in run records so a record replays without the file
 */
public record Scenario(String name, String description, List<String> expects, Machine machine, Hypervisor hypervisor, Guest guest,
        Scheduling scheduling, List<Injection> injections, List<String> oracles, Limits limits, Path file, String source) {

    /**
     * Whether a run that ended with {@code signature} failed the way this scenario was written
     * to show ({@code expects}: signature fragments of the historical bug it restores); only then
     * does its description explain the run.
     */
    public boolean expected(String signature) {
        for (String e : expects) if (signature.contains(e)) return true;
        return false;
    }

    public record Machine(int cpus, long memoryBytes, String profile) {}

    /** {@code name} is "none" or "xmhf"; options are XMHF's {@code --set} options. */
    public record Hypervisor(String name, String hypapp, Map<String, String> options) {
        public boolean xmhf() {
            return name.equals("xmhf");
        }
    }

    /** A bundled guest's name or an ELF file (relative to the scenario), and its command line. */
    public record Guest(String image, String cmdline) {}

    /** The random scheduler's largest quantum, in steps; small quanta interleave CPUs finely. */
    public record Scheduling(int maxQuantum, boolean pauseYields) {}

    /**
     * One entry of the NMI injection plan, modelled on QMP {@code inject-nmi} (docs/xmhf-facts.md
     * "Test tools"): an NMI to one CPU ({@code cpu} >= 0) or to all ({@code cpu} = -1).
     * <ul>
     *   <li>{@code at}: one NMI at step {@code start}</li>
     *   <li>{@code periodic}: from {@code start} every {@code interval} steps, each moved by a
     *       random jitter in [-jitter, +jitter], {@code count} times (0: until {@code end})</li>
     *   <li>{@code flood}: {@code count} NMIs from {@code start}, {@code interval} steps apart
     *       (0: all at the same boundary, as the seeds' interval-0 flood)</li>
     *   <li>{@code burst}: {@code count} bursts of {@code size} NMIs {@code interval} steps apart,
     *       the bursts {@code gap} steps apart</li>
     * </ul>
     */
    public record Injection(String kind, int cpu, long start, long interval, long jitter, int count, long end, int size, long gap, int line) {}

    public record Limits(long maxSteps, long stuckSteps) {}

    /** The oracles every scenario may name (see Oracles). */
    public static final List<String> ORACLES = List.of("deadlock", "hypervisor-halt", "unhandled-exception", "stuck",
            "exit-status", "isolation", "simulator-error", "nmi-accounting");
}
