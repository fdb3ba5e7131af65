package org.hvlab.guests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.MachineSpec;
import org.hvlab.machine.boot.ImageException;
import org.hvlab.machine.control.ExternalEvent;
import org.hvlab.machine.control.Stop;
import org.hvlab.machine.sched.ChoiceRecord;
import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.SeededRandom;
import org.junit.jupiter.api.Test;

/**
 * Run control (issue 12 item 6, the seam for {@code hvlab serve}): pausing at a step, breakpoints,
 * single steps and external events applied at boundaries; a session is its scheduling choices
 * plus the events applied with their steps, and replays byte for byte on a fresh machine.
 */
class RunControlTest {
    static final long MAX_STEPS = 200_000_000L;

    static Machine machine(String guest, int cpus, ChoiceSource choices, String cmdline) {
        try {
            return MachineSpec.builder().cpus(cpus).maxSteps(MAX_STEPS).choices(choices).image(Guests.image(guest), cmdline).build();
        } catch (ImageException e) {
            throw new IllegalStateException(e);
        }
    }

    static SeededRandom random(long seed) {
        return new SeededRandom(seed, MachineConfig.DEFAULT_MAX_QUANTUM);
    }

    static Stop toEnd(Machine m) {
        Stop s;
        do s = m.resume(); while (s.kind() != Stop.Kind.FINISHED);
        return s;
    }

    /** The same machine again, fed the session's choices and its applied events at their steps. */
    static Machine replay(Machine session, String guest, int cpus, long seed, String cmdline) {
        ChoiceRecord rec = session.scheduler().record();
        Machine r = machine(guest, cpus, rec.replay(random(seed)), cmdline);
        for (ExternalEvent.Applied a : session.appliedEvents()) r.schedule(a.step(), a.event());
        return r;
    }

    @Test
    void pausingAtStepsLeavesTheRunAsItWas() {
        var plain = Guests.run("smp", 4, 7, "");
        Machine m = machine("smp", 4, random(7), "");
        long total = plain.result().steps();
        for (long at : new long[] {1, 777, total / 3, total / 3 + 1, total - 2}) {
            Stop s = m.runToStep(at);
            assertEquals(Stop.Kind.STEP_REACHED, s.kind());
            assertEquals(at, s.step(), "the boundary falls exactly on the step");
            assertEquals(at, m.steps());
        }
        toEnd(m);
        assertEquals(plain.serial(), m.serial().text());
        assertEquals(plain.result().steps(), m.result().steps());
        assertEquals(plain.result().exitStatus(), m.result().exitStatus());
    }

    @Test
    void aBreakpointStopsTheCpuBeforeTheInstructionAndTheRunGoesOnAsBefore() {
        var plain = Guests.run("smp", 4, 3, "");
        Machine m = machine("smp", 4, random(3), "");
        long apMain = m.symbols().address("ap_main");
        m.addBreakpoint(-1, apMain);
        List<Integer> hits = new ArrayList<>();
        for (Stop s = m.resume(); s.kind() != Stop.Kind.FINISHED; s = m.resume()) {
            assertEquals(Stop.Kind.BREAKPOINT, s.kind());
            assertEquals(apMain, s.rip());
            assertEquals(apMain, m.cpu(s.cpu()).rip, "stopped before executing it");
            hits.add(s.cpu());
        }
        assertEquals(List.of(1, 2, 3), hits.stream().sorted().toList(), "every AP reaches ap_main once");
        // a breakpoint cuts a quantum and the rest of it goes on afterwards: the schedule is unchanged
        assertEquals(plain.serial(), m.serial().text());
        assertEquals(plain.result().steps(), m.result().steps());
    }

    @Test
    void singleStepsAreChoicesAndTheSessionReplays() {
        Machine m = machine("smp", 4, random(11), "");
        m.runToStep(3000);
        long before = m.steps();
        Stop s = m.stepCpu(0);
        assertEquals(Stop.Kind.STEPPED, s.kind());
        assertEquals(before + 1, m.steps(), "one step of one CPU");
        for (int i = 0; i < 50; i++) m.stepCpu(i % 2 == 0 || !m.runnable(1) ? 0 : 1);
        toEnd(m);
        assertEquals(0, m.result().exitStatus(), m.result().message());
        Machine r = replay(m, "smp", 4, 11, "");
        toEnd(r);
        assertEquals(m.serial().text(), r.serial().text());
        assertEquals(m.result().steps(), r.result().steps());
    }

    /** An NMI injected from outside mid-run (as QMP inject-nmi) is recorded with its step; the replay applies it there. */
    @Test
    void externalNmisAreRecordedAtTheirStepsAndReplayIdentically() {
        String cmd = "";
        Machine m = machine("nmiflood", 2, random(5), cmd);
        m.runToStep(40_000);
        m.submit(new ExternalEvent.Nmi(0));
        m.runToStep(90_000);
        // to the flood's victim only: nmiflood's one NMI handler belongs to CPU 0
        m.submit(new ExternalEvent.WriteRegister(1, 15, m.cpu(1).r[15])); // R15 unchanged: a write that changes nothing
        m.submit(new ExternalEvent.Nmi(0));
        m.stepCpu(m.runnable(1) ? 1 : 0);
        m.runToStep(150_000);
        toEnd(m);
        assertEquals(0, m.result().exitStatus(), m.serial().text());
        List<ExternalEvent.Applied> applied = m.appliedEvents();
        assertEquals(3, applied.size());
        assertEquals(40_000, applied.get(0).step());
        assertEquals(new ExternalEvent.Nmi(0), applied.get(2).event());
        assertEquals(90_000, applied.get(2).step(), "both submitted while paused: applied at the same boundary");

        Machine r = replay(m, "nmiflood", 2, 5, cmd);
        toEnd(r);
        assertEquals(m.serial().text(), r.serial().text(), "the same NMIs received, the same bytes");
        assertEquals(m.result().steps(), r.result().steps());
        assertEquals(applied, r.appliedEvents(), "applied at the same steps");

        // and they mattered: without them the guest counts differently or takes another path
        Machine without = machine("nmiflood", 2, m.scheduler().record().replay(random(5)), cmd);
        toEnd(without);
        assertNotEquals(m.result().steps(), without.result().steps());
    }

    @Test
    void writesFromOutsideReachTheGuest() {
        Machine m = machine("hello", 1, random(1), "");
        m.runToStep(10);
        long rip = m.cpu(0).rip;
        // the next instruction becomes "out %al, $0xf4" with AL = 0x0B: the debug exit with status 11
        // (a guest that was not written to would print its greeting and exit 0)
        m.submit(new ExternalEvent.WriteRegister(0, org.hvlab.machine.cpu.Cpu.RAX, 0x0B));
        m.submit(new ExternalEvent.WritePhysical(rip, new byte[] {(byte) 0xE6, (byte) 0xF4}));
        toEnd(m);
        assertTrue(m.result().message().contains("guest exited with status"), m.result().message());
        assertEquals(org.hvlab.machine.devices.DebugExit.status(0x0B), m.result().exitStatus());
    }

    @Test
    void badExternalEventsAreRefusedAtOnce() {
        Machine m = machine("hello", 2, random(1), "");
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> m.submit(new ExternalEvent.Nmi(2)));
        assertEquals("no CPU 2 (the machine has 2)", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new ExternalEvent.WriteRegister(0, 17, 0));
        assertEquals("register must be 0-15 (RAX..R15) or 16 (RIP), got 17", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> m.submit(new ExternalEvent.WritePhysical((256L << 20) - 1, new byte[2])));
        assertTrue(e.getMessage().endsWith("beyond RAM (0x10000000 bytes)"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> m.stepCpu(5));
        assertEquals(List.of(), m.appliedEvents(), "nothing refused was applied");
    }
}
