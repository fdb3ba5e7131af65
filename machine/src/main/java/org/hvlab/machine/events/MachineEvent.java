package org.hvlab.machine.events;

import org.hvlab.machine.RunEnding;
import org.hvlab.machine.vmx.EntryCheckFailure;

/**
 * What happens on a CPU that someone outside the machine may want to know, as one sealed family
 * (docs/architecture.md "One machine event stream"). The machine publishes them on its
 * {@link EventBus}; the trace, the NMI accounting, the reports and, later, QMP events and GDB
 * stop reasons subscribe. The machine knows none of its subscribers. {@code cpu} is the CPU's
 * index; the machine's step count at publication is {@link EventBus#now()}.
 */
public sealed interface MachineEvent {
    int cpu();

    Kind kind();

    /** The kinds, for cheap "does anyone listen" checks at the publishing sites. */
    enum Kind {
        INSTRUCTION, NMI_RAISED, NMI_DELIVERED, IRET, INIT_RESET, EVENT_INJECTED, EXCEPTION, INTERRUPT, VM_ENTRY, VM_ENTRY_FAILED, VM_EXIT,
        HOST_NMI_TAKEN, HOST_WAIT, HYPERVISOR_NMI, MARK, SPAN, WATCH_HIT
    }

    /**
     * The CPU is about to execute the instruction at {@code rip} (an instruction boundary, after
     * any event taken there). Published only while someone subscribes: a debugger's single
     * step or watch; it costs one check per instruction otherwise.
     */
    record InstructionBoundary(int cpu, long rip) implements MachineEvent {
        public Kind kind() { return Kind.INSTRUCTION; }
    }

    /** An NMI at the CPU's pin ({@code fromHost}: the Java host software sent it); {@code merged}: one was already latched (SDM Vol.3A 6.7.1). */
    record NmiRaised(int cpu, boolean fromHost, boolean merged) implements MachineEvent {
        public Kind kind() { return Kind.NMI_RAISED; }
    }

    /**
     * An NMI delivery through the CPU's IDT completed (bare, or in a guest): it interrupted
     * {@code rip} with {@code rspBefore} and wrote its frame at {@code frame}; {@code injected} by
     * VM-entry event injection; {@code toGuest}: in VMX non-root operation.
     */
    record NmiDelivered(int cpu, long rip, long rspBefore, long frame, boolean injected, boolean toGuest, long instructions) implements MachineEvent {
        public Kind kind() { return Kind.NMI_DELIVERED; }
    }

    /** The CPU executed IRET (any IRET ends blocking by NMI, SDM Vol.3A 6.7.1). */
    record Iret(int cpu, long rip) implements MachineEvent {
        public Kind kind() { return Kind.IRET; }
    }

    /** An INIT reset the CPU; {@code nmiWasLatched}: a latched NMI was discarded with it. */
    record InitReset(int cpu, boolean nmiWasLatched) implements MachineEvent {
        public Kind kind() { return Kind.INIT_RESET; }
    }

    /** VM entry injects an event (SDM Vol.3C 26.5): vector, interruption type, the guest RIP it is delivered at. */
    record EventInjected(int cpu, int vector, int type, long rip) implements MachineEvent {
        public Kind kind() { return Kind.EVENT_INJECTED; }
    }

    /** An instruction at {@code rip} raised an exception (before delivery or a VM exit it causes). */
    record ExceptionRaised(int cpu, int vector, boolean hasError, int error, long rip) implements MachineEvent {
        public Kind kind() { return Kind.EXCEPTION; }
    }

    /** A maskable interrupt is delivered through the IDT. */
    record InterruptDelivered(int cpu, int vector) implements MachineEvent {
        public Kind kind() { return Kind.INTERRUPT; }
    }

    /** VM entry succeeded; the guest starts at {@code rip}. */
    record VmEntered(int cpu, long rip) implements MachineEvent {
        public Kind kind() { return Kind.VM_ENTRY; }
    }

    /** VMLAUNCH/VMRESUME failed the named check. */
    record VmEntryFailed(int cpu, EntryCheckFailure failure) implements MachineEvent {
        public Kind kind() { return Kind.VM_ENTRY_FAILED; }
    }

    /** A VM exit with basic {@code reason} at guest {@code rip}; {@code nmi}: caused by an NMI under NMI exiting. */
    record VmExited(int cpu, int reason, long qualification, long rip, boolean nmi) implements MachineEvent {
        public Kind kind() { return Kind.VM_EXIT; }
    }

    /** The Java host software took an NMI at a yield point. */
    record HostNmiTaken(int cpu) implements MachineEvent {
        public Kind kind() { return Kind.HOST_NMI_TAKEN; }
    }

    /** The Java host software starts ({@code begin}) or stops waiting for {@code why}. */
    record HostWait(int cpu, String why, boolean begin) implements MachineEvent {
        public Kind kind() { return Kind.HOST_WAIT; }
    }

    /**
     * A hypervisor declares what it did with a guest NMI that it did not deliver: merged by the
     * architectural rule ({@code merged}), or discarded because no guest runs on the CPU yet.
     */
    record HypervisorNmi(int cpu, boolean merged) implements MachineEvent {
        public Kind kind() { return Kind.HYPERVISOR_NMI; }
    }

    /** A named moment on a CPU's timeline from software above the machine (a hypervisor, a run driver). */
    record Mark(int cpu, String category, String name, String detail) implements MachineEvent {
        public Kind kind() { return Kind.MARK; }
    }

    /** The beginning ({@code begin}) or end of a named span on a CPU's timeline (a quiesce, a PAL). */
    record Span(int cpu, String category, String name, boolean begin) implements MachineEvent {
        public Kind kind() { return Kind.SPAN; }
    }

    /** A guest access reached a watched page through another context's EPT (cpu.MemoryWatch). */
    record WatchHit(int cpu, RunEnding.IsolationBreach breach) implements MachineEvent {
        public Kind kind() { return Kind.WATCH_HIT; }
    }
}
