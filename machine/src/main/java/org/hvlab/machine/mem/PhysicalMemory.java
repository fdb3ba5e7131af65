package org.hvlab.machine.mem;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Sparse physical RAM: pages are allocated on first touch, so a machine with gigabytes of RAM
 * costs only what its guests use. RAM is flat from 0 to {@link #size()} (as the reference
 * runner hwrun lays it out); addresses at or above the size are not RAM.
 */
public final class PhysicalMemory {
    /** 64 GiB: above this the sparse table itself gets unreasonable, and no scenario needs it. */
    public static final long MAX_SIZE = 64L << 30;
    private static final int CHUNK_SHIFT = 10; // 1024 pages = 4 MiB per chunk

    static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private final long size;
    private final Page[][] chunks;

    public PhysicalMemory(long size) {
        if (size < (2L << 20) || size > MAX_SIZE || (size & Page.MASK) != 0) {
            throw new IllegalArgumentException("memory size must be a multiple of 4 KiB between 2 MiB and 64 GiB, got " + size);
        }
        this.size = size;
        long pages = size >>> Page.SHIFT;
        this.chunks = new Page[(int) ((pages + (1 << CHUNK_SHIFT) - 1) >>> CHUNK_SHIFT)][];
    }

    public long size() {
        return size;
    }

    public boolean isRam(long address) {
        return address >= 0 && address < size;
    }

    /** The page holding {@code address}, allocated on first use; null if the address is not RAM. */
    public Page page(long address) {
        if (address < 0 || address >= size) return null;
        long pn = address >>> Page.SHIFT;
        int ci = (int) (pn >>> CHUNK_SHIFT);
        Page[] chunk = chunks[ci];
        if (chunk == null) chunk = chunks[ci] = new Page[1 << CHUNK_SHIFT];
        int pi = (int) (pn & ((1 << CHUNK_SHIFT) - 1));
        Page p = chunk[pi];
        if (p == null) p = chunk[pi] = new Page(pn);
        return p;
    }

    // ---- plain accessors used by loaders, host software and slow paths; non-RAM reads 0xFF.., writes dropped

    public int read8(long a) {
        Page p = page(a);
        return p == null ? 0xFF : p.data[(int) (a & Page.MASK)] & 0xFF;
    }

    public void write8(long a, int v) {
        Page p = page(a);
        if (p == null) return;
        p.data[(int) (a & Page.MASK)] = (byte) v;
        p.code = null;
    }

    public long read(long a, int bytes) {
        int off = (int) (a & Page.MASK);
        if (off + bytes <= Page.SIZE) {
            Page p = page(a);
            if (p != null) return get(p.data, off, bytes);
        }
        long v = 0;
        for (int i = 0; i < bytes; i++) v |= (long) read8(a + i) << (8 * i);
        return v;
    }

    public void write(long a, int bytes, long v) {
        int off = (int) (a & Page.MASK);
        if (off + bytes <= Page.SIZE) {
            Page p = page(a);
            if (p == null) return;
            put(p.data, off, bytes, v);
            p.code = null;
            return;
        }
        for (int i = 0; i < bytes; i++) write8(a + i, (int) (v >>> (8 * i)));
    }

    public long read64(long a) { return read(a, 8); }
    public int read32(long a) { return (int) read(a, 4); }
    public void write64(long a, long v) { write(a, 8, v); }
    public void write32(long a, int v) { write(a, 4, v & 0xFFFFFFFFL); }

    /** Copies page by page (bytes beyond RAM are dropped), invalidating each page's decoded code. */
    public void writeBytes(long a, byte[] src, int off, int len) {
        int done = 0;
        while (done < len) {
            long at = a + done;
            int n = (int) Math.min(len - done, Page.SIZE - (at & Page.MASK));
            Page p = page(at);
            if (p != null) {
                System.arraycopy(src, off + done, p.data, (int) (at & Page.MASK), n);
                p.code = null;
            }
            done += n;
        }
    }

    /** Copies page by page; bytes beyond RAM read as 0xFF. */
    public byte[] readBytes(long a, int len) {
        byte[] b = new byte[len];
        int done = 0;
        while (done < len) {
            long at = a + done;
            int n = (int) Math.min(len - done, Page.SIZE - (at & Page.MASK));
            Page p = isRam(at) ? page(at) : null;
            if (p != null) System.arraycopy(p.data, (int) (at & Page.MASK), b, done, n);
            else java.util.Arrays.fill(b, done, done + n, (byte) 0xFF);
            done += n;
        }
        return b;
    }

    /** Little-endian read of 1, 2, 4 or 8 bytes from a page array (caller checked bounds). */
    public static long get(byte[] d, int off, int bytes) {
        return switch (bytes) {
            case 1 -> d[off] & 0xFFL;
            case 2 -> (short) SHORT.get(d, off) & 0xFFFFL;
            case 4 -> (int) INT.get(d, off) & 0xFFFFFFFFL;
            default -> (long) LONG.get(d, off);
        };
    }

    public static void put(byte[] d, int off, int bytes, long v) {
        switch (bytes) {
            case 1 -> d[off] = (byte) v;
            case 2 -> SHORT.set(d, off, (short) v);
            case 4 -> INT.set(d, off, (int) v);
            default -> LONG.set(d, off, v);
        }
    }
}
