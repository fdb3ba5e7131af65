package org.hvlab.machine.host;

/**
 * A hypervisor written in Java (docs/architecture.md "The Java host API"). The machine calls
 * {@link #start} on every CPU at power-on, on that CPU's coroutine, in VMX-capable 64-bit
 * mode at CPL 0; when it returns the CPU stops. {@link #onNmi} runs when a host NMI is taken at
 * a yield point, re-entrantly on the same coroutine, with NMIs blocked until it returns.
 */
public interface HostSoftware {
    void start(HostCpu cpu);

    /** A host NMI (not one that caused a VM exit: that one is reported by the exit). */
    default void onNmi(HostCpu cpu) {}

    /**
     * Guest NMIs this hypervisor holds for CPU {@code cpu} and has not delivered yet (pending for
     * an NMI window, queued for injection, not yet classified), for the NMI-accounting oracle at
     * the end of a run; read while nothing runs, so it is no operation.
     */
    default int guestNmisHeld(int cpu) {
        return 0;
    }
}
