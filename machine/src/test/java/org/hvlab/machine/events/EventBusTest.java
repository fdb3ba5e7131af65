package org.hvlab.machine.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The event stream's plumbing: kinds filter, "wants" follows the subscriptions, the clock stamps. */
class EventBusTest {
    @Test
    void subscribersGetOnlyTheirKindsInOrder() {
        EventBus bus = new EventBus();
        List<String> got = new ArrayList<>();
        EventBus.Subscriber nmis = e -> got.add("nmis:" + e.kind());
        bus.subscribe(nmis, MachineEvent.Kind.NMI_RAISED, MachineEvent.Kind.IRET);
        bus.subscribe(e -> got.add("all:" + e.kind()));
        assertTrue(bus.wants(MachineEvent.Kind.EXCEPTION));
        bus.publish(new MachineEvent.NmiRaised(0, false, false));
        bus.publish(new MachineEvent.ExceptionRaised(1, 13, true, 0, 0x1000));
        assertEquals(List.of("nmis:NMI_RAISED", "all:NMI_RAISED", "all:EXCEPTION"), got);
    }

    @Test
    void wantsFollowsUnsubscription() {
        EventBus bus = new EventBus();
        EventBus.Subscriber s = e -> { };
        assertFalse(bus.wants(MachineEvent.Kind.VM_EXIT));
        bus.subscribe(s, MachineEvent.Kind.VM_EXIT);
        assertTrue(bus.wants(MachineEvent.Kind.VM_EXIT));
        assertFalse(bus.wants(MachineEvent.Kind.VM_ENTRY));
        bus.unsubscribe(s);
        assertFalse(bus.wants(MachineEvent.Kind.VM_EXIT));
        long[] now = {41};
        bus.clock(() -> ++now[0]);
        assertEquals(42, bus.now());
    }

    /** Instruction boundaries on demand: a subscriber sees every instruction a CPU starts, in order. */
    @Test
    void instructionBoundariesAreThereWhenAsked() {
        org.hvlab.machine.cpu.TestCpuAccess t = new org.hvlab.machine.cpu.TestCpuAccess();
        List<Long> rips = new ArrayList<>();
        t.bus().subscribe(e -> rips.add(((MachineEvent.InstructionBoundary) e).rip()), MachineEvent.Kind.INSTRUCTION);
        long start = t.runCode("nop\nnop\ninc %rax\nhlt", 4);
        assertEquals(List.of(start, start + 1, start + 2, start + 5), rips);
    }
}
