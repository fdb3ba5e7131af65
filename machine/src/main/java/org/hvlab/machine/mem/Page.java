package org.hvlab.machine.mem;

/**
 * One 4 KiB page of simulated RAM. {@code code} holds the instructions decoded from this page
 * (owned by the CPU package); any write to the page drops it, so self-modifying code is seen.
 */
public final class Page {
    public static final int SHIFT = 12;
    public static final int SIZE = 1 << SHIFT;
    public static final int MASK = SIZE - 1;

    public final byte[] data = new byte[SIZE];
    /** Physical page number (address >>> 12). */
    public final long number;
    /** Decoded-instruction cache for this page, or null. Written by the CPU, cleared by writes. */
    public Object[] code;
    /** An isolation watch covers this page (cpu.MemoryWatch): accesses take the checked slow path. */
    public boolean watched;

    Page(long number) {
        this.number = number;
    }
}
