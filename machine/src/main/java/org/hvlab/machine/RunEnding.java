package org.hvlab.machine;

import java.util.List;

/**
 * How a run ended, as data (docs/architecture.md "Typed run endings"). The machine produces
 * every kind but {@link Driven}, which a run driver's oracle gives (exploration's stuck-guest
 * oracle). Consumers switch over the kinds and read their fields; {@link #render()} is the one
 * place a kind becomes text, for the edges (the CLI's line on standard error, summaries, reports).
 */
public sealed interface RunEnding {
    /** The status class of this ending. */
    Outcome outcome();

    /** The process exit status: the guest's status for a debug exit, else the outcome's. */
    default int exitStatus() {
        return outcome().exitStatus;
    }

    /** The summary's {@code verdict} key ({@code exited}, {@code deadlock}, ...). */
    default String key() {
        return outcome().key();
    }

    /** One line saying what happened (a deadlock adds each host CPU's Java frames on lines of their own). */
    String render();

    /** A guest wrote its status to the debug-exit port (BOOT-PROTOCOL.md "Running an image"). */
    record GuestExit(int cpu, int status) implements RunEnding {
        public Outcome outcome() { return Outcome.EXITED; }
        @Override public int exitStatus() { return status; }
        public String render() { return "guest exited with status " + status + " (CPU " + cpu + ")"; }
    }

    /** The step limit ran out. */
    record StepLimit(long limit) implements RunEnding {
        public Outcome outcome() { return Outcome.STEP_LIMIT; }
        public String render() { return "step limit of " + limit + " steps reached"; }
    }

    /** A CPU entered the shutdown state (a triple fault, SDM Vol.3A 6.15 "Double Fault Exception"). */
    record Shutdown(int cpu, String why, long rip, String symbol) implements RunEnding {
        public Outcome outcome() { return Outcome.SHUTDOWN; }
        public String render() { return String.format("CPU %d: %s at rip=0x%x%s", cpu, why, rip, angle(symbol)); }
    }

    /** No CPU can make progress; one entry per CPU. */
    record Deadlock(List<CpuWait> cpus) implements RunEnding {
        public Deadlock { cpus = List.copyOf(cpus); }
        public Outcome outcome() { return Outcome.DEADLOCK; }
        public String render() {
            StringBuilder sb = new StringBuilder("deadlock: no CPU can make progress;");
            for (CpuWait w : cpus) sb.append(' ').append(w.render()).append(';');
            return sb.substring(0, sb.length() - 1);
        }
    }

    /** What a CPU of a {@link Deadlock} was doing. */
    enum CpuState {
        ACTIVE("active"), HALTED("halted"), HALTED_INTERRUPTS_OFF("halted with interrupts off"), WAIT_FOR_SIPI("waiting for SIPI"), SHUT_DOWN("shut down");

        public final String text;

        CpuState(String text) { this.text = text; }
    }

    /**
     * One CPU of a deadlock. On the bare machine {@code host} is null and {@code rip} is the
     * CPU's; under a Java hypervisor {@code host} says what its code waits for and {@code rip} is
     * the guest's (-1 when it has none), with the host's Java frames.
     */
    record CpuWait(int cpu, CpuState state, HostWait host, long rip, String symbol, List<String> hostFrames) {
        public CpuWait { hostFrames = List.copyOf(hostFrames); }

        public String render() {
            if (host == null) return String.format("CPU %d %s at rip=0x%x%s", cpu, state.text, rip, angle(symbol));
            StringBuilder sb = new StringBuilder(String.format("CPU %d %s", cpu, host.render()));
            if (rip >= 0) sb.append(String.format(", guest rip=0x%x%s", rip, angle(symbol)));
            for (String f : hostFrames) sb.append("\n      at ").append(f);
            if (!hostFrames.isEmpty()) sb.append('\n');
            return sb.toString();
        }
    }

    /** What a host CPU's Java code was doing when the machine deadlocked. */
    enum HostActivity { FINISHED, IN_GUEST, WAITING, RUNNING }

    /**
     * A host CPU's wait: {@code waitingFor} names the condition ({@code HostCpu.spinUntil}),
     * {@code awaitedLock}/{@code awaitedOwner} the lock it spins on and who holds it (-1: none).
     */
    record HostWait(HostActivity activity, String waitingFor, List<String> locksHeld, String awaitedLock, int awaitedOwner,
            boolean nmiBlocked, boolean nmiPending) {
        public HostWait { locksHeld = List.copyOf(locksHeld); }

        public String render() {
            return render("CPU " + awaitedOwner);
        }

        /** As {@link #render()}, with the owner of the awaited lock named {@code ownerName} ("CPU 1", "another CPU"). */
        public String render(String ownerName) {
            StringBuilder sb = new StringBuilder(switch (activity) {
                case FINISHED -> "host finished";
                case IN_GUEST -> "in the guest";
                case WAITING -> "host waiting for " + waitingFor;
                case RUNNING -> "host running";
            });
            if (!locksHeld.isEmpty()) sb.append(", holding ").append(locksHeld);
            if (awaitedLock != null && awaitedOwner >= 0) sb.append(", awaiting ").append(awaitedLock).append(" held by ").append(ownerName);
            if (nmiBlocked) sb.append(activity == HostActivity.IN_GUEST ? ", NMIs blocked" : ", host NMIs blocked");
            if (nmiPending) sb.append(", an NMI pending");
            return sb.toString();
        }
    }

    /**
     * A Java hypervisor halted on {@code cpu}. {@code prefix} is the hypervisor's own name for
     * the CPU in its messages (XMHF's "CPU(0x00): "), {@code message} what it said after it,
     * {@code exitReason} the basic exit reason it was handling (-1: none), {@code cause} why.
     */
    record HypervisorHalt(int cpu, String prefix, String message, int exitReason, HaltCause cause) implements RunEnding {
        public Outcome outcome() { return Outcome.HYPERVISOR_HALT; }
        public String render() { return "CPU " + cpu + ": " + prefix + message; }
    }

    /** Why a hypervisor halted, as far as it says. */
    sealed interface HaltCause {
        /** Its own decision, said in the message. */
        record Stated() implements HaltCause {}

        /** An exception exit it does not handle (XMHF's VMEXIT-EXCEPTION); {@code nestedEvent}: the IDT-vectoring information it could not deliver, or -1. */
        record UnhandledException(long interruptionInfo, long nestedEvent) implements HaltCause {}

        /** An EPT violation on memory the guest does not own: the guest reached the hypervisor's memory. */
        record HostMemoryAccess(long guestPhysical, long qualification) implements HaltCause {}

        /** A VM entry failed (SDM Vol.3C 26.7): exit reason with bit 31 set and its qualification. */
        record EntryFailure(long exitReason, long qualification) implements HaltCause {}

        /** The hypervisor's Java code did what the CPU faults on (a {@code HostFault}): a bug in it. */
        record HostFault(String fault) implements HaltCause {}

        HaltCause STATED = new Stated();
    }

    /** The kind of guest access an isolation watch saw. */
    enum Access {
        READ("read"), WRITE("write"), FETCH("instruction fetch");

        public final String text;

        Access(String text) { this.text = text; }
    }

    /** A guest access to a watched page through an EPT other than its owner's ({@code cpu.MemoryWatch}). */
    record IsolationBreach(int cpu, Access access, long physical, long rip, String symbol, long ept, long owner) implements RunEnding {
        public Outcome outcome() { return Outcome.ISOLATION_BREACH; }
        public String render() {
            return String.format("CPU %d: guest %s of 0x%x at rip=0x%x under EPT 0x%x; the page belongs to EPT 0x%x%s",
                    cpu, access.text, physical, rip, ept, owner, angle(symbol));
        }

        public IsolationBreach withSymbol(String sym) {
            return new IsolationBreach(cpu, access, physical, rip, sym, ept, owner);
        }
    }

    /** A Java exception escaped the simulator: a bug in hvlab ({@code where}: which coroutine). */
    record SimulatorError(String where, String error, String at) implements RunEnding {
        public Outcome outcome() { return Outcome.SIMULATOR_ERROR; }
        public String render() { return "simulator error in " + where + ": " + error + (at == null ? "" : " at " + at); }
    }

    /**
     * An ending a run driver gives (an exploration oracle judged the run): the machine does not
     * know these kinds; they say their own summary key and exit status.
     */
    non-sealed interface Driven extends RunEnding {
        @Override default Outcome outcome() { return Outcome.DRIVER_STOP; }
        @Override int exitStatus();
        @Override String key();
    }

    /** " <symbol>" or "": how every ending renders a code place. */
    static String angle(String symbol) {
        return symbol == null ? "" : " <" + symbol + ">";
    }
}
