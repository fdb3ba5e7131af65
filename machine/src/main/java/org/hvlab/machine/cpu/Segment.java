package org.hvlab.machine.cpu;

/**
 * A segment register with its hidden part. {@code attr} uses the layout of the VMCS
 * access-rights fields (SDM Vol.3C 24.4.1): 3:0 type, 4 S, 6:5 DPL, 7 P, 12 AVL, 13 L,
 * 14 D/B, 15 G, 16 unusable.
 */
public final class Segment {
    public static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
    public static final int UNUSABLE = 1 << 16;
    public static final String[] NAMES = {"ES", "CS", "SS", "DS", "FS", "GS"};

    public int selector;
    public long base;
    /** Limit in bytes (granularity applied), 32 bits unsigned. */
    public long limit;
    public int attr;

    public Segment() {
        realMode(0);
    }

    public void realMode(int sel) {
        selector = sel & 0xFFFF;
        base = (long) selector << 4;
        limit = 0xFFFF;
        attr = 0x93; // present, S, read/write accessed data
    }

    public void set(int sel, long base, long limit, int attr) {
        this.selector = sel;
        this.base = base;
        this.limit = limit;
        this.attr = attr;
    }

    public void copyFrom(Segment o) {
        set(o.selector, o.base, o.limit, o.attr);
    }

    public int type() { return attr & 0xF; }
    public boolean system() { return (attr & 0x10) == 0; }
    public int dpl() { return (attr >> 5) & 3; }
    public boolean present() { return (attr & 0x80) != 0; }
    public boolean longMode() { return (attr & 0x2000) != 0; }
    public boolean big() { return (attr & 0x4000) != 0; }
    public boolean unusable() { return (attr & UNUSABLE) != 0; }
    public boolean isCode() { return (attr & 0x18) == 0x18; }

    /** Decode an 8-byte descriptor into this register's hidden part (SDM Vol.3A 3.4.5). */
    public void loadDescriptor(int sel, long d) {
        long b = ((d >>> 16) & 0xFFFFFF) | (((d >>> 56) & 0xFF) << 24);
        long lim = (d & 0xFFFF) | (((d >>> 48) & 0xF) << 16);
        int a = (int) ((d >>> 40) & 0xFF) | (int) (((d >>> 52) & 0xF) << 12);
        if ((a & 0x8000) != 0) lim = (lim << 12) | 0xFFF;
        // loading a code or data segment sets its accessed bit (SDM Vol.3A 3.4.5.1); the caller
        // writes it to the descriptor in memory, the register holds it from now on (and a VM
        // exit saves it in the access rights, where entry checks require it for CS)
        if ((a & 0x10) != 0) a |= 1;
        set(sel, b, lim, a);
    }

    @Override
    public String toString() {
        return String.format("sel=%04x base=%x limit=%x attr=%x", selector, base, limit, attr);
    }
}
