package org.hvlab.xmhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.Outcome;
import org.hvlab.xmhf.runtime.HypervisorMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The guests written to probe a hypervisor, under XMHF: mtrrstorm (every MTRR write is a
 * quiesce of all CPUs), nmiipi (NMI IPIs reach the guest only through XMHF's NMI-window
 * injection) and memprobe (XMHF's own memory is absent from EPT01).
 */
class XmhfGuestsTest {
    private static final long PATTERN = 0x65626f72706d656dL; // memprobe's qword, the bytes "memprobe"

    @ParameterizedTest(name = "{0} CPUs, seeds 1-20")
    @ValueSource(ints = {2, 4})
    void mtrrstormQuiesceStormEndsWithTheBareMachinesOutput(int cpus) {
        // 10 iterations per CPU in the seed sweep (each MTRR write rebuilds the EPT memory types
        // of all RAM, about 1.5 ms of Java time), the default 50 on seed 1
        for (int iters : new int[] {50, 10}) {
            String cmdline = "iters=" + iters;
            String bare = XmhfRuns.bare("mtrrstorm", cpus, 1, cmdline).serial();
            assertTrue(bare.endsWith("mtrrstorm: ok\n"), bare);
            for (long seed = 1; seed <= (iters == 50 ? 1 : 20); seed++) {
                var r = XmhfRuns.xmhf("mtrrstorm", cpus, seed, cmdline, new XmhfOptions());
                String what = "iters " + iters + ", seed " + seed;
                assertEquals(Outcome.EXITED, r.result().outcome(), what + ": " + r.result().message());
                assertEquals(0, r.result().exitStatus(), what);
                assertEquals(bare, r.guestSerial(), what);
                assertEquals(bare, r.serial(), what + ": XMHF prints nothing in a quiet storm");
                // every MTRR access of the storm and of the final phase exited to XMHF
                long exits = 0;
                for (int i = 0; i < cpus; i++) exits += r.xmhf().exits(i);
                assertTrue(exits >= cpus * (4L * iters + 4), what + ": " + exits + " exits");
            }
        }
    }

    @Test
    void mtrrstormOnEightCpus() {
        String bare = XmhfRuns.bare("mtrrstorm", 8, 1, "iters=10").serial();
        for (long seed = 1; seed <= 3; seed++) {
            var r = XmhfRuns.xmhf("mtrrstorm", 8, seed, "iters=10", new XmhfOptions());
            assertEquals(Outcome.EXITED, r.result().outcome(), "seed " + seed + ": " + r.result().message());
            assertEquals(bare, r.guestSerial(), "seed " + seed);
        }
    }

    @ParameterizedTest(name = "{0} CPUs, seeds 1-10")
    @ValueSource(ints = {1, 2, 3, 4})
    void nmiipiEveryNmiIsInjectedExactlyOnce(int cpus) {
        String bare = XmhfRuns.bare("nmiipi", cpus, 1, "").serial();
        assertTrue(bare.endsWith("nmiipi: ok\n"), bare);
        for (long seed = 1; seed <= 10; seed++) {
            var r = XmhfRuns.xmhf("nmiipi", cpus, seed, "", new XmhfOptions());
            assertEquals(Outcome.EXITED, r.result().outcome(), "seed " + seed + ": " + r.result().message());
            assertEquals(bare, r.guestSerial(), "seed " + seed);
            // XMHF's own lines: one "inject NMI" per NMI the guest got, 20 per CPU, nothing else
            // (the guest prints only once every NMI was counted, so no line is split)
            String rest = r.serial();
            for (int i = 0; i < cpus; i++) {
                String line = String.format("CPU(0x%02x): inject NMI\n", i);
                String without = rest.replace(line, "");
                assertEquals(20, (rest.length() - without.length()) / line.length(), "seed " + seed + ", CPU " + i + " injections");
                rest = without;
            }
            assertEquals(bare, rest, "seed " + seed + ": no other XMHF output");
        }
    }

    /** The lines memprobe prints for XMHF's memory map of a 256 MiB machine. */
    private static String xmhfMap(long base) {
        return "memmap: base=0x0000000000000000 length=0x0000000000100000 type=2\n"
                + String.format("memmap: base=0x0000000000100000 length=0x%016x type=1\n", base - 0x100000)
                + String.format("memmap: base=0x%016x length=0x%016x type=2\n", base, HypervisorMemory.SIZE);
    }

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2})
    void memprobeWriteToXmhfMemoryIsAnEptViolationAndChangesNothing(int cpus) {
        var w = XmhfRuns.xmhf("memprobe", cpus, 1, "write", new XmhfOptions());
        long base = w.xmhf().memory().base;
        assertEquals(xmhfMap(base) + String.format("memprobe: writing 0x%016x\n", base), w.guestSerial());
        assertEquals(Outcome.HYPERVISOR_HALT, w.result().outcome(), w.result().message());
        long rip = w.machine().symbols().address("probe_write");
        assertTrue(rip > 0, "guest symbol probe_write");
        // qualification 0x182: write access (bit 1), guest-linear address valid and a translation (bits 7, 8)
        assertEquals(String.format("CPU 0: CPU(0x00): EPT violation: guest-physical address 0x%x, qualification 0x182"
                + " (memory the guest does not own); HALT", base), w.result().message());
        assertTrue(w.serial().endsWith(String.format("CPU(0x00): EPT violation: guest-physical address 0x%x, qualification 0x182"
                + " (memory the guest does not own) at guest RIP 0x%x\n", base, rip)), w.serial());
        long after = w.machine().memory().read64(base);
        assertNotEquals(PATTERN, after, "the guest's qword must not reach XMHF's memory");

        // the same machine without the write: the read halts too, and the qword there is the same
        var rd = XmhfRuns.xmhf("memprobe", cpus, 1, "", new XmhfOptions());
        assertEquals(base, rd.xmhf().memory().base);
        assertEquals(after, rd.machine().memory().read64(base), "XMHF's qword, written or not");
    }

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2})
    void memprobeReadOfXmhfMemoryIsAnEptViolation(int cpus) {
        var r = XmhfRuns.xmhf("memprobe", cpus, 1, "", new XmhfOptions());
        long base = r.xmhf().memory().base;
        assertEquals(xmhfMap(base) + String.format("memprobe: reading 0x%016x\n", base), r.guestSerial());
        assertEquals(Outcome.HYPERVISOR_HALT, r.result().outcome(), r.result().message());
        // qualification 0x181: read access (bit 0), linear address valid, a translation
        assertEquals(String.format("CPU 0: CPU(0x00): EPT violation: guest-physical address 0x%x, qualification 0x181"
                + " (memory the guest does not own); HALT", base), r.result().message());
        long rip = r.machine().symbols().address("probe_read");
        assertTrue(r.serial().endsWith(String.format("at guest RIP 0x%x\n", rip)), r.serial());
    }

    @Test
    void memprobeOnTheBareMachineFindsNoReservedMemory() {
        var r = XmhfRuns.bare("memprobe", 1, 1, "write");
        assertTrue(r.serial().endsWith("memprobe: no reserved memory above 1 MiB\n"), r.serial());
        assertEquals(0, r.result().exitStatus());
    }
}
