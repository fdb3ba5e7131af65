package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The one pending-event evaluator (issue 12 item 4) on the bare CPU: the SDM's priority among
 * INIT, NMI and maskable interrupts (Vol.3A 6.9), their blocking, and that the scheduler's
 * "runnable" and the REP-string check ask the same question.
 */
class PendingEventTest {
    TestCpu t;
    Cpu c;

    @BeforeEach
    void setUp() {
        t = new TestCpu();
        c = t.cpu;
        c.apic.mmioWrite(0xFEE000F0L, 4, 0x1FF); // software-enable the APIC (SVR)
    }

    @Test
    void initComesBeforeNmiAndNmiBeforeInterrupts() {
        c.setRflags(0x202);
        c.apic.raiseFixed(0x40);
        assertEquals(PendingEvent.INTERRUPT, PendingEvent.next(c, 0));
        c.nmiPending = true;
        assertEquals(PendingEvent.NMI, PendingEvent.next(c, 0));
        c.raiseInit();
        assertEquals(PendingEvent.INIT_RESET, PendingEvent.next(c, 0));
    }

    @Test
    void blockingHoldsEventsBack() {
        c.setRflags(0x202);
        c.apic.raiseFixed(0x40);
        c.nmiPending = true;
        assertEquals(PendingEvent.NONE, PendingEvent.next(c, Cpu.BLOCK_MOVSS), "MOV SS blocks NMIs and interrupts");
        assertEquals(PendingEvent.NMI, PendingEvent.next(c, Cpu.BLOCK_STI), "STI blocks interrupts, not NMIs");
        c.nmiBlocked = true;
        assertEquals(PendingEvent.INTERRUPT, PendingEvent.next(c, 0), "an NMI handler still open holds the next NMI");
        c.setRflags(0x002);
        assertEquals(PendingEvent.NONE, PendingEvent.next(c, 0), "IF = 0 holds interrupts");
    }

    @Test
    void aHaltedCpuIsRunnableExactlyWhenSomethingIsPending() {
        c.activity = Cpu.HLT;
        c.setRflags(0x002);
        c.apic.raiseFixed(0x40);
        assertFalse(c.runnable(), "HLT with IF = 0 and only an interrupt: stays halted");
        assertFalse(c.eventDeliverable());
        c.nmiPending = true;
        assertTrue(c.runnable(), "an NMI wakes HLT");
        assertTrue(c.eventDeliverable());
        c.nmiPending = false;
        c.activity = Cpu.WAIT_SIPI;
        c.setRflags(0x202);
        assertEquals(PendingEvent.NONE, PendingEvent.next(c, 0), "wait-for-SIPI ignores interrupts");
        assertFalse(c.runnable());
    }
}
