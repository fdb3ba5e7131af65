package org.hvlab.machine;

import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.SeededRandom;
import org.hvlab.machine.vmx.CpuProfile;

/**
 * What a machine is made of and how a run is bounded.
 *
 * @param cpus         number of CPUs, 1..{@link #MAX_CPUS}
 * @param memoryBytes  RAM size
 * @param maxSteps     step limit (retired instructions over all CPUs)
 * @param choices      the scheduler's choice source
 * @param profile      the CPU model (VMX capabilities), see {@link CpuProfile}
 * @param pauseYields  PAUSE ends the CPU's quantum, so spin-waits cost little (README option {@code pause-yields})
 */
public record MachineConfig(int cpus, long memoryBytes, long maxSteps, ChoiceSource choices, CpuProfile profile, boolean pauseYields) {
    public static final int MAX_CPUS = 64;
    public static final long DEFAULT_MEMORY = 256L << 20;
    public static final long DEFAULT_MAX_STEPS = 2_000_000_000L;
    public static final int DEFAULT_MAX_QUANTUM = 2000;

    public MachineConfig(int cpus, long memoryBytes, long maxSteps, ChoiceSource choices) {
        this(cpus, memoryBytes, maxSteps, choices, CpuProfile.defaultProfile());
    }

    public MachineConfig(int cpus, long memoryBytes, long maxSteps, ChoiceSource choices, CpuProfile profile) {
        this(cpus, memoryBytes, maxSteps, choices, profile, true);
    }

    public MachineConfig {
        if (cpus < 1 || cpus > MAX_CPUS) throw new IllegalArgumentException("CPU count must be 1.." + MAX_CPUS + ", got " + cpus);
        if (maxSteps < 1) throw new IllegalArgumentException("step limit must be positive, got " + maxSteps);
    }

    public static MachineConfig of(int cpus, long memoryBytes, long seed) {
        return new MachineConfig(cpus, memoryBytes, DEFAULT_MAX_STEPS, new SeededRandom(seed, DEFAULT_MAX_QUANTUM));
    }
}
