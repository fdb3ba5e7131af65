package org.hvlab.xmhf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.MachineSpec;
import org.hvlab.machine.boot.ImageException;
import org.hvlab.machine.control.ExternalEvent;
import org.hvlab.machine.control.Stop;
import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.SeededRandom;
import org.hvlab.xmhf.hypapp.Hypapp;
import org.junit.jupiter.api.Test;

/**
 * Run control with a Java hypervisor installed (issue 12 item 6): a breakpoint in the guest stops
 * the machine while XMHF's host code waits inside VMRESUME on that CPU; NMIs from outside go
 * through XMHF's NMI path; the session replays.
 */
class XmhfRunControlTest {
    static Machine machine(String guest, int cpus, ChoiceSource choices) {
        try {
            return MachineSpec.builder().cpus(cpus).maxSteps(50_000_000L).choices(choices).host(Xmhf.installer(new XmhfOptions(), Hypapp.NONE))
                    .image(XmhfRuns.image(guest), "").build();
        } catch (ImageException e) {
            throw new IllegalStateException(e);
        }
    }

    static void toEnd(Machine m) {
        while (m.resume().kind() != Stop.Kind.FINISHED) { }
    }

    @Test
    void aGuestBreakpointUnderXmhfStopsThereAndChangesNothing() {
        var plain = XmhfRuns.xmhf("smp", 4, 9, "", new XmhfOptions());
        Machine m = machine("smp", 4, new SeededRandom(9, MachineConfig.DEFAULT_MAX_QUANTUM));
        long apMain = m.symbols().address("ap_main");
        m.addBreakpoint(-1, apMain);
        List<Integer> hits = new ArrayList<>();
        for (Stop s = m.resume(); s.kind() != Stop.Kind.FINISHED; s = m.resume()) {
            assertEquals(Stop.Kind.BREAKPOINT, s.kind());
            assertEquals(apMain, m.cpu(s.cpu()).rip);
            hits.add(s.cpu());
        }
        assertEquals(List.of(1, 2, 3), hits.stream().sorted().toList());
        assertEquals(plain.serial(), m.serial().text());
        assertEquals(plain.result().steps(), m.result().steps());
    }

    @Test
    void nmisFromOutsideUnderXmhfReplay() {
        Machine m = machine("nmiflood", 2, new SeededRandom(4, MachineConfig.DEFAULT_MAX_QUANTUM));
        m.runToStep(200_000);
        m.submit(new ExternalEvent.Nmi(0)); // the flood's victim: nmiflood's handler is CPU 0's alone
        m.runToStep(400_000);
        m.submit(new ExternalEvent.Nmi(0));
        toEnd(m);
        assertEquals(0, m.result().exitStatus(), m.serial().text());
        Machine r = machine("nmiflood", 2, m.scheduler().record().replay(new SeededRandom(4, MachineConfig.DEFAULT_MAX_QUANTUM)));
        for (ExternalEvent.Applied a : m.appliedEvents()) r.schedule(a.step(), a.event());
        toEnd(r);
        assertEquals(m.serial().text(), r.serial().text());
        assertEquals(m.result().steps(), r.result().steps());
    }
}
