package org.hvlab.machine.cpu;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Extended page tables (SDM Vol.3C 28.2): the 4-level walk from a guest-physical address to a
 * physical address, with 2 MiB and 1 GiB pages, read/write/execute permissions, memory types,
 * accessed and dirty flags (EPTP bit 6), EPT misconfigurations and EPT violations with their
 * exit qualification.
 *
 * <p>Successful translations are cached as guest-physical mappings tagged by the EP4TA (the
 * PML4 address in the EPTP, SDM 28.3.1). VM entries and exits never invalidate them; only
 * INVEPT does (28.3.3.1). A hypervisor that changes an EPT entry and skips INVEPT therefore
 * sees the guest keep using the old translation, as the SDM allows hardware to. A cached
 * mapping that does not permit an access is walked again before an EPT violation is reported,
 * so only stale permissions that are too generous are observable.
 */
final class Ept {
    static final int R = 1, W = 2, X = 4;
    /** Access kinds, as Paging's. */
    static final int READ = Paging.READ, WRITE = Paging.WRITE, FETCH = Paging.FETCH;
    /** Guest-physical mappings cached per EP4TA, direct mapped. */
    private static final int CACHE_BITS = 8, CACHE_SIZE = 1 << CACHE_BITS, MAX_CONTEXTS = 16;

    private final Cpu c;
    /** Bits 51:MAXPHYADDR are reserved in every EPT entry (28.2.2). */
    private final long rsvdHigh = ((1L << 52) - 1) & ~((1L << Cpuid.MAXPHYADDR) - 1);
    private final Map<Long, long[]> cache = new LinkedHashMap<>(16, 0.75f, true);
    private long[] current;
    private long currentEp4ta = -1;

    /** Permissions (R/W/X) of the last translation, for the combined TLB entry. */
    int lastPerm;

    Ept(Cpu c) {
        this.c = c;
    }

    static long ep4ta(long eptp) {
        return eptp & 0x000F_FFFF_FFFF_F000L;
    }

    /**
     * Translates {@code gpa} for an access of {@code kind}. {@code linear} is the guest linear
     * address being translated, or -1 when there is none (PDPTE loads); {@code finalAccess}
     * says whether this is the access to the translated address itself (qualification bit 8)
     * rather than to a guest paging-structure entry.
     */
    long translate(long gpa, int kind, long linear, boolean finalAccess) {
        long eptp = c.vmx.eptp;
        long ep4ta = ep4ta(eptp);
        long[] cached = cacheFor(ep4ta);
        long gpn = gpa >>> 12;
        int slot = (int) gpn & (CACHE_SIZE - 1);
        int need = kind == WRITE ? W : kind == FETCH ? X : R;
        if (cached[2 * slot] == gpn && (cached[2 * slot + 1] & need) != 0) {
            long e = cached[2 * slot + 1];
            lastPerm = (int) e & 7;
            return (e & ~0xFFFL) | (gpa & 0xFFF);
        }
        boolean ad = (eptp & (1 << 6)) != 0;
        long table = ep4ta;
        int perm = 7;
        long leaf = 0;
        long leafAddr = 0;
        long pageMask = 0;
        long[] addrs = walkAddrs;
        int n = 0;
        for (int level = 4; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long ea = table + ((gpa >>> shift) & 0x1FF) * 8;
            long e = c.mem.read64(ea);
            int p = (int) e & 7;
            if (p == 0) throw violation(gpa, kind, 0, linear, finalAccess);
            boolean large = (e & (1 << 7)) != 0 && (level == 2 || level == 3);
            if (misconfigured(e, level, large)) throw misconfiguration(gpa);
            perm &= p;
            addrs[n++] = ea;
            if (level == 1 || large) {
                leaf = e;
                leafAddr = ea;
                pageMask = (1L << shift) - 1;
                break;
            }
            table = e & 0x000F_FFFF_FFFF_F000L;
        }
        if ((perm & need) == 0) throw violation(gpa, kind, perm, linear, finalAccess);
        if (ad) {
            // accessed flag on every entry used, dirty flag on the leaf for a write (28.2.4)
            for (int i = 0; i < n; i++) {
                long e = c.mem.read64(addrs[i]);
                long upd = e | (1 << 8) | (addrs[i] == leafAddr && kind == WRITE ? 1 << 9 : 0);
                if (upd != e) c.mem.write64(addrs[i], upd);
            }
        }
        long hpa = (leaf & 0x000F_FFFF_FFFF_F000L & ~pageMask) | (gpa & pageMask);
        // a leaf not yet dirty is cached without write permission, so the first write walks again
        int cachedPerm = ad && (c.mem.read64(leafAddr) & (1 << 9)) == 0 ? perm & ~W : perm;
        cached[2 * slot] = gpn;
        cached[2 * slot + 1] = (hpa & ~0xFFFL) | cachedPerm;
        lastPerm = cachedPerm;
        return hpa;
    }

    private final long[] walkAddrs = new long[4];

    /** The physical address EPT maps {@code gpa} to, or -1: a read-only walk (no A/D flags, no caching, no exits). */
    long peek(long gpa) {
        long table = ep4ta(c.vmx.eptp);
        for (int level = 4; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long e = c.mem.read64(table + ((gpa >>> shift) & 0x1FF) * 8);
            if ((e & 7) == 0) return -1;
            if (level == 1 || ((e & (1 << 7)) != 0 && level <= 3)) {
                long mask = (1L << shift) - 1;
                return (e & 0x000F_FFFF_FFFF_F000L & ~mask) | (gpa & mask);
            }
            table = e & 0x000F_FFFF_FFFF_F000L;
        }
        return -1;
    }

    /** The EPT memory type of the leaf that maps {@code gpa} (bits 5:3), or -1 if it is not mapped. */
    int memoryType(long gpa) {
        long table = ep4ta(c.vmx.eptp);
        for (int level = 4; level >= 1; level--) {
            long e = c.mem.read64(table + ((gpa >>> (12 + 9 * (level - 1))) & 0x1FF) * 8);
            if ((e & 7) == 0) return -1;
            if (level == 1 || ((e & (1 << 7)) != 0 && level <= 3)) return (int) (e >>> 3) & 7;
            table = e & 0x000F_FFFF_FFFF_F000L;
        }
        return -1;
    }

    /** EPT misconfigurations (SDM 28.2.3.1): write-only or write/execute entries, reserved bits, reserved memory types. */
    private boolean misconfigured(long e, int level, boolean large) {
        long cap = c.profile.vmx(org.hvlab.machine.vmx.CpuProfile.IA32_VMX_EPT_VPID_CAP);
        int p = (int) e & 7;
        if ((p & 3) == W) return true; // writable but not readable
        if (p == X && (cap & 1) == 0) return true; // execute-only without support
        if ((e & rsvdHigh) != 0) return true;
        if (level == 4 && (e & 0xF8) != 0) return true; // PML4E bits 7:3
        if (level == 3 && large && (cap & (1L << 17)) == 0) return true; // no 1-GByte pages
        if (level == 2 && large && (cap & (1L << 16)) == 0) return true; // no 2-MByte pages
        if ((level == 3 || level == 2) && !large && (e & 0x78) != 0) return true; // bits 6:3 of a non-leaf entry
        if (level == 3 && large && (e & 0x3FFFF000L) != 0) return true; // 1-GByte page: bits 29:12
        if (level == 2 && large && (e & 0x1FF000L) != 0) return true; // 2-MByte page: bits 20:12
        if (level == 1 || large) {
            int type = (int) (e >>> 3) & 7;
            return type == 2 || type == 3 || type == 7;
        }
        return false;
    }

    /**
     * Exit qualification for an EPT violation (SDM Vol.3C 27.2.1, Table 27-7): the access (bits
     * 2:0; a guest paging-structure access counts as a write when EPT A/D flags are on, and then
     * sets both bits 0 and 1), the permissions of the entries walked (5:3), whether the linear
     * address is valid (7) and whether the access was to the final address (8). Bits 11:9 are
     * left 0: the profile does not report advanced exit information (EPT_VPID_CAP bit 22).
     */
    private CpuFault violation(long gpa, int kind, int perm, long linear, boolean finalAccess) {
        long q = switch (kind) {
            case WRITE -> 2;
            case FETCH -> 4;
            default -> 1;
        };
        if (!finalAccess && kind == WRITE && (c.vmx.eptp & (1 << 6)) != 0) q |= 1;
        q |= (long) perm << 3;
        if (linear != -1) {
            q |= 1 << 7;
            if (finalAccess) q |= 1 << 8;
        }
        return CpuFault.ept(CpuFault.EPT_VIOLATION, gpa, linear, q);
    }

    private static CpuFault misconfiguration(long gpa) {
        return CpuFault.ept(CpuFault.EPT_MISCONFIG, gpa, -1, 0);
    }

    private long[] cacheFor(long ep4ta) {
        if (ep4ta == currentEp4ta) return current;
        long[] t = cache.get(ep4ta);
        if (t == null) {
            if (cache.size() >= MAX_CONTEXTS) cache.remove(cache.keySet().iterator().next()); // hardware may drop any cached mapping
            t = newTable();
            cache.put(ep4ta, t);
        }
        current = t;
        currentEp4ta = ep4ta;
        return t;
    }

    private static long[] newTable() {
        long[] t = new long[2 * CACHE_SIZE];
        for (int i = 0; i < CACHE_SIZE; i++) t[2 * i] = -1;
        return t;
    }

    /** INVEPT single-context (28.3.3.1): guest-physical mappings of one EP4TA. */
    void invalidate(long ep4ta) {
        cache.remove(ep4ta);
        if (ep4ta == currentEp4ta) { current = null; currentEp4ta = -1; }
    }

    /** INVEPT all-context. */
    void invalidateAll() {
        cache.clear();
        current = null;
        currentEp4ta = -1;
    }
}
