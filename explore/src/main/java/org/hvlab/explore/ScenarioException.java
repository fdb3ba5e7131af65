package org.hvlab.explore;

/** A malformed scenario or run record: the message is one line naming the file, line and field. */
public final class ScenarioException extends Exception {
    public ScenarioException(String message) {
        super(message, null, false, false);
    }
}
