package org.hvlab.guests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.Outcome;
import org.hvlab.machine.sched.RoundRobin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each bundled guest is a test: exact serial output and exit status on the bare machine. */
class GuestsTest {
    @Test
    void helloPrintsBootInformation() {
        var r = Guests.run("hello", 4, 1, "a b");
        assertEquals("Hello from hvlab\ncpus=4 ram=0x0000000010000000\ncmdline=a b\n", r.serial());
        assertEquals(Outcome.EXITED, r.result().outcome());
        assertEquals(0, r.result().exitStatus());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 8, 16})
    void smpStartsEveryApThroughTheTrampoline(int cpus) {
        StringBuilder want = new StringBuilder();
        for (int i = 1; i < cpus; i++) want.append("CPU ").append(i).append(" up\n");
        want.append("smp: all ").append(cpus).append(" CPUs up\n");
        for (long seed = 1; seed <= 5; seed++) {
            var r = Guests.run("smp", cpus, seed, "");
            assertEquals(want.toString(), r.serial(), "seed " + seed);
            assertTrue(r.result().passed(), "seed " + seed + ": " + r.result().message());
        }
    }

    @Test
    void smpStartsApsThroughTheX2apicIcrToo() {
        var r = Guests.run("smp", 4, 7, "x2apic");
        assertEquals("CPU 1 up\nCPU 2 up\nCPU 3 up\nsmp: all 4 CPUs up\n", r.serial());
        assertTrue(r.machine().cpu(0).apic.x2apic(), "the BSP's APIC is in x2APIC mode");
        assertTrue(!r.machine().cpu(1).apic.x2apic(), "the APs' APICs came out of INIT in xAPIC mode");
    }

    @Test
    void smpAppsRunInRealProtectedAndLongMode() {
        var r = Guests.run("smp", 4, 3, "");
        assertTrue(r.result().passed());
        // every AP left wait-for-SIPI and now sits halted in the guest's 64-bit AP code
        for (int i = 1; i < 4; i++) {
            var cpu = r.machine().cpu(i);
            assertTrue(cpu.is64(), "CPU " + i + " in 64-bit mode");
            assertTrue(cpu.instructions > 10, "CPU " + i + " executed the trampoline");
        }
    }

    @Test
    void exceptionsAreDeliveredWithArchitecturalFrames() {
        var r = Guests.run("exceptions", 1, 1, "");
        long de = r.machine().symbols().address("de_insn"), ud = r.machine().symbols().address("ud_insn");
        assertTrue(de > 0 && ud > 0, "guest symbols de_insn and ud_insn");
        String want = String.format("#DE ok rip=0x%016x\n#UD ok rip=0x%016x\n", de, ud)
                + "#GP ok err=0x0000\n"
                + "#PF ok cr2=0x0000000000c01238 err=0x0000\n"
                + "#PF ok cr2=0x0000000000c0abc0 err=0x0002\n"
                + "#BP ok ist\n"
                + "#DF ok err=0x0000\n"
                + "exceptions: all ok\n";
        assertEquals(want, r.serial());
        assertTrue(r.result().passed(), r.result().message());
    }

    @Test
    void nmiLatchDeliversExactlyOneMoreAfterIret() {
        for (long seed = 1; seed <= 10; seed++) {
            var r = Guests.run("nmi", 2, seed, "");
            assertEquals("nmi: single ok\nnmi: latch ok count=2\nnmi: all ok\n", r.serial(), "seed " + seed);
            assertTrue(r.result().passed(), "seed " + seed);
        }
    }

    @Test
    void nmiNeedsTwoCpus() {
        var r = Guests.run("nmi", 1, 1, "");
        assertEquals(Outcome.EXITED, r.result().outcome());
        assertEquals(1, r.result().exitStatus());
    }

    @Test
    void vmxbasicRunsAGuestThroughCpuidVmcallAndHltExits() {
        var r = Guests.run("vmxbasic", 1, 1, "");
        assertEquals("exit reason=10 len=2\nexit reason=18 len=3\nexit reason=12 len=1\nvmxbasic: ok\n", r.serial());
        assertEquals(Outcome.EXITED, r.result().outcome());
        assertEquals(0, r.result().exitStatus());
    }

    @Test
    void sameSeedSameRunDifferentSeedSameAnswer() {
        var a = Guests.run("smp", 4, 42, "");
        var b = Guests.run("smp", 4, 42, "");
        assertEquals(a.result().steps(), b.result().steps());
        assertEquals(a.machine().scheduler().record().size(), b.machine().scheduler().record().size());
        for (int i = 0; i < 4; i++) assertEquals(a.machine().cpu(i).instructions, b.machine().cpu(i).instructions);
        var c = Guests.run("smp", 4, 43, "");
        assertEquals(a.serial(), c.serial());
    }

    @Test
    void roundRobinWithTinyQuantaStillBoots() {
        var r = Guests.run("smp", 4, new RoundRobin(1), "", 200_000_000L);
        assertTrue(r.result().passed(), r.result().message());
    }

    @Test
    void stepLimitEndsTheRun() {
        var r = Guests.run("smp", 4, new RoundRobin(100), "", 5_000);
        assertEquals(Outcome.STEP_LIMIT, r.result().outcome());
        assertEquals(5_000, r.result().steps());
        assertEquals(100, r.result().exitStatus());
    }
}
