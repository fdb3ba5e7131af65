package org.hvlab.guests;

import org.junit.jupiter.api.Test;

/**
 * The guest hypervisors that check EPT, VPID and the other secondary features case by case
 * (vmxept, vmxmisc). Every expected line is the outcome the SDM predicts (the guests' header
 * comments cite the sections), never merely what the simulator did.
 */
class VmxEptGuestTest {
    @Test
    void eptViolationsMisconfigurationsAccessedDirtyInveptAndVpid() {
        VmxFactsGuestTest.assertRun("vmxept", 1, 1, """
                ept 4K/2M/1G identity map: reason=18 rip=idm_vmcall+0 m4k=0x600d0001 m2m=0x600d0002
                ept 1G pages only: reason=18 rip=idm_vmcall+0 m4k=0x600d0001 m2m=0x600d0002
                ept write to read-only page: reason=48 qual=0x1aa gpa=0x00020000 gla=0x00020000 rip=ro_write+0 mem=0x11111111
                ept fetch from non-executable page: reason=48 qual=0x19c gpa=0x00022000 gla=0x00022000 rip=0x00022000
                ept read of not-present page: reason=48 qual=0x181 gpa=0x00023000 gla=0x00023000 rip=np_read+0
                ept guest page table in hidden page: reason=48 qual=0x081 gpa=0x00033000 gla=0x8000000000 rip=hid_read+0
                ept guest page table in hidden page, a/d flags on: reason=48 qual=0x083 gpa=0x00033000 gla=0x8000000000 rip=hid_read+0
                ept read of execute-only page: reason=48 qual=0x1a1 gpa=0x00029000 gla=0x00029000 rip=mc_read+0
                ept misconfig write-only: reason=49 gpa=0x00029000 rip=mc_read+0
                ept misconfig write+execute: reason=49 gpa=0x00029000 rip=mc_read+0
                ept misconfig memory type 2: reason=49 gpa=0x00029000 rip=mc_read+0
                ept misconfig memory type 3: reason=49 gpa=0x00029000 rip=mc_read+0
                ept misconfig memory type 7: reason=49 gpa=0x00029000 rip=mc_read+0
                ept misconfig 2M page reserved bit 12: reason=49 gpa=0x00400000 rip=mc2m_read+0
                ept misconfig 1G page reserved bit 12: reason=49 gpa=0x00030000 rip=idm_guest+0
                ept a/d flags: reason=18 written=0x0000000000026337 read=0x0000000000027137 pde=0x0000000000043107
                ept remap 0x24000 to 0x25000, invept: reason=18 read=0x55555555
                ept remap back, no invept: reason=18 read=0x55555555
                ept after invept single-context: reason=18 read=0x44444444
                ept remap again, no invept: reason=18 read=0x44444444
                ept after invept all-context: reason=18 read=0x55555555
                invept type 0: VMfailValid error=28
                invept single-context, page-walk length 5: VMfailValid error=28
                invvpid single-context, vpid 0: VMfailValid error=28
                invvpid individual-address, non-canonical: VMfailValid error=28
                ept violation delivering injected #DB: reason=48 qual=0x181 gpa=0x00028010 gla=0x00028010 idt-vectoring=0x80000301 rip=iv_guest+0
                no vpid: reason=18 read=0x11111111
                no vpid, pte changed: reason=18 read=0x22222222
                vpid 1: reason=18 read=0x11111111
                vpid 1, pte changed: reason=18 read=0x11111111
                vpid 1, invvpid individual-address: reason=18 read=0x22222222
                vpid 1, pte changed: reason=18 read=0x22222222
                vpid 1, invvpid single-context: reason=18 read=0x11111111
                vpid 1, pte changed: reason=18 read=0x11111111
                vpid 1, invvpid all-context: reason=18 read=0x22222222
                vmxept: ok
                """);
    }
}
