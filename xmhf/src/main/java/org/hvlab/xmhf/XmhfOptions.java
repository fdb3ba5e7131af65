package org.hvlab.xmhf;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * XMHF's options, set with {@code --set key=value}: one table of option, default, meaning and
 * the seed or bug whose historical behaviour it restores (XMHF-FACTS.md "Bugs to replay"). Every
 * default is the fixed, final design; every historical switch is off by default.
 */
public final class XmhfOptions {
    /** One row of the option table. */
    public record Option(String key, String defaultValue, List<String> values, String meaning, String replays) {}

    public static final String VIRTUAL_NMIS = "virtual-nmis";
    public static final String NMI_INJECT_AT = "nmi-inject-at";
    public static final String ENDQUIESCE_CLEAR_FLAG_FIRST = "endquiesce-clear-flag-first";
    public static final String IRET_AFTER_NMI_EXIT = "iret-after-nmi-exit";
    public static final String QUIESCE_RELEASES_PRINTF_LOCK = "quiesce-releases-printf-lock";
    public static final String DEFERRED_NMI_REENTRANT = "deferred-nmi-reentrant-enable";

    /** The table, in the order the README shows it. */
    public static final List<Option> TABLE = List.of(
            new Option(VIRTUAL_NMIS, "true", List.of("true", "false"),
                    "run the guest with \"virtual NMIs\" and inject guest NMIs at NMI-window exits; false: no virtual NMIs, the "
                            + "guest's NMI blocking is cleared and NMIs are injected directly, even into an NMI handler",
                    "seed 000 (bug 025)"),
            new Option(NMI_INJECT_AT, "window", List.of("window", "arrival"),
                    "when a guest NMI is injected: at the NMI-window exit (window) or decided and queued the moment the NMI "
                            + "arrives (arrival), even if the guest is entering a PAL by then",
                    "seed 001 (bug 021)"),
            new Option(ENDQUIESCE_CLEAR_FLAG_FIRST, "true", List.of("true", "false"),
                    "end-quiesce clears the quiesce flag before raising the resume signal; false: signal first, so a resumed "
                            + "CPU can take the next NMI for a quiesce request",
                    "bug 018"),
            new Option(IRET_AFTER_NMI_EXIT, "true", List.of("true", "false"),
                    "execute an IRET after an NMI exit (the exit left host NMIs blocked); false: never, so host NMIs stay blocked",
                    "bug 018"),
            new Option(QUIESCE_RELEASES_PRINTF_LOCK, "true", List.of("true", "false"),
                    "the quiescing CPU does not hold the printf lock while it waits for the others; false: it keeps it",
                    "bug 024"),
            new Option(DEFERRED_NMI_REENTRANT, "false", List.of("false", "true"),
                    "the host NMI handler calls the deferred-NMI enable itself (re-entrantly); the visited counter can underflow",
                    "bug 113"));

    private final Map<String, String> values = new LinkedHashMap<>();

    public XmhfOptions() {
        for (Option o : TABLE) values.put(o.key(), o.defaultValue());
    }

    /** Whether {@code key} is an XMHF option (other keys belong to the machine or CLI). */
    public static boolean isOption(String key) {
        return find(key) != null;
    }

    private static Option find(String key) {
        for (Option o : TABLE) if (o.key().equals(key)) return o;
        return null;
    }

    /** Sets an option; an unknown key or value is a one-line error naming the choices. */
    public XmhfOptions set(String key, String value) {
        Option o = find(key);
        if (o == null) throw new IllegalArgumentException("unknown XMHF option '" + key + "'");
        if (!o.values().contains(value)) {
            throw new IllegalArgumentException("XMHF option " + key + " takes " + String.join(" or ", o.values()) + ", not '" + value + "'");
        }
        values.put(key, value);
        refresh();
        return this;
    }

    public String get(String key) {
        String v = values.get(key);
        if (v == null) throw new IllegalArgumentException("unknown XMHF option '" + key + "'");
        return v;
    }

    public boolean flag(String key) {
        return Boolean.parseBoolean(get(key));
    }

    // read on every VM exit: kept as fields, refreshed by set()
    private boolean virtualNmis = true, injectAtArrival, endQuiesceClearsFlagFirst = true, iretAfterNmiExit = true,
            quiesceReleasesPrintfLock = true, deferredNmiReentrant;

    private void refresh() {
        virtualNmis = flag(VIRTUAL_NMIS);
        injectAtArrival = get(NMI_INJECT_AT).equals("arrival");
        endQuiesceClearsFlagFirst = flag(ENDQUIESCE_CLEAR_FLAG_FIRST);
        iretAfterNmiExit = flag(IRET_AFTER_NMI_EXIT);
        quiesceReleasesPrintfLock = flag(QUIESCE_RELEASES_PRINTF_LOCK);
        deferredNmiReentrant = flag(DEFERRED_NMI_REENTRANT);
    }

    public boolean virtualNmis() { return virtualNmis; }
    public boolean injectAtArrival() { return injectAtArrival; }
    public boolean endQuiesceClearsFlagFirst() { return endQuiesceClearsFlagFirst; }
    public boolean iretAfterNmiExit() { return iretAfterNmiExit; }
    public boolean quiesceReleasesPrintfLock() { return quiesceReleasesPrintfLock; }
    public boolean deferredNmiReentrant() { return deferredNmiReentrant; }

    /** The options that differ from their defaults, for summaries. */
    public Map<String, String> changed() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Option o : TABLE) if (!o.defaultValue().equals(values.get(o.key()))) m.put(o.key(), values.get(o.key()));
        return m;
    }
}
