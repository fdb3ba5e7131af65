package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.hvlab.machine.RunEnding;
import org.hvlab.machine.RunEnding.CpuState;
import org.hvlab.machine.RunEnding.CpuWait;
import org.hvlab.machine.RunEnding.HaltCause;
import org.hvlab.machine.RunEnding.HostActivity;
import org.hvlab.machine.RunEnding.HostWait;
import org.junit.jupiter.api.Test;

/**
 * Typed run endings (issue 12 item 1): every kind's verdict kind, signature and rendering are
 * computed from its data; signatures drop what varies between runs that fail the same way (CPU
 * numbers, guest RIPs, counts) and keep the place.
 */
class VerdictTest {
    private static Verdict ended(RunEnding e) {
        return new Verdict.Ended(e, "");
    }

    @Test
    void aZeroExitPassesAndAnyOtherStatusFailsNamingTheGuestsLastLine() {
        assertFalse(Oracles.judge(new org.hvlab.machine.RunResult(new RunEnding.GuestExit(1, 0), 10, List.of()), "ok\n").failed());
        Verdict v = Oracles.judge(new org.hvlab.machine.RunResult(new RunEnding.GuestExit(2, 3), 10, List.of()), "start\nFAIL: CPU 2 count 17 at 0x1f30\n");
        assertEquals("exit-status", v.kind());
        assertEquals("exit-status 3: FAIL: CPU N count N at 0x?", v.signature());
        assertEquals("guest exited with status 3: FAIL: CPU 2 count 17 at 0x1f30", v.message());
    }

    private static CpuWait host(int cpu, String waits, List<String> held, String lock, int owner, long rip) {
        return new CpuWait(cpu, CpuState.ACTIVE, new HostWait(HostActivity.WAITING, waits, held, lock, owner, true, false), rip,
                "guest_" + rip, List.of("org.hvlab.xmhf.smpguest.SmpGuest.quiesce(SmpGuest.java:" + rip + ")"));
    }

    @Test
    void aDeadlockSignatureIsEachCpusWaitWhateverTheCpuNumbersAndGuestPlaces() {
        RunEnding a = new RunEnding.Deadlock(List.of(host(0, "quiesce counter", List.of("printf"), null, -1, 0x1000),
                host(1, "lock printf", List.of(), "printf", 0, 0x2000)));
        RunEnding b = new RunEnding.Deadlock(List.of(host(0, "lock printf", List.of(), "printf", 1, 0x3000),
                host(1, "quiesce counter", List.of("printf"), null, -1, 0x4000)));
        assertEquals("deadlock: host waiting for lock printf, awaiting printf held by another CPU, host NMIs blocked"
                + " | host waiting for quiesce counter, holding [printf], host NMIs blocked", ended(a).signature());
        assertEquals(ended(a).signature(), ended(b).signature());
        String msg = ended(a).message();
        assertFalse(msg.contains("\n"), "one line: " + msg);
        assertTrue(msg.contains("CPU 1 host waiting for lock printf, awaiting printf held by CPU 0, host NMIs blocked, guest rip=0x2000 <guest_8192>"), msg);
        assertTrue(msg.contains("at org.hvlab.xmhf.smpguest.SmpGuest.quiesce"), "the host frames: " + msg);
        // the full rendering keeps each frame on its own line
        assertTrue(a.render().contains("\n      at org.hvlab.xmhf.smpguest.SmpGuest.quiesce(SmpGuest.java:4096)"), a.render());
    }

    @Test
    void aBareDeadlockNamesEachCpusState() {
        RunEnding d = new RunEnding.Deadlock(List.of(new CpuWait(0, CpuState.HALTED_INTERRUPTS_OFF, null, 0x100001, "spin", List.of()),
                new CpuWait(1, CpuState.WAIT_FOR_SIPI, null, 0, null, List.of())));
        assertEquals("deadlock: halted with interrupts off | waiting for SIPI", ended(d).signature());
        assertEquals("deadlock: no CPU can make progress; CPU 0 halted with interrupts off at rip=0x100001 <spin>; CPU 1 waiting for SIPI at rip=0x0",
                d.render());
    }

    @Test
    void hypervisorHaltsAreJudgedByTheirCause() {
        RunEnding exc = new RunEnding.HypervisorHalt(2, "CPU(0x02): ", "VMEXIT-EXCEPTION, interruption information 0x80000b0e; HALT", 0,
                new HaltCause.UnhandledException(0x80000b0eL, -1));
        assertEquals("unhandled-exception", ended(exc).kind());
        assertEquals("unhandled-exception 0x80000b0e", ended(exc).signature());
        assertEquals("CPU 2: CPU(0x02): VMEXIT-EXCEPTION, interruption information 0x80000b0e; HALT", ended(exc).message());

        RunEnding mem = new RunEnding.HypervisorHalt(0, "CPU(0x00): ", "EPT violation: ...; HALT", 48, new HaltCause.HostMemoryAccess(0x8000000, 2));
        assertEquals("isolation", ended(mem).kind());
        assertEquals("isolation: guest access to hypervisor memory", ended(mem).signature());

        // XMHF's own words name the place; which CPU said them does not
        RunEnding tv1 = new RunEnding.HypervisorHalt(1, "CPU(0x01): ", "TV: Invalid entry point; HALT", 48, HaltCause.STATED);
        RunEnding tv3 = new RunEnding.HypervisorHalt(3, "CPU(0x03): ", "TV: Invalid entry point; HALT", 48, HaltCause.STATED);
        assertEquals("hypervisor-halt", ended(tv1).kind());
        assertEquals("hypervisor-halt: TV: Invalid entry point; HALT", ended(tv1).signature());
        assertEquals(ended(tv1).signature(), ended(tv3).signature());
        assertEquals("CPU 3: CPU(0x03): TV: Invalid entry point; HALT", tv3.render());
        assertEquals(103, tv3.exitStatus());
    }

    @Test
    void anIsolationBreachIsNamedByTheGuestsKindOfAccess() {
        RunEnding b = new RunEnding.IsolationBreach(1, RunEnding.Access.FETCH, 0x9000, 0x1234, "probe", 0x5000, 0x6000);
        assertEquals("isolation", ended(b).kind());
        assertEquals("isolation: guest instruction fetch of protected memory", ended(b).signature());
        assertEquals("CPU 1: guest instruction fetch of 0x9000 at rip=0x1234 under EPT 0x5000; the page belongs to EPT 0x6000 <probe>", b.render());
        assertEquals(106, b.exitStatus());
    }

    @Test
    void stuckGuestsAreNamedByTheirIretq() {
        GuestStuck.NmiEpisode cause = new GuestStuck.NmiEpisode(true, 900, List.of(new GuestStuck.CpuPlaceAt(880, 0x2001, "nested_nmi_out+0x1")));
        GuestStuck self = new GuestStuck.IretqToItself(3, 0x2001, "nested_nmi_out+0x1", new GuestStuck.IretFrame(0x2001, 0x10, 0x2, 0x7000, 0x18), cause);
        assertEquals("stuck", ended(self).kind());
        assertEquals("stuck: IRETQ returning to itself <nested_nmi_out+0x1>", ended(self).signature());
        assertEquals("CPU 3 stuck: IRETQ returning to itself at rip=0x2001 <nested_nmi_out+0x1>; frame rip=0x2001 cs=0x10 rflags=0x2 rsp=0x7000 ss=0x18"
                + "; that frame was written by the NMI injected at step 900, which interrupted this IRETQ"
                + "; NMIs reached the guest while it was still NMI-blocked: step 880 at rip=0x2001 <nested_nmi_out+0x1>", self.render());
        assertEquals(105, self.exitStatus());
        assertEquals("guest-stuck", self.key());

        GuestStuck.IretqLoop loop = new GuestStuck.IretqLoop(0, 0x2001, "nested_nmi_out+0x1", 0x7f00, 0x1500, "repeat_nmi", 0x7f28, 3, null);
        GuestStuck quiet = new GuestStuck.NoProgress(5000, true, List.of(new GuestStuck.CpuPlace(0, 0x2001, "nested_nmi_out+0x1")), loop);
        assertEquals("stuck: IRETQ loop <nested_nmi_out+0x1>", ended(quiet).signature());
        assertTrue(quiet.render().startsWith(loop.render() + "; guest stuck: no serial output and no exit for 5000 steps after the last injection; CPU 0 rip=0x2001"),
                quiet.render());
        GuestStuck plain = new GuestStuck.NoProgress(5000, false, List.of(new GuestStuck.CpuPlace(0, 0x10, null)), null);
        assertEquals("stuck: no progress", ended(plain).signature());
    }

    @Test
    void theOtherEndings() {
        assertEquals("stuck: step limit", ended(new RunEnding.StepLimit(1000)).signature());
        assertEquals("step limit of 1000 steps reached", new RunEnding.StepLimit(1000).render());
        RunEnding sd = new RunEnding.Shutdown(1, "triple fault (#DF while delivering #GP)", 0x100001, "boot+0x11");
        assertEquals("shutdown: triple fault (#DF while delivering #GP) at <boot+0x?>", ended(sd).signature());
        assertEquals("CPU 1: triple fault (#DF while delivering #GP) at rip=0x100001 <boot+0x11>", sd.render());
        RunEnding se = new RunEnding.SimulatorError("CPU 1", "java.lang.ArithmeticException: / by zero", "org.hvlab.X.y(X.java:12)");
        assertEquals("simulator-error", ended(se).kind());
        assertEquals("simulator error in CPU 1: java.lang.ArithmeticException: / by zero at org.hvlab.X.y(X.java:12)", se.render());
    }

    @Test
    void nmiAccountingVerdicts() {
        NmiLedger.Counts l = new NmiLedger.Counts(5, 0, 1, 0, 3, 0, 0, 0, 0);
        Verdict lost = new Verdict.NmiLost(3, 1, l, 0);
        assertEquals("nmi-accounting", lost.kind());
        assertEquals("nmi-accounting: guest NMIs lost", lost.signature());
        assertTrue(lost.message().startsWith("CPU 3: 1 guest NMI lost: arrived 5 (+0 from the host), merged in the latch 1"), lost.message());
        assertEquals("nmi-accounting: NMIs delivered that nobody sent the guest", new Verdict.NmiSpurious(0, 2, l).signature());
    }

    // ---- the number mask, against the regular expressions it replaced (a differential property)

    private static final Pattern HEX = Pattern.compile("0x[0-9a-fA-F]+"), NUM = Pattern.compile("\\b\\d+\\b");

    @Property(tries = 2000)
    void numbersOutMasksAsTheOldPatternsDid(@ForAll("verdictish") String s) {
        assertEquals(NUM.matcher(HEX.matcher(s).replaceAll("0x?")).replaceAll("N"), Verdict.numbersOut(s));
    }

    @Provide
    Arbitrary<String> verdictish() {
        return Arbitraries.strings().withChars("0123456789abcdefxX_ <>:;,.-+").ofMaxLength(40);
    }
}
