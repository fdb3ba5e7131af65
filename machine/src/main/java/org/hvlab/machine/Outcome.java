package org.hvlab.machine;

/**
 * How a run ended. A debug exit gives the guest's status; everything else has a process exit
 * status from 100 upward (docs/boot-protocol.md "Running an image"; documented in the README).
 * The data of each ending is a {@link RunEnding}; this is its status class.
 */
public enum Outcome {
    EXITED(-1, "guest debug exit"),
    STEP_LIMIT(100, "step limit reached"),
    SHUTDOWN(101, "triple fault or shutdown"),
    DEADLOCK(102, "deadlock: no CPU can make progress"),
    HYPERVISOR_HALT(103, "hypervisor halt"),
    SIMULATOR_ERROR(104, "simulator error"),
    /** A run driver's oracle stopped the run ({@link RunEnding.Driven}: it gives its own key and exit status). */
    DRIVER_STOP(-1, "stopped by the run driver"),
    /** A guest touched memory an isolation watch gives to another context (cpu.MemoryWatch). */
    ISOLATION_BREACH(106, "isolation breach");

    public final int exitStatus;
    public final String meaning;

    Outcome(int exitStatus, String meaning) {
        this.exitStatus = exitStatus;
        this.meaning = meaning;
    }

    public String key() {
        return name().toLowerCase().replace('_', '-');
    }
}
