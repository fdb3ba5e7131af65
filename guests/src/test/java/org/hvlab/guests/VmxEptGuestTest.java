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

    @Test
    void mtfPreemptionTimerVmcsShadowingUnrestrictedGuestAndPdptes() {
        VmxFactsGuestTest.assertRun("vmxmisc", 1, 1, """
                mtf step 1: reason=37 rip=mtf_guest+1 count=0
                mtf step 2: reason=37 rip=mtf_guest+7 count=1
                mtf step 3: reason=37 rip=mtf_guest+8 count=1
                mtf, vmcall exits for itself: reason=18 rip=mtf_guest+8
                mtf after #UD delivered to the guest: reason=37 rip=guest_ud+0
                mtf after injected #DB: reason=37 rip=guest_db+0
                pending mtf injected, control 0: reason=37 rip=mtf_guest+0 count=0
                preemption timer 0: reason=52 rip=pt_guest+0
                preemption timer 3, counting loop: reason=52 insns-vs-sdm=0 saved=0
                preemption timer 3, no save control: reason=52 value=3
                preemption timer with hlt: reason=52 rip=hlt_guest+1 act=1
                shadow vmread: reason=18 rax=0x00005a5a flags=0x0
                shadow vmwrite: reason=18 shadow-rsp=0x00007777
                vmread bitmap bit set: reason=23 rip=sh_read+5
                vmwrite bitmap bit set: reason=25 rip=sh_write+12
                vmread encoding bit 16: reason=23 rip=sh_high+5
                vmread without shadowing: reason=23 rip=sh_read+5
                real-mode guest cpuid: reason=10 rip=0x0003 cs=0x1000 cr0.pe=0 rax=0x00001234
                real-mode guest enters protected mode: reason=10 rip=0x0001001d cs=0x0018 cr0.pe=1 ebx=0x00000055
                pae guest, pdpte reserved bit 5: reason=0x80000021 qual=2
                pae guest, valid pdptes: reason=10 rip=pae_guest+0
                vmxmisc: ok
                """);
    }
}
