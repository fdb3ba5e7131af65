package org.hvlab.xmhf;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * XMHF's options, set with {@code --set key=value}: one table of option, default, meaning and
 * the seed or bug whose historical behaviour it restores (docs/xmhf-facts.md "Bugs to replay"). Every
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
    public static final String HYPAPP_NMI_BLOCK_VMCS = "hypapp-nmi-block-vmcs";
    public static final String EPT_VIOLATION_GPA_BITS = "ept-violation-gpa-bits";

    /** The table, in the order the README shows it. */
    public static final List<Option> TABLE = List.of(
            new Option(VIRTUAL_NMIS, "true", List.of("true", "false"),
                    "run the guest with \"virtual NMIs\" and inject guest NMIs at NMI-window exits; false: no virtual NMIs, the "
                            + "guest's NMI blocking is cleared and NMIs are injected directly, even into an NMI handler",
                    "seed 000 (bug 025)"),
            new Option(NMI_INJECT_AT, "window", List.of("window", "arrival"),
                    "where XMHF decides whether the hypapp lets a guest NMI in: when the NMI-window exit injects it (window), "
                            + "or when the NMI arrives (arrival: the NMI-window exit then injects it whatever the hypapp did "
                            + "meanwhile, e.g. entered a PAL; and an NMI arriving while the hypapp blocks them is dropped)",
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
                    "bug 113"),
            new Option(HYPAPP_NMI_BLOCK_VMCS, "copy", List.of("copy", "hardware"),
                    "which VMCS the hypapp's guest-NMI block/unblock edits inside an intercept handler: the software copy, or the "
                            + "hardware VMCS (hardware: the handler's put overwrites it, so a PAL runs with guest NMIs unblocked)",
                    "bug 087 (seed 002)"),
            new Option(EPT_VIOLATION_GPA_BITS, "64", List.of("64", "32"),
                    "width of the guest-physical address XMHF passes to the hypapp on an EPT violation (32: truncated, so "
                            + "TrustVisor rejects a PAL entry above 4 GiB as an invalid entry point)",
                    "bug 022"));

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
            quiesceReleasesPrintfLock = true, deferredNmiReentrant, hypappNmiBlockHardware, eptViolationGpa32;

    private void refresh() {
        virtualNmis = flag(VIRTUAL_NMIS);
        injectAtArrival = get(NMI_INJECT_AT).equals("arrival");
        endQuiesceClearsFlagFirst = flag(ENDQUIESCE_CLEAR_FLAG_FIRST);
        iretAfterNmiExit = flag(IRET_AFTER_NMI_EXIT);
        quiesceReleasesPrintfLock = flag(QUIESCE_RELEASES_PRINTF_LOCK);
        deferredNmiReentrant = flag(DEFERRED_NMI_REENTRANT);
        hypappNmiBlockHardware = get(HYPAPP_NMI_BLOCK_VMCS).equals("hardware");
        eptViolationGpa32 = get(EPT_VIOLATION_GPA_BITS).equals("32");
    }

    public boolean virtualNmis() { return virtualNmis; }
    public boolean injectAtArrival() { return injectAtArrival; }
    public boolean endQuiesceClearsFlagFirst() { return endQuiesceClearsFlagFirst; }
    public boolean iretAfterNmiExit() { return iretAfterNmiExit; }
    public boolean quiesceReleasesPrintfLock() { return quiesceReleasesPrintfLock; }
    public boolean deferredNmiReentrant() { return deferredNmiReentrant; }
    public boolean hypappNmiBlockHardware() { return hypappNmiBlockHardware; }
    public boolean eptViolationGpa32() { return eptViolationGpa32; }

    /** The options that differ from their defaults, for summaries. */
    public Map<String, String> changed() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Option o : TABLE) if (!o.defaultValue().equals(values.get(o.key()))) m.put(o.key(), values.get(o.key()));
        return m;
    }
}
