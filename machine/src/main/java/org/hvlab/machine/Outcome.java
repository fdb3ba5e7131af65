package org.hvlab.machine;

/**
 * How a run ended. A debug exit gives the guest's status; everything else has a process exit
 * status from 100 upward (BOOT-PROTOCOL.md "Running an image"; documented in the README).
 */
public enum Outcome {
    EXITED(-1, "guest debug exit"),
    STEP_LIMIT(100, "step limit reached"),
    SHUTDOWN(101, "triple fault or shutdown"),
    DEADLOCK(102, "deadlock: no CPU can make progress"),
    HYPERVISOR_HALT(103, "hypervisor halt"),
    SIMULATOR_ERROR(104, "simulator error"),
    /** Only exploration runs end this way: an oracle judged the guest stuck (no progress, or an IRETQ to itself). */
    GUEST_STUCK(105, "guest stuck"),
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
