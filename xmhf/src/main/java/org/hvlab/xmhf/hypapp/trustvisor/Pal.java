package org.hvlab.xmhf.hypapp.trustvisor;

import java.util.List;

/**
 * One registered PAL (TrustVisor's whitelist entry, {@code whitelist[i]} in scode.c): its
 * sections with the guest-physical page behind each guest-virtual page, its parameters, its
 * entry point (virtual and physical, the pair an entry is checked against), the guest page
 * tables and EPT TrustVisor built for it, and the CPU running it (or -1).
 */
final class Pal {
    static final int CODE = 1, DATA = 2, STACK = 3, PARAM = 4;
    static final int INTEGER = 1, POINTER = 2;

    record Section(int type, long gva, long size, long[] gpas) {
        boolean contains(long la) {
            return la >= gva && la - gva < size;
        }

        long gpaOf(long la) {
            return gpas[(int) ((la - gva) >>> 12)] | (la & 0xFFF);
        }
    }

    record Param(int type, int size) {}

    final int id;
    final long gcr3;
    final long entryV, entryP;
    final boolean user;
    final List<Section> sections;
    final List<Param> params;
    /** Pool pages holding this PAL's guest page tables and EPT. */
    final List<Integer> poolPages;
    final long palCr3, eptp;
    int runningOn = -1;

    Pal(int id, long gcr3, long entryV, long entryP, boolean user, List<Section> sections, List<Param> params, List<Integer> poolPages,
            long palCr3, long eptp) {
        this.id = id;
        this.gcr3 = gcr3;
        this.entryV = entryV;
        this.entryP = entryP;
        this.user = user;
        this.sections = sections;
        this.params = params;
        this.poolPages = poolPages;
        this.palCr3 = palCr3;
        this.eptp = eptp;
    }

    Section section(int type) {
        for (Section s : sections) if (s.type() == type) return s;
        return null;
    }

    /** The section holding guest-virtual {@code la}, or null. */
    Section at(long la) {
        for (Section s : sections) if (s.contains(la)) return s;
        return null;
    }

    /** Whether guest-physical {@code gpa} is one of this PAL's pages. */
    boolean ownsPage(long gpa) {
        for (Section s : sections) for (long g : s.gpas()) if (g == (gpa & ~0xFFFL)) return true;
        return false;
    }
}
