package org.hvlab.machine.cpu;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.hvlab.machine.mem.Page;
import org.hvlab.machine.mem.PhysicalMemory;

/**
 * The isolation oracle's eyes (issue 6): physical pages that only one EPT context may touch
 * (TrustVisor's PAL pages: only through the PAL's own EPT). Every guest access to a watched page
 * in VMX non-root operation is checked where it really happens — after the TLB, so a stale
 * translation that a missing INVEPT left behind is caught as well as a wrong EPT entry. Watched
 * pages take the TLB's slow path and leave the fetch cache (SDM Vol.3C 29.4: what the TLB holds
 * is still used, so the translation itself is not dropped).
 */
public final class MemoryWatch {
    private final Map<Long, Long> owner = new HashMap<>();
    private final PhysicalMemory mem;
    private final Cpu[] cpus;
    private final BiConsumer<Cpu, String> breach;

    public MemoryWatch(PhysicalMemory mem, Cpu[] cpus, BiConsumer<Cpu, String> breach) {
        this.mem = mem;
        this.cpus = cpus;
        this.breach = breach;
    }

    /** Only guest accesses through the EPT whose PML4 is at {@code ep4ta} may touch the page of {@code pa} from now on. */
    public void watch(long pa, long ep4ta) {
        Page p = mem.page(pa);
        if (p == null) return;
        owner.put(pa >>> 12, ep4ta & ~0xFFFL);
        p.watched = true;
        for (Cpu c : cpus) c.unlinkPage(p);
    }

    public void unwatch(long pa) {
        owner.remove(pa >>> 12);
        Page p = mem.page(pa);
        if (p != null) p.watched = false;
    }

    public boolean watched(long pa) {
        return owner.containsKey(pa >>> 12);
    }

    /** A guest access by {@code c} to {@code pa} ({@code kind}: Paging READ, WRITE or FETCH). */
    void check(Cpu c, long pa, int kind) {
        if (!c.vmx.nonRoot) return;
        Long allowed = owner.get(pa >>> 12);
        if (allowed == null || (c.vmx.eptp & ~0xFFFL) == allowed) return;
        String what = kind == Paging.WRITE ? "write" : kind == Paging.FETCH ? "instruction fetch" : "read";
        breach.accept(c, String.format("CPU %d: guest %s of 0x%x at rip=0x%x under EPT 0x%x; the page belongs to EPT 0x%x",
                c.index, what, pa, c.rip, c.vmx.eptp & ~0xFFFL, allowed));
    }
}
