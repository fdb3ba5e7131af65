package org.hvlab.machine;

import java.util.List;

/**
 * The verdict of a run and what a summary reports of it.
 *
 * @param outcome     how the run ended
 * @param exitStatus  the process exit status (the guest's debug-exit status for {@link Outcome#EXITED})
 * @param message     one line saying what happened
 * @param steps       total steps (retired instructions over all CPUs)
 * @param cpus        per-CPU state at the end
 */
public record RunResult(Outcome outcome, int exitStatus, String message, long steps, List<CpuReport> cpus) {
    public record CpuReport(int index, long rip, String symbol, long instructions, long vmExits, String activity) {}

    public boolean passed() {
        return outcome == Outcome.EXITED && exitStatus == 0;
    }
}
