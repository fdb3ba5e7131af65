package org.hvlab.machine.control;

/**
 * Why {@code Machine.runUntil}/{@code stepCpu} returned: the run ended ({@link Kind#FINISHED}), a
 * pause was requested, a breakpoint was reached ({@code cpu} at {@code rip}), the target step
 * was reached, the caller's condition held, or the single step was done. {@code step} is the
 * machine's step count then.
 */
public record Stop(Kind kind, int cpu, long rip, long step) {
    public enum Kind { FINISHED, PAUSED, BREAKPOINT, STEP_REACHED, CONDITION, STEPPED }
}
