package org.hvlab.explore;

import java.util.ArrayList;
import java.util.List;
import org.hvlab.machine.RunEnding;

/**
 * How a run is judged, as data: a pass, a failure from how the run ended, or a failure an oracle
 * found in a run that otherwise passed (NMI accounting). {@link #kind()} is the oracle's name (or
 * "pass"); {@link #signature()} is kind + place, stable across runs that fail the same way, for
 * de-duplication; {@link #message()} the full report. All three are computed from the data here
 * and nowhere else (docs/architecture.md "Typed run endings").
 */
public sealed interface Verdict {
    String kind();

    String signature();

    String message();

    default boolean failed() {
        return !(this instanceof Pass);
    }

    /** The guest exited with status 0. */
    record Pass(RunEnding ending) implements Verdict {
        public String kind() { return "pass"; }
        public String signature() { return "pass"; }
        public String message() { return ending.render(); }
    }

    /** The run ended in a way that fails it; {@code guestLastLine} is the guest's last serial line (named by an exit-status failure). */
    record Ended(RunEnding ending, String guestLastLine) implements Verdict {
        public String kind() {
            return switch (ending) {
                case RunEnding.GuestExit e -> "exit-status";
                case RunEnding.Deadlock d -> "deadlock";
                case RunEnding.HypervisorHalt h -> switch (h.cause()) {
                    case RunEnding.HaltCause.UnhandledException u -> "unhandled-exception";
                    case RunEnding.HaltCause.HostMemoryAccess a -> "isolation";
                    default -> "hypervisor-halt";
                };
                case RunEnding.StepLimit l -> "stuck";
                case GuestStuck g -> "stuck";
                case RunEnding.Shutdown s -> "shutdown";
                case RunEnding.SimulatorError e -> "simulator-error";
                case RunEnding.IsolationBreach b -> "isolation";
                case RunEnding.Driven d -> d.key();
            };
        }

        public String signature() {
            return switch (ending) {
                case RunEnding.GuestExit e -> "exit-status " + e.status() + ": " + numbersOut(guestLastLine);
                case RunEnding.Deadlock d -> "deadlock: " + deadlockPlaces(d);
                case RunEnding.HypervisorHalt h -> switch (h.cause()) {
                    case RunEnding.HaltCause.UnhandledException u -> String.format("unhandled-exception 0x%08x", u.interruptionInfo());
                    case RunEnding.HaltCause.HostMemoryAccess a -> "isolation: guest access to hypervisor memory";
                    // the halt's own words name its place; which CPU halted varies between runs
                    default -> "hypervisor-halt: " + h.message();
                };
                case RunEnding.StepLimit l -> "stuck: step limit";
                case GuestStuck g -> "stuck: " + g.place();
                case RunEnding.Shutdown s -> "shutdown: " + numbersOut(s.why()) + (s.symbol() == null ? "" : " at <" + numbersOut(s.symbol()) + ">");
                case RunEnding.SimulatorError e -> "simulator-error: " + numbersOut(e.error()) + (e.at() == null ? "" : " at " + e.at());
                // the access itself got through (a wrong or stale translation): the guest's kind of access names it
                case RunEnding.IsolationBreach b -> "isolation: guest " + b.access().text + " of protected memory";
                case RunEnding.Driven d -> d.key() + ": " + numbersOut(d.render());
            };
        }

        public String message() {
            return switch (ending) {
                case RunEnding.GuestExit e -> "guest exited with status " + e.status() + ": " + guestLastLine;
                case RunEnding.Deadlock d -> oneLine(d.render());
                default -> ending.render();
            };
        }
    }

    /** NMI accounting (a run that otherwise passed): {@code lost} guest NMIs on {@code cpu} went nowhere; {@code held} were still held at the end. */
    record NmiLost(int cpu, long lost, NmiLedger.Counts ledger, long held) implements Verdict {
        public String kind() { return "nmi-accounting"; }
        public String signature() { return "nmi-accounting: guest NMIs lost"; }
        public String message() {
            return String.format("CPU %d: %d guest NMI%s lost: %s, still held %d", cpu, lost, lost == 1 ? "" : "s", ledger.describe(), held);
        }
    }

    /** NMI accounting: {@code surplus} more NMIs reached the guest on {@code cpu} than anyone sent it. */
    record NmiSpurious(int cpu, long surplus, NmiLedger.Counts ledger) implements Verdict {
        public String kind() { return "nmi-accounting"; }
        public String signature() { return "nmi-accounting: NMIs delivered that nobody sent the guest"; }
        public String message() {
            return String.format("CPU %d: %d more NMI%s delivered than sent to the guest: %s", cpu, surplus, surplus == 1 ? "" : "s", ledger.describe());
        }
    }

    /** Each CPU's wait, without CPU numbers and guest places, sorted so CPU numbering does not matter. */
    private static String deadlockPlaces(RunEnding.Deadlock d) {
        List<String> waits = new ArrayList<>();
        // the guest's RIP is where each guest happened to be, not where the hypervisor is stuck
        for (RunEnding.CpuWait w : d.cpus()) waits.add(w.host() != null ? w.host().render("another CPU") : w.state().text);
        waits.sort(null);
        return String.join(" | ", waits);
    }

    /** Collapses line breaks and runs of spaces (a deadlock's Java frames) into single spaces. */
    private static String oneLine(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i) == '\n' ? ' ' : s.charAt(i);
            if (ch == ' ' && sb.length() > 0 && sb.charAt(sb.length() - 1) == ' ') continue;
            sb.append(ch);
        }
        return sb.toString();
    }

    /**
     * Text with its numbers masked, so runs that fail the same way share a signature: every
     * hexadecimal literal ({@code 0x...}) becomes {@code 0x?}, every decimal number standing alone
     * (not part of a word) becomes {@code N}.
     */
    static String numbersOut(String s) {
        // first the hexadecimal literals, wherever they stand
        StringBuilder h = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            if (s.startsWith("0x", i) && i + 2 < s.length() && hex(s.charAt(i + 2))) {
                int j = i + 2;
                while (j < s.length() && hex(s.charAt(j))) j++;
                h.append("0x?");
                i = j;
            } else {
                h.append(s.charAt(i++));
            }
        }
        // then whole decimal numbers: a run of digits with no word character on either side
        StringBuilder sb = new StringBuilder(h.length());
        for (int i = 0; i < h.length(); ) {
            char ch = h.charAt(i);
            if (ch >= '0' && ch <= '9' && (i == 0 || !word(h.charAt(i - 1)))) {
                int j = i;
                while (j < h.length() && h.charAt(j) >= '0' && h.charAt(j) <= '9') j++;
                if (j == h.length() || !word(h.charAt(j))) sb.append('N');
                else sb.append(h, i, j);
                i = j;
            } else {
                sb.append(ch);
                i++;
            }
        }
        return sb.toString();
    }

    private static boolean hex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    private static boolean word(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_';
    }
}
