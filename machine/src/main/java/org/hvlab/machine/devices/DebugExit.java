package org.hvlab.machine.devices;

/** The debug-exit port (docs/boot-protocol.md): an OUT of any size with value v ends the run with status v &amp; 0xFF. */
public final class DebugExit {
    public static final int PORT = 0xF4;

    private DebugExit() {}

    public static int status(int value) {
        return value & 0xFF;
    }
}
