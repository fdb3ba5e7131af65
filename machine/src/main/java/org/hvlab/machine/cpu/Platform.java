package org.hvlab.machine.cpu;

import org.hvlab.machine.apic.LocalApic;

/** What a CPU sees of the board around it: I/O ports, MMIO, and the end of the run. */
public interface Platform {
    /** IN from a port; {@code size} is 1, 2 or 4. */
    int ioIn(Cpu cpu, int port, int size);

    /** OUT to a port. May end the run (debug exit). */
    void ioOut(Cpu cpu, int port, int size, int value);

    /** The CPU entered the shutdown state (triple fault). */
    void shutdown(Cpu cpu, String why);

    /** True once the run has ended; CPUs stop at the next instruction boundary. */
    boolean stopped();

    /** CPU {@code cpu} stopped at one of its breakpoints, before the instruction at its RIP (run control). */
    default void breakpointHit(Cpu cpu) {}

    /** The local APIC of CPU {@code index}. */
    LocalApic apic(int index);
}
