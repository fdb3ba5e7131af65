package org.hvlab.machine.cpu;

/**
 * The page walker (SDM Vol.3A chapter 4): no paging, 32-bit paging (4 KiB and 4 MiB pages with
 * PSE-36), PAE paging and 4-level paging (4 KiB, 2 MiB, 1 GiB). Sets accessed and dirty flags,
 * checks U/S, R/W (with CR0.WP), NX (with EFER.NXE), SMEP/SMAP and reserved bits, raises #PF
 * with the architectural error code and CR2, and fills the CPU's software TLB.
 */
final class Paging {
    static final int READ = 0, WRITE = 1, FETCH = 2, IMPLICIT = 4;
    private static final long P = 1, RW = 2, US = 4, A = 1 << 5, D = 1 << 6, PS = 1 << 7;
    private static final long XD = 1L << 63;
    // #PF error code bits (SDM Vol.3A 4.7)
    private static final int PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_I = 16;

    private final Cpu c;
    /** Physical address bits 51:MAXPHYADDR must be zero in paging-structure entries. */
    private final long rsvdHigh = ((1L << 52) - 1) & ~((1L << Cpuid.MAXPHYADDR) - 1);

    Paging(Cpu c) {
        this.c = c;
    }

    /** Walks the tables for {@code la}, fills TLB slot {@code slot}, returns the physical address. */
    long walk(long la, int access, int slot) {
        int kind = access & 3;
        boolean implicit = (access & IMPLICIT) != 0;
        boolean user = c.cpl == 3 && !implicit;
        long vpn = la >>> 12;
        boolean ept = c.vmx.nonRoot && c.vmx.ept;
        if ((c.cr0 & Cpu.CR0_PG) == 0) {
            long pa = la & 0xFFFFFFFFL;
            int perm = Cpu.P_RS | Cpu.P_WS | Cpu.P_XS | Cpu.P_RU | Cpu.P_WU | Cpu.P_XU;
            if (ept) { // without paging the linear address is the guest-physical address (SDM Vol.3C 28.2.1)
                pa = c.ept.translate(pa, kind, la, true);
                perm = eptPermissions(perm);
            }
            fill(slot, vpn, pa & ~0xFFFL, perm);
            return pa;
        }
        boolean eptAd = ept && (c.vmx.eptp & (1 << 6)) != 0;
        // guest paging-structure accesses are reads, or writes when EPT A/D flags are on (28.2.3.2)
        int structAccess = eptAd ? WRITE : READ;
        boolean nxe = (c.efer & Cpu.EFER_NXE) != 0;
        long rsvdXd = nxe ? 0 : XD;
        // permissions accumulated over the levels
        boolean allUser = true, allWrite = true, noExec = false;
        long[] used = entriesUsed;
        long[] usedAddr = entriesAddr;
        int n = 0;
        long pageBase;
        long pageMask; // offset bits within the final page
        long leaf;
        if ((c.cr4 & Cpu.CR4_PAE) == 0) {
            // 32-bit paging
            long pdeA = host((c.cr3 & 0xFFFFF000L) + ((la >>> 22) & 0x3FF) * 4, ept, structAccess, la);
            long pde = c.mem.read32(pdeA) & 0xFFFFFFFFL;
            if ((pde & P) == 0) throw pf(la, 0, kind, user);
            used[n] = pde; usedGpa[n] = lastGpa; usedAddr[n++] = pdeA | 0x4000_0000_0000_0000L; // marks a 4-byte entry
            allUser &= (pde & US) != 0; allWrite &= (pde & RW) != 0;
            if ((pde & PS) != 0 && (c.cr4 & Cpu.CR4_PSE) != 0) {
                if ((pde & (1 << 21)) != 0) throw pf(la, PF_RSVD | PF_P, kind, user);
                pageBase = (pde & 0xFFC00000L) | (((pde >>> 13) & 0xFF) << 32);
                pageMask = 0x3FFFFF;
                leaf = pde;
            } else {
                long pteA = host((pde & 0xFFFFF000L) + ((la >>> 12) & 0x3FF) * 4, ept, structAccess, la);
                long pte = c.mem.read32(pteA) & 0xFFFFFFFFL;
                if ((pte & P) == 0) throw pf(la, 0, kind, user);
                used[n] = pte; usedGpa[n] = lastGpa; usedAddr[n++] = pteA | 0x4000_0000_0000_0000L;
                allUser &= (pte & US) != 0; allWrite &= (pte & RW) != 0;
                pageBase = pte & 0xFFFFF000L;
                pageMask = 0xFFF;
                leaf = pte;
            }
        } else {
            long table;
            int level;
            if ((c.efer & Cpu.EFER_LMA) != 0) {
                table = c.cr3 & 0x000FFFFFFFFFF000L;
                level = 4;
            } else {
                // PAE: the PDPTE selected by bits 31:30 (SDM Vol.3A 4.4.1)
                long pdpteA = host((c.cr3 & 0xFFFFFFE0L) + ((la >>> 30) & 3) * 8, ept, READ, la);
                long pdpte = c.mem.read64(pdpteA);
                if ((pdpte & P) == 0) throw pf(la, 0, kind, user);
                if ((pdpte & (rsvdHigh | 0x1E6)) != 0) throw pf(la, PF_RSVD | PF_P, kind, user);
                table = pdpte & 0x000FFFFFFFFFF000L;
                level = 2;
            }
            for (;;) {
                int shift = 12 + 9 * (level - 1);
                long ea = host(table + ((la >>> shift) & 0x1FF) * 8, ept, structAccess, la);
                long e = c.mem.read64(ea);
                if ((e & P) == 0) throw pf(la, 0, kind, user);
                if ((e & (rsvdHigh | rsvdXd)) != 0) throw pf(la, PF_RSVD | PF_P, kind, user);
                boolean large = (e & PS) != 0 && level <= 3;
                if ((e & PS) != 0 && level == 4) throw pf(la, PF_RSVD | PF_P, kind, user);
                if (large && level == 3 && (e & 0x3FFFE000L) != 0) throw pf(la, PF_RSVD | PF_P, kind, user);
                if (large && level == 2 && (e & 0x1FE000L) != 0) throw pf(la, PF_RSVD | PF_P, kind, user);
                used[n] = e; usedGpa[n] = lastGpa; usedAddr[n++] = ea;
                allUser &= (e & US) != 0;
                allWrite &= (e & RW) != 0;
                noExec |= nxe && (e & XD) != 0;
                if (level == 1 || large) {
                    pageMask = (1L << shift) - 1;
                    pageBase = e & 0x000FFFFFFFFFF000L & ~pageMask;
                    leaf = e;
                    break;
                }
                table = e & 0x000FFFFFFFFFF000L;
                level--;
            }
        }
        // permissions (SDM Vol.3A 4.6)
        boolean wp = (c.cr0 & Cpu.CR0_WP) != 0;
        boolean smep = (c.cr4 & Cpu.CR4_SMEP) != 0, smap = (c.cr4 & Cpu.CR4_SMAP) != 0;
        boolean ac = (c.fl.bits & LazyFlags.AC) != 0;
        int perm = Cpu.P_RS | Cpu.P_XS;
        if (!wp || allWrite) perm |= Cpu.P_WS;
        if (allUser) {
            perm |= Cpu.P_RU | Cpu.P_XU;
            if (allWrite) perm |= Cpu.P_WU;
            if (smep) perm &= ~Cpu.P_XS;
            if (smap && (implicit || !ac)) perm &= ~(Cpu.P_RS | Cpu.P_WS);
        }
        if (noExec) perm &= ~(Cpu.P_XS | Cpu.P_XU);
        int need = switch (kind) {
            case WRITE -> user ? Cpu.P_WU : Cpu.P_WS;
            case FETCH -> user ? Cpu.P_XU : Cpu.P_XS;
            default -> user ? Cpu.P_RU : Cpu.P_RS;
        };
        if ((perm & need) == 0) throw pf(la, PF_P, kind, user);
        // accessed flags on every entry used, dirty on the leaf for writes
        for (int i = 0; i < n; i++) {
            long e = used[i];
            long upd = e | A;
            if (i == n - 1 && kind == WRITE) upd |= D;
            if (upd != e) {
                long addr = usedAddr[i];
                // setting A/D is a write to the guest paging structure: EPT must allow it (28.2.3.2)
                if (ept && !eptAd) c.ept.translate(usedGpa[i], WRITE, la, false);
                if ((addr & 0x4000_0000_0000_0000L) != 0) c.mem.write32(addr & 0xFFFFFFFFFFFFL, (int) upd);
                else c.mem.write64(addr, upd);
                if (i == n - 1) leaf = upd;
            }
        }
        // a page not yet dirty is entered without write permission, so the first write walks again
        if ((leaf & D) == 0) perm &= ~(Cpu.P_WS | Cpu.P_WU);
        long pa = pageBase | (la & pageMask);
        if (ept) {
            pa = c.ept.translate(pa, kind, la, true);
            perm = eptPermissions(perm);
        }
        fill(slot, vpn, pa & ~0xFFFL, perm);
        return pa;
    }

    /**
     * The physical address of {@code la} as the current paging (and EPT) maps it, or -1: a
     * read-only walk without accessed/dirty updates, TLB fills, faults or exits, for observers
     * (oracles, reports) that must not change the run they look at.
     */
    long peek(long la) {
        boolean ept = c.vmx.nonRoot && c.vmx.ept;
        if ((c.cr0 & Cpu.CR0_PG) == 0) return peekGpa(la & 0xFFFFFFFFL, ept);
        long pageMask;
        long e;
        if ((c.cr4 & Cpu.CR4_PAE) == 0) {
            long pde = peekEntry((c.cr3 & 0xFFFFF000L) + ((la >>> 22) & 0x3FF) * 4, ept, 4);
            if (pde < 0 || (pde & P) == 0) return -1;
            if ((pde & PS) != 0 && (c.cr4 & Cpu.CR4_PSE) != 0) return peekGpa((pde & 0xFFC00000L) | (la & 0x3FFFFF), ept);
            long pte = peekEntry((pde & 0xFFFFF000L) + ((la >>> 12) & 0x3FF) * 4, ept, 4);
            if (pte < 0 || (pte & P) == 0) return -1;
            return peekGpa((pte & 0xFFFFF000L) | (la & 0xFFF), ept);
        }
        long table;
        int level;
        if ((c.efer & Cpu.EFER_LMA) != 0) {
            table = c.cr3 & 0x000FFFFFFFFFF000L;
            level = 4;
        } else {
            long pdpte = peekEntry((c.cr3 & 0xFFFFFFE0L) + ((la >>> 30) & 3) * 8, ept, 8);
            if (pdpte < 0 || (pdpte & P) == 0) return -1;
            table = pdpte & 0x000FFFFFFFFFF000L;
            level = 2;
        }
        for (;;) {
            int shift = 12 + 9 * (level - 1);
            e = peekEntry(table + ((la >>> shift) & 0x1FF) * 8, ept, 8);
            if (e < 0 || (e & P) == 0) return -1;
            if (level == 1 || ((e & PS) != 0 && level <= 3)) {
                pageMask = (1L << shift) - 1;
                return peekGpa((e & 0x000FFFFFFFFFF000L & ~pageMask) | (la & pageMask), ept);
            }
            table = e & 0x000FFFFFFFFFF000L;
            level--;
        }
    }

    private long peekEntry(long gpa, boolean ept, int size) {
        long pa = peekGpa(gpa, ept);
        if (pa < 0 || !c.mem.isRam(pa)) return -1;
        return size == 4 ? c.mem.read32(pa) & 0xFFFFFFFFL : c.mem.read64(pa);
    }

    private long peekGpa(long gpa, boolean ept) {
        return ept ? c.ept.peek(gpa) : gpa;
    }

    /** A guest paging-structure address: guest-physical under EPT, translated to the physical address read. */
    private long host(long gpa, boolean ept, int access, long la) {
        lastGpa = gpa;
        return ept ? c.ept.translate(gpa, access, la, false) : gpa;
    }

    /** The guest-physical address of the paging-structure entry last read, and of each entry used. */
    private long lastGpa;
    private final long[] usedGpa = new long[5];

    /** Restricts combined permissions to what the EPT leaf allows (the TLB caches combined mappings, 28.3.1). */
    private int eptPermissions(int perm) {
        int e = c.ept.lastPerm;
        if ((e & Ept.R) == 0) perm &= ~(Cpu.P_RS | Cpu.P_RU);
        if ((e & Ept.W) == 0) perm &= ~(Cpu.P_WS | Cpu.P_WU);
        if ((e & Ept.X) == 0) perm &= ~(Cpu.P_XS | Cpu.P_XU);
        return perm;
    }

    private final long[] entriesUsed = new long[5];
    private final long[] entriesAddr = new long[5];

    private void fill(int slot, long vpn, long paPage, int perm) {
        c.tlbs.current.noteFilled(slot);
        c.tlbVpn[slot] = vpn;
        c.tlbPa[slot] = paPage;
        c.tlbPerm[slot] = perm;
        c.tlbPage[slot] = c.apic.mmioHit(paPage) ? null : c.mem.page(paPage);
    }

    private CpuFault pf(long la, int bits, int kind, boolean user) {
        int err = bits;
        if (kind == WRITE) err |= PF_W;
        if (user) err |= PF_U;
        boolean nx = (c.efer & Cpu.EFER_NXE) != 0 && (c.cr4 & Cpu.CR4_PAE) != 0;
        if (kind == FETCH && (nx || (c.cr4 & Cpu.CR4_SMEP) != 0)) err |= PF_I; // SDM Vol.3A 4.7
        CpuFault f = CpuFault.withError(CpuFault.PF, err);
        f.address = la; // CR2 is written when the #PF is delivered (not on a #PF VM exit, SDM 27.1)
        return f;
    }
}
