package org.hvlab.machine.boot;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/** Address-to-name lookup from an ELF symbol table: {@code nmi_entry+0x3}. */
public final class Symbols {
    public static final Symbols NONE = new Symbols(new TreeMap<>());

    private final long[] addrs;
    private final String[] names;
    private final Map<String, Long> byName = new java.util.HashMap<>();

    public Symbols(TreeMap<Long, String> table) {
        addrs = new long[table.size()];
        names = new String[table.size()];
        int i = 0;
        for (var e : table.entrySet()) {
            addrs[i] = e.getKey();
            names[i++] = e.getValue();
            byName.put(e.getValue(), e.getKey());
        }
    }

    /** The symbol at or below the address, as name or name+0xoff; null if none. */
    public String lookup(long addr) {
        int i = Arrays.binarySearch(addrs, addr);
        if (i < 0) i = -i - 2;
        if (i < 0) return null;
        long off = addr - addrs[i];
        if (off > 0x100000) return null; // too far from any symbol to be meaningful
        return off == 0 ? names[i] : names[i] + "+0x" + Long.toHexString(off);
    }

    /** The address of a symbol, or -1. */
    public long address(String name) {
        Long a = byName.get(name);
        return a == null ? -1 : a;
    }

    public int size() {
        return addrs.length;
    }
}
