package org.hvlab.machine.cpu;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hvlab.machine.mem.Page;

/**
 * The processor's linear and combined mappings, tagged as SDM Vol.3C 28.3.1 tags them: by VPID,
 * and for combined mappings (EPT in use) also by EP4TA. The CPU works on one set at a time (the
 * arrays {@link Cpu} indexes on every access); VM entry and exit switch sets.
 *
 * <p>Invalidation follows 28.3.3: with "enable VPID" = 0, VM entries and exits invalidate the
 * mappings of VPID 0; with "enable VPID" = 1 they invalidate nothing, so a guest whose
 * hypervisor forgets INVVPID after changing its page tables (or reuses a VPID for another
 * guest) keeps using the stale translations. INVVPID and INVEPT drop what they name; MOV to
 * CR3 and INVLPG act on the current set.
 */
final class TlbContexts {
    /** One tagged set of TLB entries, indexed by linear page number. */
    static final class Set {
        final int vpid;
        final long ep4ta; // -1: linear mappings (EPT not in use)
        final long[] vpn = new long[Cpu.TLB_SIZE];
        final long[] pa = new long[Cpu.TLB_SIZE];
        final Page[] page = new Page[Cpu.TLB_SIZE];
        final int[] perm = new int[Cpu.TLB_SIZE];

        /** Slots filled since the last flush, so that a flush of a lightly used set is cheap (VM entries and exits without VPID flush twice per round trip). */
        private final int[] filled = new int[FILL_LOG];
        private int nFilled;

        Set(int vpid, long ep4ta) {
            this.vpid = vpid;
            this.ep4ta = ep4ta;
            Arrays.fill(vpn, -1L);
        }

        void noteFilled(int slot) {
            if (nFilled < FILL_LOG) filled[nFilled] = slot;
            nFilled++;
        }

        void flush() {
            if (nFilled > FILL_LOG) {
                Arrays.fill(vpn, -1L);
                Arrays.fill(page, null);
            } else {
                for (int i = 0; i < nFilled; i++) {
                    vpn[filled[i]] = -1L;
                    page[filled[i]] = null;
                }
            }
            nFilled = 0;
        }
    }

    private static final int FILL_LOG = 64;

    static {
        assert FILL_LOG < Cpu.TLB_SIZE;
    }

    /** Hardware may drop cached translations at any time; bounding the sets is such a drop. */
    private static final int MAX_SETS = 32;
    private final Map<Long, Set> sets = new LinkedHashMap<>(16, 0.75f, true);
    private final Cpu c;
    Set current;

    TlbContexts(Cpu c) {
        this.c = c;
        current = get(0, -1);
    }

    private static long key(int vpid, long ep4ta) {
        return ((long) vpid << 48) ^ (ep4ta + 1);
    }

    private Set get(int vpid, long ep4ta) {
        long k = key(vpid, ep4ta);
        Set s = sets.get(k);
        if (s == null) {
            if (sets.size() >= MAX_SETS) evictOne();
            s = new Set(vpid, ep4ta);
            sets.put(k, s);
        }
        return s;
    }

    private void evictOne() {
        for (Iterator<Set> it = sets.values().iterator(); it.hasNext(); ) {
            if (it.next() != current) {
                it.remove();
                return;
            }
        }
    }

    /** Makes the set for (vpid, ep4ta) current. */
    void switchTo(int vpid, long ep4ta) {
        if (current.vpid == vpid && current.ep4ta == ep4ta) return;
        Set s = get(vpid, ep4ta);
        if (s != current) {
            current = s;
            c.tlbSwitched();
        }
    }

    /** Invalidates every set that matches; the current set is flushed in place. */
    private void invalidate(java.util.function.Predicate<Set> which) {
        for (Iterator<Set> it = sets.values().iterator(); it.hasNext(); ) {
            Set s = it.next();
            if (!which.test(s)) continue;
            if (s == current) c.flushTlb();
            else it.remove();
        }
    }

    /** VM entry/exit with "enable VPID" = 0: linear and combined mappings of VPID 0 (28.3.3.1). */
    void invalidateVpid0() {
        invalidate(s -> s.vpid == 0);
    }

    /** INVVPID single-context (type 1, and type 3, which may invalidate more than it must). */
    void invalidateVpid(int vpid) {
        invalidate(s -> s.vpid == vpid);
    }

    /** INVVPID all-context: every VPID except 0 (SDM Vol.3C 30.3 INVVPID). */
    void invalidateAllVpids() {
        invalidate(s -> s.vpid != 0);
    }

    /** INVVPID individual-address: one linear page in every set of {@code vpid}. */
    void invalidateAddress(int vpid, long linear) {
        long vpn = linear >>> 12;
        int i = (int) vpn & (Cpu.TLB_SIZE - 1);
        for (Set s : sets.values()) {
            if (s.vpid == vpid && s.vpn[i] == vpn) {
                s.vpn[i] = -1;
                s.page[i] = null;
            }
        }
        if (current.vpid == vpid) c.tlbSwitched(); // drops the fetch cache too
    }

    /** INVEPT single-context: combined mappings of one EP4TA, for all VPIDs. */
    void invalidateEp4ta(long ep4ta) {
        invalidate(s -> s.ep4ta == ep4ta);
    }

    /** INVEPT all-context: every combined mapping. */
    void invalidateAllEpt() {
        invalidate(s -> s.ep4ta != -1);
    }
}
