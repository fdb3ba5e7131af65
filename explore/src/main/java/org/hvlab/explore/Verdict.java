package org.hvlab.explore;

/**
 * How a run ended, as the oracles judge it. {@code kind} is one of the oracles' names (or
 * "pass"); {@code signature} is kind + place, stable across runs that fail the same way, for
 * de-duplication ("deadlock: CPU waits: quiesce counter | resume signal | ..."); {@code message}
 * is the full one-line report.
 */
public record Verdict(String kind, String signature, String message) {
    public static Verdict pass(String message) {
        return new Verdict("pass", "pass", message);
    }

    public boolean failed() {
        return !kind.equals("pass");
    }
}
