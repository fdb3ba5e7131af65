package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The isolation watch (issue 6 isolation oracle): a guest access to a watched page through any
 * EPT but its owner's is a breach, also when the access goes through a TLB entry a missing
 * INVEPT left behind (SDM Vol.3C 28.3.3.1: stale combined mappings may be used).
 */
class MemoryWatchTest {
    final EptTest ept = new EptTest();
    final List<org.hvlab.machine.RunEnding.IsolationBreach> breaches = new ArrayList<>();
    MemoryWatch watch;

    @BeforeEach
    void setUp() {
        ept.setUp();
        watch = new MemoryWatch(ept.m, new Cpu[] {ept.c});
        ept.c.bus.subscribe(e -> breaches.add(((org.hvlab.machine.events.MachineEvent.WatchHit) e).breach()), org.hvlab.machine.events.MachineEvent.Kind.WATCH_HIT);
        ept.c.watch = watch;
        ept.t.load(EptTest.GUEST, TestCpu.assemble("mov 0x700010, %rax\ncpuid\nmovq $5, 0x700018\ncpuid\nmov 0x700010, %rax\ncpuid"));
        assertEquals(10, ept.run("vmlaunch"));
        ept.skipInstruction();
    }

    @Test
    void anAccessThroughAnotherEptIsABreachEvenFromTheTlb() {
        // the page's translation is in the TLB from the first read; the watch gives it to another EPT
        watch.watch(EptTest.PAGE, 0x7770000);
        assertEquals(10, ept.run("vmresume"));
        assertEquals(1, breaches.size(), breaches.toString());
        org.hvlab.machine.RunEnding.IsolationBreach b = breaches.get(0);
        assertEquals(0, b.cpu());
        assertEquals(org.hvlab.machine.RunEnding.Access.WRITE, b.access());
        assertEquals(0x700018L, b.physical());
        assertEquals(0x7770000L, b.owner());
        assertEquals(EptTest.EPT_PML4, b.ept());
        assertTrue(b.render().startsWith("CPU 0: guest write of 0x700018 at rip=0x"), b.render());
        assertTrue(b.render().endsWith("the page belongs to EPT 0x7770000"), b.render());
    }

    @Test
    void theOwnersAccessesAndUnwatchedPagesPass() {
        watch.watch(EptTest.PAGE, EptTest.EPT_PML4);
        watch.watch(EptTest.OTHER, 0x7770000);
        assertEquals(10, ept.run("vmresume"));
        ept.skipInstruction();
        assertEquals(10, ept.run("vmresume"));
        assertEquals(List.of(), breaches);
        assertEquals(5, ept.m.read64(EptTest.PAGE + 0x18));
    }

    @Test
    void aStaleTranslationAfterTheEptEntryIsGoneIsABreach() {
        // the hypervisor takes the page out of EPT but forgets INVEPT: the write still lands
        ept.m.write64(ept.pte(EptTest.PAGE), 0);
        watch.watch(EptTest.PAGE, 0x7770000);
        assertEquals(10, ept.run("vmresume"));
        assertEquals(1, breaches.size(), breaches.toString());
        assertEquals(5, ept.m.read64(EptTest.PAGE + 0x18), "the stale translation was used (no INVEPT)");
    }
}
