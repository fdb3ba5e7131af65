package org.hvlab.xmhf.hypapp;

import org.hvlab.xmhf.runtime.Vcpu;

/**
 * XMHF's hypapp callback API (docs/xmhf-facts.md): start-up, hypercalls (VMCALL), EPT violations,
 * exceptions the hypapp asked to intercept, shutdown. Callbacks run inside the intercept
 * handler on the CPU that exited, with the VMCS copy valid; each returns whether it handled
 * the event (unhandled events get XMHF's default treatment).
 */
public interface Hypapp {
    /** Once per CPU, after its VMCS is set up and before its guest first runs. */
    default void onStartup(Xmhf xmhf, Vcpu v) {}

    /** A VMCALL from the guest; the handler advances RIP itself when it handles it. */
    default boolean onHypercall(Xmhf xmhf, Vcpu v) {
        return false;
    }

    /** An EPT violation outside XMHF's own handling (the APIC page). */
    default boolean onEptViolation(Xmhf xmhf, Vcpu v, long gpa, long qualification) {
        return false;
    }

    /** An exception exit (the hypapp set bits in the exception bitmap). */
    default boolean onException(Xmhf xmhf, Vcpu v, long interruptionInfo, long errorCode) {
        return false;
    }

    /** The hypapp doing nothing: XMHF alone. */
    Hypapp NONE = new Hypapp() {};

    /** What a hypapp sees of XMHF: its services. */
    interface Xmhf {
        org.hvlab.xmhf.smpguest.SmpGuest smpGuest();

        void printf(Vcpu v, String text);

        /** EPT01, for a hypapp that takes guest pages away (under quiesce). */
        org.hvlab.xmhf.memprot.Ept01 ept();

        /** XMHF's memory, including the pages reserved for the hypapp. */
        org.hvlab.xmhf.runtime.HypervisorMemory memory();

        /** The VCPU of CPU {@code i}. */
        Vcpu vcpu(int i);

        /** Number of CPUs. */
        int cpus();
    }
}
