package org.hvlab.machine.boot;

/** A guest image that cannot be loaded; the message is one line naming the problem. */
public final class ImageException extends Exception {
    public ImageException(String message) {
        super(message, null, false, false);
    }
}
