package org.hvlab.xmhf.hypapp.trustvisor;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.hvlab.machine.host.HostCpu;
import org.hvlab.xmhf.runtime.HypervisorMemory;

/**
 * The page tables TrustVisor builds for a PAL, in the hypapp's pool of XMHF memory: 4-level
 * guest page tables that map only the PAL's sections at their guest-virtual addresses (so the
 * OS's IDT, GDT and everything else are absent while the PAL runs, SDM Vol.3A 4.5), and an EPT
 * that maps only the PAL's pages and those page tables (SDM Vol.3C 28.2.2). Code is
 * read+execute in EPT, everything else read+write.
 */
final class PalTables {
    static final long P = 1, RW = 2, US = 4, A = 1 << 5, D = 1 << 6;
    static final long EPT_R = 1, EPT_W = 2, EPT_X = 4, EPT_WB = 6 << 3;

    private final HostCpu cpu;
    private final HypervisorMemory mem;
    private final BitSet used;
    final List<Integer> pages = new ArrayList<>();

    PalTables(HostCpu cpu, HypervisorMemory mem, BitSet used) {
        this.cpu = cpu;
        this.mem = mem;
        this.used = used;
    }

    /** A zeroed pool page, or -1 when the pool is exhausted. */
    long newPage() {
        int i = used.nextClearBit(0);
        if (i >= mem.hypappPages()) return -1;
        used.set(i);
        pages.add(i);
        long pa = mem.hypappPage(i);
        cpu.zero(pa, 0x1000);
        return pa;
    }

    /** Returns the pages taken so far to the pool (registration failed, or unregistration). */
    void release() {
        for (int i : pages) used.clear(i);
        pages.clear();
    }

    /** Maps guest-virtual {@code gva} to {@code gpa} in the guest tables at {@code pml4}; false if the pool ran out. */
    boolean mapGuest(long pml4, long gva, long gpa, boolean writable, boolean user) {
        long table = pml4;
        for (int level = 4; level > 1; level--) {
            long slot = table + 8L * ((gva >>> (12 + 9 * (level - 1))) & 0x1FF);
            long e = cpu.read64(slot);
            if ((e & P) == 0) {
                long next = newPage();
                if (next < 0) return false;
                cpu.write64(slot, next | P | RW | (user ? US : 0) | A);
                table = next;
            } else {
                table = e & GuestMemory.ADDR;
            }
        }
        cpu.write64(table + 8L * ((gva >>> 12) & 0x1FF), (gpa & GuestMemory.ADDR) | P | (writable ? RW : 0) | (user ? US : 0) | A | D);
        return true;
    }

    /** Maps guest-physical {@code gpa} (identity) in the EPT at {@code pml4}; false if the pool ran out. */
    boolean mapEpt(long pml4, long gpa, long perms) {
        long table = pml4;
        for (int level = 4; level > 1; level--) {
            long slot = table + 8L * ((gpa >>> (12 + 9 * (level - 1))) & 0x1FF);
            long e = cpu.read64(slot);
            if ((e & 7) == 0) {
                long next = newPage();
                if (next < 0) return false;
                cpu.write64(slot, next | EPT_R | EPT_W | EPT_X);
                table = next;
            } else {
                table = e & GuestMemory.ADDR;
            }
        }
        cpu.write64(table + 8L * ((gpa >>> 12) & 0x1FF), (gpa & GuestMemory.ADDR) | perms | EPT_WB);
        return true;
    }
}
