package org.hvlab.machine;

import java.util.List;

/**
 * The ending of a run and what a summary reports of it.
 *
 * @param ending  how the run ended, as data
 * @param steps   total steps (retired instructions over all CPUs)
 * @param cpus    per-CPU state at the end
 */
public record RunResult(RunEnding ending, long steps, List<CpuReport> cpus) {
    public record CpuReport(int index, long rip, String symbol, long instructions, long vmExits, String activity) {}

    public Outcome outcome() {
        return ending.outcome();
    }

    /** The process exit status (the guest's debug-exit status for {@link Outcome#EXITED}). */
    public int exitStatus() {
        return ending.exitStatus();
    }

    /** The ending rendered as text, for the edges (the CLI, summaries, test messages). */
    public String message() {
        return ending.render();
    }

    public boolean passed() {
        return ending instanceof RunEnding.GuestExit e && e.status() == 0;
    }
}
