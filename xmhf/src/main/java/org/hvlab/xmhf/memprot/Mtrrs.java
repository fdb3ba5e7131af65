package org.hvlab.xmhf.memprot;

/**
 * The guest's MTRRs as XMHF virtualizes them (docs/xmhf-facts.md "memprot"), and the memory type
 * they give a physical address (SDM Vol.3A 11.11.4): MTRRs off = UC; below 1 MiB the fixed
 * ranges when enabled; else the variable ranges (UC wins, WT beats WB) or the default type.
 */
public final class Mtrrs {
    public static final int DEF_TYPE = 0x2FF, CAP = 0xFE;
    public static final int PHYSBASE0 = 0x200, VARIABLE = 8;
    public static final int[] FIXED = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F};
    public static final int UC = 0, WC = 1, WT = 4, WP = 5, WB = 6;

    private long defType;
    private final long[] base = new long[VARIABLE], mask = new long[VARIABLE];
    private final long[] fixed = new long[FIXED.length];
    private final int maxPhysAddr;

    public Mtrrs(int maxPhysAddr) {
        this.maxPhysAddr = maxPhysAddr;
    }

    /** Whether {@code msr} is an MTRR XMHF virtualizes. */
    public static boolean isMtrr(int msr) {
        if (msr == DEF_TYPE) return true;
        if (msr >= PHYSBASE0 && msr < PHYSBASE0 + 2 * VARIABLE) return true;
        for (int f : FIXED) if (f == msr) return true;
        return false;
    }

    public long read(int msr) {
        if (msr == DEF_TYPE) return defType;
        if (msr >= PHYSBASE0 && msr < PHYSBASE0 + 2 * VARIABLE) {
            int i = (msr - PHYSBASE0) / 2;
            return (msr & 1) == 0 ? base[i] : mask[i];
        }
        for (int k = 0; k < FIXED.length; k++) if (FIXED[k] == msr) return fixed[k];
        throw new IllegalArgumentException("not an MTRR: 0x" + Integer.toHexString(msr));
    }

    public void write(int msr, long value) {
        if (msr == DEF_TYPE) {
            defType = value;
            return;
        }
        if (msr >= PHYSBASE0 && msr < PHYSBASE0 + 2 * VARIABLE) {
            int i = (msr - PHYSBASE0) / 2;
            if ((msr & 1) == 0) base[i] = value;
            else mask[i] = value;
            return;
        }
        for (int k = 0; k < FIXED.length; k++) if (FIXED[k] == msr) fixed[k] = value;
    }

    /** The memory type of physical address {@code pa}. */
    public int typeOf(long pa) {
        if ((defType & (1 << 11)) == 0) return UC;
        if (pa < 0x100000 && (defType & (1 << 10)) != 0) return fixedType(pa);
        long addrMask = ((1L << maxPhysAddr) - 1) & ~0xFFFL;
        int found = -1;
        for (int i = 0; i < VARIABLE; i++) {
            if ((mask[i] & (1 << 11)) == 0) continue;
            long m = mask[i] & addrMask;
            if ((pa & m) != (base[i] & m)) continue;
            int t = (int) base[i] & 0xFF;
            if (found < 0) found = t;
            else if (found != t) {
                if (found == UC || t == UC) found = UC;
                else if ((found == WT && t == WB) || (found == WB && t == WT)) found = WT;
                else found = UC; // overlapping ranges of other types are undefined (11.11.4.1): take the safe one
            }
        }
        return found >= 0 ? found : (int) defType & 0xFF;
    }

    private int fixedType(long pa) {
        int msr, shift;
        if (pa < 0x80000) { msr = 0; shift = (int) (pa >>> 16); }
        else if (pa < 0xA0000) { msr = 1; shift = (int) ((pa - 0x80000) >>> 14); }
        else if (pa < 0xC0000) { msr = 2; shift = (int) ((pa - 0xA0000) >>> 14); }
        else { msr = 3 + (int) ((pa - 0xC0000) >>> 15); shift = (int) (((pa - 0xC0000) >>> 12) & 7); }
        return (int) (fixed[msr] >>> (8 * shift)) & 0xFF;
    }
}
