package org.hvlab.explore;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hvlab.machine.RunResult;

/**
 * Turns a run's result into a {@link Verdict} with a stable signature (issue 5 "Oracles"):
 * deadlock (each CPU's wait, without numbers), hypervisor halt (XMHF's message), unhandled
 * exception intercept (VMEXIT-EXCEPTION with its interruption information), isolation breach
 * (an EPT violation on memory the guest does not own), stuck guest, guest exit status (the
 * guest's last line), step limit, simulator error. A run that ended in a way whose oracle the
 * scenario did not name still fails, under its kind, so nothing abnormal passes silently.
 */
public final class Oracles {
    private Oracles() {}

    private static final Pattern HEX = Pattern.compile("0x[0-9a-fA-F]+");
    private static final Pattern NUM = Pattern.compile("\\b\\d+\\b");

    public static Verdict judge(RunResult r, String guestSerial) {
        String msg = r.message() == null ? "" : r.message();
        return switch (r.outcome()) {
            case EXITED -> r.exitStatus() == 0 ? Verdict.pass(msg)
                    : new Verdict("exit-status", "exit-status " + r.exitStatus() + ": " + numbersOut(lastLine(guestSerial)),
                            "guest exited with status " + r.exitStatus() + ": " + lastLine(guestSerial));
            case DEADLOCK -> new Verdict("deadlock", "deadlock: " + deadlockPlaces(msg), oneLine(msg));
            case HYPERVISOR_HALT -> halt(msg);
            case GUEST_STUCK -> new Verdict("stuck", "stuck: " + stuckPlace(msg), msg);
            case STEP_LIMIT -> new Verdict("stuck", "stuck: step limit", msg);
            case SHUTDOWN -> new Verdict("shutdown", "shutdown: " + numbersOut(msg.replaceAll("rip=0x[0-9a-f]+ ", "")), msg);
            case SIMULATOR_ERROR -> new Verdict("simulator-error", "simulator-error: " + numbersOut(msg), msg);
            // the access itself got through (a wrong or stale translation): the guest's kind of access names it
            case ISOLATION_BREACH -> new Verdict("isolation", "isolation: guest " + breachKind(msg) + " of protected memory", msg);
        };
    }

    /**
     * The NMI-accounting oracle, for a run that otherwise passed: on every CPU each NMI sent to
     * the guest (injected or a guest IPI) was delivered through the guest's IDT, merged by the
     * architectural rule (in the CPU's latch, or declared by the hypervisor while its guest was
     * NMI-blocked with one held), discarded by an INIT or before the guest ran, or is still held
     * when the run ended. A shortfall is a lost NMI; a surplus is an NMI the guest got that
     * nobody sent it (a hypervisor's own NMI passed on). Null when every CPU balances.
     */
    public static Verdict nmiAccounting(org.hvlab.machine.Machine m) {
        org.hvlab.machine.host.HostSoftware host = m.hostSoftware();
        for (int i = 0; i < m.cpuCount(); i++) {
            org.hvlab.machine.cpu.Cpu c = m.cpu(i);
            org.hvlab.machine.cpu.NmiLedger l = c.nmiLedger;
            long held = (c.nmiPending ? 1 : 0) + (host == null ? 0 : host.guestNmisHeld(i));
            long accounted = l.delivered + l.mergedInLatch + l.clearedByInit + l.hypervisorMerged + l.hypervisorDiscarded;
            long lost = l.arrivedGuest - accounted - held;
            if (lost > 0) {
                return new Verdict("nmi-accounting", "nmi-accounting: guest NMIs lost",
                        String.format("CPU %d: %d guest NMI%s lost: %s, still held %d", i, lost, lost == 1 ? "" : "s", l.describe(), held));
            }
            if (l.delivered > l.arrivedGuest) {
                return new Verdict("nmi-accounting", "nmi-accounting: NMIs delivered that nobody sent the guest",
                        String.format("CPU %d: %d more NMI%s delivered than sent to the guest: %s", i, l.delivered - l.arrivedGuest,
                                l.delivered - l.arrivedGuest == 1 ? "" : "s", l.describe()));
            }
        }
        return null;
    }

    private static Verdict halt(String msg) {
        if (msg.contains("VMEXIT-EXCEPTION")) {
            Matcher m = Pattern.compile("interruption information (0x[0-9a-f]+)").matcher(msg);
            return new Verdict("unhandled-exception", "unhandled-exception " + (m.find() ? m.group(1) : "?"), msg);
        }
        if (msg.contains("EPT violation") && msg.contains("does not own")) {
            return new Verdict("isolation", "isolation: guest access to hypervisor memory", msg);
        }
        // the halt's own text names its place; which CPU halted varies between runs
        String place = msg.replaceFirst("^CPU \\d+: ", "").replaceAll("CPU\\(0x[0-9a-f]+\\)", "CPU(..)");
        return new Verdict("hypervisor-halt", "hypervisor-halt: " + place, msg);
    }

    /** Each CPU's wait in the deadlock report, sorted so CPU numbering does not matter. */
    private static String deadlockPlaces(String msg) {
        List<String> waits = new ArrayList<>();
        for (String part : msg.split(";")) {
            // drop the Java stack lines ("at ...") that follow each CPU's entry
            String p = part.lines().map(String::strip).filter(l -> !l.startsWith("at ") && !l.isEmpty())
                    .reduce((a, b) -> a + " " + b).orElse("");
            if (p.startsWith("deadlock:")) p = p.substring(p.indexOf(':') + 1).strip();
            if (p.startsWith("no CPU can make progress")) continue;
            p = p.replaceFirst("^CPU \\d+ ", "").replaceAll(", guest rip=0x[0-9a-f]+", "").replaceAll("rip=0x[0-9a-f]+", "");
            p = p.replaceAll("held by CPU \\d+", "held by another CPU");
            // the guest's RIP: where each guest happened to be, not where the hypervisor is stuck
            p = p.replaceAll(" ?<[^>]+>", "");
            if (!p.isEmpty()) waits.add(p);
        }
        waits.sort(null);
        return String.join(" | ", waits);
    }

    private static String breachKind(String msg) {
        Matcher m = Pattern.compile("guest (read|write|instruction fetch) of").matcher(msg);
        return m.find() ? m.group(1) : "access";
    }

    private static String stuckPlace(String msg) {
        Matcher m = Pattern.compile("IRETQ returning to itself at rip=0x[0-9a-f]+( <[^>]+>)?").matcher(msg);
        if (m.find()) return "IRETQ returning to itself" + (m.group(1) == null ? "" : m.group(1));
        // the place is the IRETQ; where its frame returns varies with the NMI that wrote it
        m = Pattern.compile("IRETQ loop at rip=0x[0-9a-f]+( <[^>]+>)?").matcher(msg);
        if (m.find()) return "IRETQ loop" + (m.group(1) == null ? "" : m.group(1));
        return "no progress";
    }

    static String lastLine(String serial) {
        String s = serial.strip();
        int i = s.lastIndexOf('\n');
        return i < 0 ? s : s.substring(i + 1);
    }

    private static String oneLine(String msg) {
        return msg.replace("\n", " ").replaceAll(" +", " ");
    }

    static String numbersOut(String s) {
        return NUM.matcher(HEX.matcher(s).replaceAll("0x?")).replaceAll("N");
    }
}
