package org.hvlab.guests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineSpec;
import org.hvlab.machine.Outcome;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.boot.ImageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The guests written to exercise a hypervisor (mtrrstorm, nmiipi, memprobe) on the bare
 * machine: exact output over several seeds and CPU counts. The xmhf module runs the same
 * images under XMHF and compares with these outputs.
 */
class HypervisorProbeGuestsTest {
    private static final long[] SEEDS = {1, 2, 3, 4, 5};

    static String mtrrstormOutput(int cpus, int iters) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cpus; i++) sb.append(String.format("mtrrstorm: CPU(0x%02x) writes=%d\n", i, iters));
        return sb.append("mtrrstorm: ok\n").toString();
    }

    static String nmiipiOutput(int cpus, int nmis) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cpus; i++) sb.append(String.format("nmiipi: CPU(0x%02x) nmis=%d\n", i, nmis));
        return sb.append("nmiipi: ok\n").toString();
    }

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2, 4, 8})
    void mtrrstormEveryCpuReadsBackValidValues(int cpus) {
        for (long seed : SEEDS) {
            var r = Guests.run("mtrrstorm", cpus, seed, "");
            assertEquals(mtrrstormOutput(cpus, 50), r.serial(), "seed " + seed);
            assertTrue(r.result().passed(), "seed " + seed + ": " + r.result().message());
        }
    }

    @Test
    void mtrrstormTakesTheIterationCountFromTheCommandLine() {
        var r = Guests.run("mtrrstorm", 2, 1, "x iters=7 y");
        assertEquals(mtrrstormOutput(2, 7), r.serial());
        assertTrue(r.result().passed());
        for (String bad : new String[] {"iters=0", "iters=", "iters=12a", "iters=100001"}) {
            var b = Guests.run("mtrrstorm", 1, 1, bad);
            assertEquals("mtrrstorm: bad iters\n", b.serial(), bad);
            assertEquals(1, b.result().exitStatus(), bad);
        }
    }

    @Test
    void mtrrstormLeavesEachCpuItsOwnLastValues() {
        // bare machine: MTRRs are per CPU, so each CPU keeps the pair k = 2 + c mod 6 it wrote last
        int cpus = 4, iters = 9;
        var r = Guests.run("mtrrstorm", cpus, 3, "iters=" + iters);
        assertTrue(r.result().passed(), r.result().message());
        for (int c = 0; c < cpus; c++) {
            int i = iters - 1, k = 2 + c % 6;
            int[] types = {0, 1, 4, 5, 6};
            long base = ((long) c << 30) | ((long) (i + 1) << 12) | types[(c + i) % 5];
            int s = 12 + (c + 3 * i) % (36 - 12);
            long mask = (((1L << 36) - 1) & ~((1L << s) - 1)) | ((long) ((c + i) & 1) << 11);
            var msrs = r.machine().cpu(c).msrs;
            assertEquals(base, msrs.read(0x200 + 2 * k), "CPU " + c + " PHYSBASE" + k);
            assertEquals(mask, msrs.read(0x201 + 2 * k), "CPU " + c + " PHYSMASK" + k);
        }
    }

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void nmiipiCountsEveryNmiExactlyOnce(int cpus) {
        for (long seed : SEEDS) {
            var r = Guests.run("nmiipi", cpus, seed, "");
            assertEquals(nmiipiOutput(cpus, 20), r.serial(), "seed " + seed);
            assertTrue(r.result().passed(), "seed " + seed + ": " + r.result().message());
        }
    }

    @Test
    void nmiipiTakesTheCountFromTheCommandLine() {
        var r = Guests.run("nmiipi", 3, 2, "nmis=45");
        assertEquals(nmiipiOutput(3, 45), r.serial());
        assertTrue(r.result().passed());
        var b = Guests.run("nmiipi", 2, 1, "nmis=0");
        assertEquals("nmiipi: bad nmis\n", b.serial());
        assertEquals(1, b.result().exitStatus());
    }

    private static final String BARE_MAP = "memmap: base=0x0000000000000000 length=0x0000000000100000 type=2\n"
            + "memmap: base=0x0000000000100000 length=0x000000000ff00000 type=1\n";

    @ParameterizedTest(name = "command line \"{0}\"")
    @ValueSource(strings = {"", "write"})
    void memprobeWithoutReservedMemoryOnlyPrintsTheMap(String cmdline) {
        var r = Guests.run("memprobe", 2, 1, cmdline);
        assertEquals(BARE_MAP + "memprobe: no reserved memory above 1 MiB\n", r.serial());
        assertEquals(Outcome.EXITED, r.result().outcome());
        assertEquals(0, r.result().exitStatus());
    }

    /** memprobe on the bare machine (one CPU) with the memory map {@code map} ({base, length, type} each). */
    private static Guests.Run memprobeWithMap(String cmdline, long[]... map) {
        Machine m;
        try {
            m = MachineSpec.builder().maxSteps(50_000_000L).image(Guests.image("memprobe"), cmdline).build();
        } catch (ImageException e) {
            throw new IllegalStateException(e);
        }
        long info = BootLoader.BOOT_INFO;
        m.memory().write32(info + 24, map.length);
        for (int i = 0; i < map.length; i++) {
            m.memory().write64(info + 32 + 24L * i, map[i][0]);
            m.memory().write64(info + 32 + 24L * i + 8, map[i][1]);
            m.memory().write64(info + 32 + 24L * i + 16, map[i][2]);
        }
        var r = m.run();
        return new Guests.Run(r, m.serial().text(), m);
    }

    /** The map XMHF gives a 256 MiB machine: its 8 MiB at the top of RAM reserved. */
    private static final long[][] XMHF_LIKE_MAP = {{0, 0x100000, 2}, {0x100000, 0x0F700000, 1}, {0x0F800000, 0x800000, 2}};

    @Test
    void memprobeReadsReservedMemoryWhenNothingStopsIt() {
        long base = 0x0F800000L;
        var r = memprobeWithMap("", XMHF_LIKE_MAP);
        String map = "memmap: base=0x0000000000000000 length=0x0000000000100000 type=2\n"
                + "memmap: base=0x0000000000100000 length=0x000000000f700000 type=1\n"
                + "memmap: base=0x000000000f800000 length=0x0000000000800000 type=2\n";
        assertEquals(map + "memprobe: reading 0x000000000f800000\nmemprobe: read 0x0000000000000000\nmemprobe: access completed\n", r.serial());
        assertEquals(0, r.result().exitStatus());
        assertEquals(0, r.machine().memory().read64(base));

        var w = memprobeWithMap("write", XMHF_LIKE_MAP);
        assertEquals(map + "memprobe: writing 0x000000000f800000\nmemprobe: reading 0x000000000f800000\nmemprobe: access completed\n", w.serial());
        assertEquals(0, w.result().exitStatus());
        assertEquals(0x65626f72706d656dL, w.machine().memory().read64(base), "the bytes \"memprobe\"");
    }

    @Test
    void memprobeTargetsOnlyReservedMemoryAboveOneMibInsideRam() {
        // reserved below 1 MiB and reserved above RAM (256 MiB) are no targets; the first one
        // inside RAM above 1 MiB is, and a later one is not looked at
        var r = memprobeWithMap("", new long[] {0, 0x100000, 2}, new long[] {0x100000, 0x0FE00000, 1},
                new long[] {0x10000000, 0x1000, 2}, new long[] {0x0FF00000, 0x1000, 2}, new long[] {0x0FF10000, 0x1000, 2});
        assertTrue(r.serial().endsWith("memmap: base=0x000000000ff10000 length=0x0000000000001000 type=2\n"
                + "memprobe: reading 0x000000000ff00000\nmemprobe: read 0x0000000000000000\nmemprobe: access completed\n"), r.serial());
        var none = memprobeWithMap("write", new long[] {0, 0x100000, 2}, new long[] {0x100000, 0x0FF00000, 1}, new long[] {0x10000000, 0x1000, 2});
        assertTrue(none.serial().endsWith("memprobe: no reserved memory above 1 MiB\n"), none.serial());
        assertEquals(0, none.result().exitStatus());
    }
}
