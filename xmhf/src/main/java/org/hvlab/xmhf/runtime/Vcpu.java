package org.hvlab.xmhf.runtime;

import org.hvlab.machine.RunEnding;
import org.hvlab.machine.host.HostCpu;
import org.hvlab.xmhf.baseplatform.VmcsCopy;

/** XMHF's per-CPU record ({@code VCPU}): the host CPU, its VMCS copy and its NMI and SMP state. */
public final class Vcpu {
    public final HostCpu cpu;
    public final int id;
    public final VmcsCopy vmcs = new VmcsCopy();

    /** Guest NMIs waiting for an NMI window (docs/xmhf-facts.md "Guest NMI injection"). */
    public int nmiPending;
    /** This CPU takes part in a quiesce (it is quiesced, or it is the quiescing CPU). */
    public boolean quiesced;
    /** "NMI handling disabled" while the intercept handler runs; NMIs then only count in {@link #nmiVisited}. */
    public boolean nmiHandlingDisabled;
    /** The deferred-NMI enable is draining the visited counter (bug 113 re-enters it). */
    public boolean nmiDraining;
    /** NMIs that arrived while handling was disabled (the visited counter, bug 113). */
    public int nmiVisited;
    /** VMXON done and this CPU's VMCS current (INVEPT is possible). */
    public boolean vmxOn;
    /** The guest was launched on this CPU (VMRESUME from now on). */
    public boolean launched;
    /** An intercepted guest xAPIC write is being single-stepped with MTF (offset, or -1). */
    public int apicWriteOffset = -1;
    /** The hypapp blocks guest NMIs (TrustVisor while a PAL runs), and the guest's own NMI blocking before that. */
    public boolean hypappNmiBlock, nmiBlockedBeforeHypapp;
    /** This CPU's EPT01 pointer (what its guest runs with when no hypapp switched it). */
    public long eptp01;
    /** VM exits handled on this CPU. */
    public long exits;
    /** The basic exit reason being handled on this CPU, or -1 between exits. */
    public int exitReason = -1;

    public Vcpu(HostCpu cpu) {
        this.cpu = cpu;
        this.id = cpu.apicId();
    }

    /**
     * XMHF's HALT on this CPU: ends the run with a hypervisor halt saying {@code message} after
     * XMHF's prefix, with the exit being handled and {@code cause}; never returns.
     */
    public RuntimeException halt(String message, RunEnding.HaltCause cause) {
        return cpu.halt(prefix(), message, exitReason, cause);
    }

    /** As {@link #halt(String, RunEnding.HaltCause)}, for a halt whose message says why. */
    public RuntimeException halt(String message) {
        return halt(message, RunEnding.HaltCause.STATED);
    }

    /** XMHF's line prefix, {@code CPU(0x%02x): }. */
    public String prefix() {
        return String.format("CPU(0x%02x): ", id);
    }
}
