package org.hvlab.guests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.Outcome;
import org.junit.jupiter.api.Test;

/**
 * The guest hypervisors that check VT-x rules case by case (vmxwindows, vmxnmi, vmxmsrlist,
 * vmxentry). Every expected line is the outcome the SDM predicts (docs/vmx-facts.md;
 * the guests' header comments cite the sections), never merely what the simulator did.
 */
class VmxFactsGuestTest {
    static void assertRun(String name, int cpus, long seed, String want) {
        var r = Guests.run(name, cpus, seed, "");
        assertEquals(want, r.serial(), name + " seed " + seed);
        assertEquals(Outcome.EXITED, r.result().outcome(), name + " seed " + seed + ": " + r.result().message());
        assertEquals(0, r.result().exitStatus(), name + " seed " + seed);
    }

    @Test
    void nmiWindowAndInterruptWindowExits() {
        assertRun("vmxwindows", 1, 1, """
                nmi-window no blocking: reason=8 qual=0 rip=nw_plain+0 intr=0x0
                nmi-window mov-ss blocking: reason=8 qual=0 rip=nw_movss+1 intr=0x0
                nmi-window after injected #DB: reason=8 qual=0 rip=guest_db+0 frame=40 entry-info=0x00000301
                nmi-window blocked by nmi until iret: reason=8 qual=0 rip=nw_iret_done+0 intr=0x0
                nmi-window from hlt: reason=8 qual=0 rip=nw_hlt+0 act=1
                nmi-window before interrupt-window: reason=8 qual=0 rip=nw_both+0
                interrupt-window cli sti nop: reason=7 qual=0 rip=iw_sti+3 intr=0x0
                interrupt-window mov-ss blocking: reason=7 qual=0 rip=iw_movss+1
                interrupt-window sti-shadow mov ss: reason=7 qual=0 rip=iw_ssx+7
                interrupt-window sti sti: reason=7 qual=0 rip=iw_sti2+2
                interrupt-window from hlt: reason=7 qual=0 rip=iw_hlt+0 act=1
                interrupt-window sti hlt: reason=7 qual=0 rip=iw_stihlt+2 act=1
                vmxwindows: ok
                """);
    }

    @Test
    void nmiExitingHostNmiBlockingPriorityInjectionAndIret() {
        String want = """
                nmi exit from hlt: reason=0 qual=0 info=0x80000202 rip=nx_hlt+11 act=1 intr=0x0
                host nmi blocked after nmi exit: before-iret=0 after-iret=1
                nmi exit from hlt, virtual-nmi blocked: reason=0 qual=0 info=0x80000202 rip=nx_hlt+11 act=1 intr=0x8
                injection > nmi window > nmi exiting: reason=8 qual=0 rip=guest_db+0 pending=1 host-nmis=1 after-iret=2
                inject nmi into nmi-blocked guest, virtual-nmis=0: reason=18 qual=0 rip=guest_nmi+1 intr=0x8
                guest iret, nmi exiting + virtual nmis: reason=18 qual=0 rip=gi_iret_done+0 intr=0x0
                guest iret, nmi exiting only: reason=18 qual=0 rip=gi_iret_done+0 intr=0x8
                faulting iret, virtual nmis: reason=0 qual=0 info=0x80001b0d err=0x0050 rip=fi_iret+0 intr=0x0
                vmxnmi: ok
                """;
        // AP 1 sends the NMIs: the answer must not depend on how the scheduler interleaves the CPUs
        for (long seed = 1; seed <= 5; seed++) assertRun("vmxnmi", 2, seed, want);
    }

    @Test
    void vmxnmiNeedsTwoCpus() {
        var r = Guests.run("vmxnmi", 1, 1, "");
        assertEquals("vmxnmi: needs at least 2 CPUs\n", r.serial());
        assertEquals(1, r.result().exitStatus());
    }

    @Test
    void entryMsrLoadListStopsAtTheFailingEntry() {
        assertRun("vmxmsrlist", 1, 1, """
                msr-load list, FS_BASE second: reason=0x80000022 qual=2
                msr-load list, 513 entries: reason=0x80000022 qual=513
                msr-load list [MTRR1, 0xdead, MTRR2]: reason=0x80000022 qual=2 mtrr1=0x0000000012345006 mtrr2=0x0000000000000006
                vmxmsrlist: ok
                """);
    }

    @Test
    void vmfailErrorsFailedEntriesAndTheEntryInterruptionValidBit() {
        assertRun("vmxentry", 1, 1, """
                vmlaunch after mov ss: VMfailValid error=26
                vmresume with launch state clear: VMfailValid error=5
                vmlaunch with launch state launched: VMfailValid error=4
                sti and mov-ss blocking: reason=0x80000021 qual=0
                sti blocking with IF=0: reason=0x80000021 qual=0
                inject nmi, virtual nmis, blocked by nmi: reason=0x80000021 qual=0
                inject external interrupt with IF=0: reason=0x80000021 qual=0
                inject nmi with mov-ss blocking: reason=0x80000021 qual=0
                hlt activity with sti blocking: reason=0x80000021 qual=0
                hlt activity, inject #UD: reason=0x80000021 qual=0
                hlt activity, inject #DB: reason=18 qual=0 rip=guest_db+0
                link pointer misaligned: reason=0x80000021 qual=4
                link pointer without revision id: reason=0x80000021 qual=4
                exit clears entry info valid bit: reason=18 qual=0 rip=guest_db+0 entry-info=0x00000301
                failed entry keeps entry info: reason=0x80000021 qual=0 rip=en_guest+0 entry-info=0x80000301
                vmresume after that failed entry: VMfailValid error=5
                vmxentry: ok
                """);
    }
}
