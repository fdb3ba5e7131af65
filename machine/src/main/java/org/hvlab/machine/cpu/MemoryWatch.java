package org.hvlab.machine.cpu;

import java.util.HashMap;
import java.util.Map;
import org.hvlab.machine.RunEnding;
import org.hvlab.machine.events.MachineEvent;
import org.hvlab.machine.mem.Page;
import org.hvlab.machine.mem.PhysicalMemory;

/**
 * The isolation oracle's eyes (issue 6): physical pages that only one EPT context may touch
 * (TrustVisor's PAL pages: only through the PAL's own EPT). Every guest access to a watched page
 * in VMX non-root operation is checked where it really happens — after the TLB, so a stale
 * translation that a missing INVEPT left behind is caught as well as a wrong EPT entry. Watched
 * pages take the TLB's slow path and leave the fetch cache (SDM Vol.3C 28.3: what the TLB holds
 * is still used, so the translation itself is not dropped).
 */
public final class MemoryWatch {
    private final Map<Long, Long> owner = new HashMap<>();
    private final PhysicalMemory mem;
    private final Cpu[] cpus;
    public MemoryWatch(PhysicalMemory mem, Cpu[] cpus) {
        this.mem = mem;
        this.cpus = cpus;
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
        RunEnding.Access what = kind == Paging.WRITE ? RunEnding.Access.WRITE : kind == Paging.FETCH ? RunEnding.Access.FETCH : RunEnding.Access.READ;
        // a hit is published whoever listens: the machine ends the run on it
        c.bus.publish(new MachineEvent.WatchHit(c.index, new RunEnding.IsolationBreach(c.index, what, pa, c.rip, null, c.vmx.eptp & ~0xFFFL, allowed)));
    }
}
