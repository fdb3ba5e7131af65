package org.hvlab.machine.cpu;

/** Observes architectural events of one CPU, for traces, oracles and tests. Default methods do nothing. */
public interface CpuObserver {
    /** An exception raised by an instruction is about to be delivered ({@code rip} is the faulting instruction). */
    default void exception(Cpu cpu, int vector, boolean hasError, int error, long rip) {}

    /** An NMI is about to be delivered. */
    default void nmi(Cpu cpu) {}

    /** A maskable interrupt is about to be delivered. */
    default void interrupt(Cpu cpu, int vector) {}
}
