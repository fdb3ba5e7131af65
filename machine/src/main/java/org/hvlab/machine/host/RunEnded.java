package org.hvlab.machine.host;

/** Unwinds a host CPU's Java stack once the run has a verdict. Control flow, not an error. */
final class RunEnded extends RuntimeException {
    RunEnded() {
        super(null, null, false, false);
    }
}
