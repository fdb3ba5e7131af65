package org.hvlab.xmhf;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.Outcome;
import org.junit.jupiter.api.Test;

/** Minimal reproductions of bugs found in the Java XMHF, each fixed; the test keeps it fixed. */
class XmhfRegressionTest {
    /**
     * The VMCS used MSR bitmaps but its MSR-bitmap address (0x2004) was never written, so the
     * CPU read the bitmap at physical address 0 (guest memory, all zero): no RDMSR or WRMSR
     * exited, the guest wrote the real MTRRs, and XMHF's MTRR copy, EPT memory types and
     * quiesce never saw a write. One CPU, one iteration of mtrrstorm: its 4 WRMSRs and 4
     * RDMSRs of MTRRs must exit (besides its 2 CPUIDs).
     */
    @Test
    void mtrrAccessesExitThroughTheMsrBitmap() {
        var r = XmhfRuns.xmhf("mtrrstorm", 1, 1, "iters=1", new XmhfOptions());
        assertEquals(Outcome.EXITED, r.result().outcome(), r.result().message());
        assertEquals("mtrrstorm: CPU(0x00) writes=1\nmtrrstorm: ok\n", r.guestSerial());
        assertEquals(r.xmhf().memory().msrBitmap(0), r.machine().cpu(0).vmx.current.get(MSR_BITMAP), "VMCS MSR-bitmap address");
        assertEquals(2 + 8, r.xmhf().exits(0), "CPUID x2, WRMSR x4, RDMSR x4");
    }

    /**
     * The intercept handler re-enabled NMI handling before it put the VMCS copy back. A host
     * NMI taken between the two (at the put's VMWRITEs) was handled with the copy still valid:
     * the NMI-window bit went into the copy after put had taken its snapshot, and was lost; the
     * guest NMI stayed pending forever. nmiipi on one CPU sends itself an NMI through the xAPIC
     * ICR, which XMHF performs at the MTF exit, so that NMI always arrives in this window.
     * With two CPUs some NMIs arrive there too (seed 3: CPU 1's 6th NMI to CPU 0 was lost).
     */
    @Test
    void anNmiArrivingAtThePutStillOpensTheNmiWindow() {
        for (int cpus : new int[] {1, 2}) {
            var r = XmhfRuns.xmhf("nmiipi", cpus, 3, "", new XmhfOptions());
            StringBuilder want = new StringBuilder();
            for (int i = 0; i < cpus; i++) want.append(String.format("nmiipi: CPU(0x%02x) nmis=20\n", i));
            assertEquals(want + "nmiipi: ok\n", r.guestSerial(), cpus + " CPUs");
            assertEquals(Outcome.EXITED, r.result().outcome(), r.result().message());
            assertEquals(0, r.result().exitStatus());
        }
    }

    /**
     * quiesce() took the quiesce lock with a plain spin inside the intercept handler, where NMI
     * handling is disabled. Two CPUs whose guests write MTRRs at once: CPU 0 holds the lock and
     * waits for CPU 1 to quiesce; CPU 1 waits for the lock, and the quiesce NMI it got only
     * counts in its visited counter, to be handled after the lock it never gets: deadlock.
     * Every seed of a 2-CPU mtrrstorm ran into it.
     */
    @Test
    void twoCpusWritingMtrrsAtOnceBothGetTheirQuiesce() {
        for (long seed = 1; seed <= 5; seed++) {
            var r = XmhfRuns.xmhf("mtrrstorm", 2, seed, "iters=20", new XmhfOptions());
            assertEquals(Outcome.EXITED, r.result().outcome(), "seed " + seed + ": " + r.result().message());
            assertEquals("mtrrstorm: CPU(0x00) writes=20\nmtrrstorm: CPU(0x01) writes=20\nmtrrstorm: ok\n", r.guestSerial(), "seed " + seed);
        }
    }

    /**
     * enableNmiHandling cleared "NMI handling disabled" around each deferred NMI it handled
     * (XMHF64's nmi_enable keeps it disabled there). That code runs outside an NMI handler, so
     * a host NMI could arrive during the handling and be handled at once: a quiesce request
     * from a new quiesce, arriving while this CPU was still finishing the previous one
     * (quiesced still set), was taken for a guest NMI - the new quiescer waited forever.
     * 4-CPU mtrrstorm, seeds 9 and 22.
     */
    @Test
    void aQuiesceRequestDuringTheDrainIsNotTakenForAGuestNmi() {
        for (long seed : new long[] {9, 22}) {
            var r = XmhfRuns.xmhf("mtrrstorm", 4, seed, "", new XmhfOptions());
            assertEquals(Outcome.EXITED, r.result().outcome(), "seed " + seed + ": " + r.result().message());
            assertEquals(0, r.result().exitStatus(), "seed " + seed);
        }
    }
}
