package org.hvlab.machine.devices;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * COM1 as docs/boot-protocol.md defines it: a byte written to 0x3F8 is output; 0x3FD (line status)
 * reads 0x60, transmitter empty; other COM1 registers accept writes and read 0. Every byte is
 * kept (for summaries and tests) and also passed on to an optional live stream.
 */
public final class SerialPort {
    public static final int COM1 = 0x3F8;

    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    /** Only what guests wrote to the port (not a Java hypervisor's own lines). */
    private final ByteArrayOutputStream guestCaptured = new ByteArrayOutputStream();
    private final OutputStream live;
    /** Observer of each byte with the CPU that wrote it, for traces; may be null. */
    public ByteListener listener;

    public interface ByteListener {
        void written(int cpu, int b);
    }

    public SerialPort(OutputStream live) {
        this.live = live;
    }

    public static boolean owns(int port) {
        return port >= COM1 && port < COM1 + 8;
    }

    public int in(int port) {
        return port == COM1 + 5 ? 0x60 : 0;
    }

    public void out(int cpu, int port, int value) {
        if (port != COM1) return;
        guestCaptured.write(value & 0xFF);
        emit(cpu, value & 0xFF);
    }

    private void emit(int cpu, int b) {
        captured.write(b);
        if (listener != null) listener.written(cpu, b);
        if (live != null) {
            try {
                live.write(b);
                if (b == '\n') live.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Text from a hypervisor written in Java, byte by byte as if written to COM1 by {@code cpu}. */
    public void write(int cpu, String text) {
        for (byte b : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) emit(cpu, b & 0xFF);
    }

    public void flush() {
        if (live == null) return;
        try {
            live.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes written so far (guests and hypervisor), without copying them. */
    public int written() {
        return captured.size();
    }

    public byte[] bytes() {
        return captured.toByteArray();
    }

    public String text() {
        return captured.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** The bytes guests wrote through the port, without what a Java hypervisor printed among them. */
    public String guestText() {
        return guestCaptured.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
