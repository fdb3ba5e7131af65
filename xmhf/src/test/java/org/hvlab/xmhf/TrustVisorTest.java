package org.hvlab.xmhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.Outcome;
import org.hvlab.xmhf.hypapp.trustvisor.TrustVisor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TrustVisor with the pal-demo guest (issue 6): PALs registered, called and unregistered on
 * several CPUs at once give the native results; the guest prints what it prints on the bare
 * machine; bug 022's switch turns a PAL above 4 GiB into an invalid entry point.
 */
class TrustVisorTest {
    @ParameterizedTest(name = "{0} CPUs, seed {1}")
    @CsvSource({"1, 1", "2, 2", "4, 3", "4, 4", "8, 5"})
    void palDemoGivesTheNativeResultsOnEveryCpu(int cpus, long seed) {
        String cmdline = "iters=30 seed=" + seed;
        TrustVisor tv = new TrustVisor();
        XmhfRuns.Run r = XmhfRuns.run("paldemo", cpus, seed, cmdline, new XmhfOptions(), tv, 200_000_000L);
        assertEquals(Outcome.EXITED, r.result().outcome(), r.result().message() + "\n" + r.serial());
        assertEquals(0, r.result().exitStatus(), r.guestSerial());
        StringBuilder want = new StringBuilder();
        for (int c = 0; c < cpus; c++) want.append(String.format("pal-demo: CPU(0x%02x) calls=30 nmis=0: Test pass\n", c));
        want.append("pal-demo: ok\n");
        assertEquals(want.toString(), r.guestSerial());
        assertEquals(30L * cpus, tv.palEntries(), "every call ran as a PAL");
        assertEquals(tv.palEntries(), tv.palExits());
        // the bare machine runs the same copies as plain code and says so
        XmhfRuns.Run bare = XmhfRuns.bare("paldemo", cpus, seed, cmdline);
        assertEquals("pal-demo: no hypervisor: the PAL copies run as plain code\n" + want, bare.guestSerial());
    }

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 4})
    void ringThreeCallersRegisterAndRunPalsAtCplThree(int cpus) {
        TrustVisor tv = new TrustVisor();
        XmhfRuns.Run r = XmhfRuns.run("paldemo", cpus, 3, "user probe iters=25", new XmhfOptions(), tv, 200_000_000L);
        assertEquals(Outcome.EXITED, r.result().outcome(), r.result().message() + "\n" + r.serial());
        assertTrue(r.guestSerial().endsWith("pal-demo: ok\n"), r.guestSerial());
        assertEquals(4L * cpus, tv.userRegistrations(), "every PAL registered from CPL 3");
        assertEquals(25L * cpus, tv.palEntries());
        // every CPU's probes hit some registered PAL and were refused
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("refused=(\\d+)").matcher(r.guestSerial());
        long refused = 0;
        while (m.find()) refused += Long.parseLong(m.group(1));
        assertTrue(refused > 0, r.guestSerial());
        assertEquals(r.serial().lines().filter(l -> l.startsWith("TV[3]") && l.endsWith("refused")).count(), refused, "one TV line per refusal");
    }

    @org.junit.jupiter.api.Test
    void churnRegistersAndUnregistersAroundEveryCallWhileOtherCpusIdle() {
        // test_args's pattern (seed 002): two CPUs register, call and unregister, two idle
        TrustVisor tv = new TrustVisor();
        XmhfRuns.Run r = XmhfRuns.run("paldemo", 4, 7, "user churn workers=2 funcs=7 iters=40 seed=7", new XmhfOptions(), tv, 200_000_000L);
        assertEquals(Outcome.EXITED, r.result().outcome(), r.result().message());
        assertEquals("pal-demo: CPU(0x00) calls=40 nmis=0: Test pass\npal-demo: CPU(0x01) calls=40 nmis=0: Test pass\n"
                + "pal-demo: CPU(0x02) idle nmis=0\npal-demo: CPU(0x03) idle nmis=0\npal-demo: ok\n", r.guestSerial());
        assertEquals(80, tv.registrations());
        assertEquals(80, tv.unregistrations());
        assertEquals(80, tv.palEntries());
    }

    @ParameterizedTest(name = "ept-violation-gpa-bits={0}")
    @ValueSource(strings = {"64", "32"})
    void palsAboveFourGiB(String bits) {
        XmhfOptions o = new XmhfOptions().set(XmhfOptions.EPT_VIOLATION_GPA_BITS, bits);
        XmhfRuns.Run r = XmhfRuns.run("paldemo", 2, 6L << 30, 1, "high iters=10", o, new TrustVisor(), 200_000_000L);
        if (bits.equals("64")) {
            assertEquals(Outcome.EXITED, r.result().outcome(), r.result().message());
            assertTrue(r.guestSerial().endsWith("pal-demo: ok\n"), r.guestSerial());
            return;
        }
        // bug 022: the truncated address of the first call does not match the entry point's
        assertEquals(Outcome.HYPERVISOR_HALT, r.result().outcome(), r.result().message());
        assertTrue(r.result().message().endsWith("TV: Invalid entry point; HALT"), r.result().message());
        assertTrue(r.serial().contains("TV[3]:scode.c:hpt_scode_npf:1359:                  Invalid entry point\n"), r.serial());
        assertTrue(r.serial().matches("(?s).*gpaddr 0x(\\p{XDigit}{1,8}); PAL \\d+ entry_v 0x4000\\p{XDigit}+ entry_p 0x1\\p{XDigit}{8}\n.*"), r.serial());
    }
}
