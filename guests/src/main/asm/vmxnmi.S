# vmxnmi.S - NMIs and VMX: NMI exiting from HLT, the host's NMI blocking after an NMI-caused
# exit, the priority of injection, NMI window and NMI exiting, NMI injection, and what a guest
# IRET does to (virtual-)NMI blocking. Needs at least 2 CPUs.
#
# The BSP is the hypervisor. AP 1 only sends NMIs: when a guest stores 1 to guest_halting and
# executes HLT, AP 1 waits a while (so the guest is in the HLT state, not before it) and sends
# one NMI IPI to the BSP. The BSP's own NMI handler (host vector 2) counts host NMIs.
#
# Rules (SDM Vol.3C; docs/vmx-facts.md "NMI rules"):
#  - With "NMI exiting", an NMI in VMX non-root operation is VM exit 0 with interruption
#    information 0x80000202 (27.2.2). From HLT, RIP is after the HLT (HLT completed) and the
#    activity state saved is HLT (27.1: a VM exit taken out of an inactive state returns to the
#    active state only after the exit; 27.3.4). The NMI blocks NMIs only after the exit
#    completes (27.1), so the saved blocking-by-NMI bit is the guest's: 0 - or, with "virtual
#    NMIs", the virtual-NMI blocking, which real NMIs ignore (24.4.2, 26.3.2.5 / 25.3).
#  - A VM exit caused directly by an NMI leaves NMIs blocked in the host until the host
#    executes IRET; other exits do not change it (27.5.5 "Updating Non-Register State"). An
#    NMI sent meanwhile stays pending and is taken right after the IRET (Vol.3A 6.7.1).
#  - Priority after VM entry: an injected event is delivered first; then an NMI-window exit
#    comes before a pending NMI could cause an NMI exit (26.6.6: NMI-window exits "take priority
#    over non-maskable interrupts"; VMX-FACTS priority list).
#  - Injecting an NMI with "virtual NMIs" = 0 has no blocking-by-NMI check (26.3.1.5 lists it
#    only for "virtual NMIs" = 1), so it is delivered to a guest that is already NMI-blocked.
#  - Guest IRET (25.3): "NMI exiting" = 1 and "virtual NMIs" = 1 clears virtual-NMI blocking;
#    "NMI exiting" = 1 and "virtual NMIs" = 0 leaves NMI blocking alone. An IRET that faults
#    still unblocks first (27.1), and an exception exit from it sets bit 12 "NMI unblocking due
#    to IRET" in the exit interruption information (27.2.2).
#
# Output, exactly:
#   nmi exit from hlt: reason=0 qual=0 info=0x80000202 rip=nx_hlt+11 act=1 intr=0x0
#   host nmi blocked after nmi exit: before-iret=0 after-iret=1
#   nmi exit from hlt, virtual-nmi blocked: reason=0 qual=0 info=0x80000202 rip=nx_hlt+11 act=1 intr=0x8
#   injection > nmi window > nmi exiting: reason=8 qual=0 rip=guest_db+0 pending=1 host-nmis=1 after-iret=2
#   inject nmi into nmi-blocked guest, virtual-nmis=0: reason=18 qual=0 rip=guest_nmi+1 intr=0x8
#   guest iret, nmi exiting + virtual nmis: reason=18 qual=0 rip=gi_iret_done+0 intr=0x0
#   guest iret, nmi exiting only: reason=18 qual=0 rip=gi_iret_done+0 intr=0x8
#   faulting iret, virtual nmis: reason=0 qual=0 info=0x80001b0d err=0x0050 rip=fi_iret+0 intr=0x0
#   vmxnmi: ok
# Exit status 0; differing values end in "vmxnmi: FAILED mismatches=N", status 1. Fewer than
# 2 CPUs: "vmxnmi: needs at least 2 CPUs", status 1. Unexpected exceptions exit 9.

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "apic.inc"
        .include "smp.inc"
        .include "vmx.inc"

        .equ ICR_SELF,          0x40000         # destination shorthand 01b: self
        .equ NMI_AP,            1
        .equ AP_DELAY_SPINS,    2000            # AP 1 waits this long after the guest's flag
        .equ SETTLE_SPINS,      2000            # host waits for an NMI that must not come

        .section .text
        .globl  _start
_start:
        cmpl    $2, BI_NCPUS(%rdi)
        jae     1f
        PRINT   "vmxnmi: needs at least 2 CPUs\n"
        EXIT    1
1:      call    exc_install_stubs
        SET_GATE 1, guest_db
        SET_GATE 2, host_nmi
        call    idt_load
        mov     $(NMI_AP << ICR_DEST_SHIFT), %esi
        xor     %edi, %edi
        call    smp_start_aps
        mov     $TIMEOUT_SPINS, %ecx
2:      cmpl    $0, ap_ready(%rip)
        jne     3f
        pause
        dec     %ecx
        jnz     2b
        PRINT   "vmxnmi: AP 1 did not start\n"
        EXIT    1
3:      call    vmx_on

        # ---- NMI exit from a guest HLT ----
        lea     nx_hlt(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_NMI_EXITING
        call    vmx_launch
        CASE    "nmi exit from hlt"
        SHOW_REASON EXIT_EXC_NMI
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_HEX info, F_EXIT_INFO, 0x80000202, 8
        SHOW_RIP nx_hlt, (nx_hlt_after - nx_hlt)
        SHOW_DEC act, F_GUEST_ACTIVITY, 1
        SHOW_HEX intr, F_GUEST_INTR, 0, 1
        ENDL

        # ---- the host is NMI-blocked now: a self-NMI waits for the host's IRET ----
        call    send_self_nmi
        mov     $SETTLE_SPINS, %ecx
        call    spin
        mov     host_nmi_count(%rip), %r12
        call    self_iret
        mov     $SETTLE_SPINS, %ecx
        call    spin
        mov     host_nmi_count(%rip), %r13
        CASE    "host nmi blocked after nmi exit"
        SHOW_VAL before-iret, %r12, 0
        SHOW_VAL after-iret, %r13, 1
        ENDL

        # ---- again, with "virtual NMIs" and virtual-NMI blocking: real NMIs still exit ----
        lea     nx_hlt(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS
        VMW     F_GUEST_INTR, $INTR_NMI
        call    vmx_launch
        CASE    "nmi exit from hlt, virtual-nmi blocked"
        SHOW_REASON EXIT_EXC_NMI
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_HEX info, F_EXIT_INFO, 0x80000202, 8
        SHOW_RIP nx_hlt, (nx_hlt_after - nx_hlt)
        SHOW_DEC act, F_GUEST_ACTIVITY, 1
        SHOW_HEX intr, F_GUEST_INTR, INTR_NMI, 1
        ENDL

        # ---- priority: injected #DB, then NMI window, with an NMI pending all along ----
        # The host is NMI-blocked again (the exit above was caused by an NMI), so a self-NMI
        # stays pending (host_nmi_count stays 1) into the VM entry. The entry leaves that
        # blocking as it is (docs/vmx-facts.md: only IRET ends it, "VMRESUME does not unblock"), so
        # the pending NMI causes no NMI exit: the injected #DB is delivered and the NMI-window
        # exit follows. The host is still NMI-blocked after that exit (count 1) and takes the
        # pending NMI at its own IRET (count 2).
        call    send_self_nmi
        mov     $SETTLE_SPINS, %ecx
        call    spin
        mov     host_nmi_count(%rip), %r12
        lea     pr_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS
        VMOR    F_PROC, PROC_NMI_WINDOW
        VMW     F_ENTRY_INFO, $0x80000301       # hardware exception #DB
        call    vmx_launch
        mov     $SETTLE_SPINS, %ecx
        call    spin
        CASE    "injection > nmi window > nmi exiting"
        SHOW_REASON EXIT_NMI_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP guest_db, 0
        SHOW_VAL pending, %r12, 1
        SHOW_VAL host-nmis, host_nmi_count(%rip), 1
        call    self_iret
        SHOW_VAL after-iret, host_nmi_count(%rip), 2
        ENDL

        # ---- NMI injection with "virtual NMIs" = 0 into a guest blocked by NMI ----
        SET_GATE 2, guest_nmi                   # the guest's NMI handler, for this case only
        lea     ij_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_GUEST_INTR, $INTR_NMI
        VMW     F_ENTRY_INFO, $0x80000202
        call    vmx_launch
        SET_GATE 2, host_nmi
        CASE    "inject nmi into nmi-blocked guest, virtual-nmis=0"
        SHOW_REASON EXIT_VMCALL
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP guest_nmi, 1
        SHOW_HEX intr, F_GUEST_INTR, INTR_NMI, 1
        ENDL
        # The guest was NMI-blocked at the VMCALL exit, which leaves NMI blocking unchanged:
        # the host is NMI-blocked now; unblock it.
        call    self_iret

        # ---- guest IRET and NMI blocking ----
        lea     gi_iret(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS
        VMW     F_GUEST_INTR, $INTR_NMI
        call    vmx_launch
        CASE    "guest iret, nmi exiting + virtual nmis"
        SHOW_REASON EXIT_VMCALL
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP gi_iret_done, 0
        SHOW_HEX intr, F_GUEST_INTR, 0, 1
        ENDL

        lea     gi_iret(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_NMI_EXITING
        VMW     F_GUEST_INTR, $INTR_NMI
        call    vmx_launch
        CASE    "guest iret, nmi exiting only"
        SHOW_REASON EXIT_VMCALL
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP gi_iret_done, 0
        SHOW_HEX intr, F_GUEST_INTR, INTR_NMI, 1
        ENDL
        call    self_iret                       # as above: the host inherited NMI blocking

        # ---- a faulting IRET still unblocks virtual NMIs: bit 12 in the #GP exit ----
        # The frame's CS is 0x50, past the GDT limit 0x27: #GP(0x50) (Vol.2 IRET). #GP is in
        # the exception bitmap, so the fault is exit 0 with 0x80000b0d | bit 12.
        lea     fi_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS
        VMW     F_GUEST_INTR, $INTR_NMI
        VMW     F_EXC_BITMAP, $(1 << 13)
        call    vmx_launch
        CASE    "faulting iret, virtual nmis"
        SHOW_REASON EXIT_EXC_NMI
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_HEX info, F_EXIT_INFO, 0x80001b0d, 8
        SHOW_HEX err, F_EXIT_ERR, 0x50, 4
        SHOW_RIP fi_iret, 0
        SHOW_HEX intr, F_GUEST_INTR, 0, 1
        ENDL

        lea     name(%rip), %rsi
        jmp     vmx_finish

# send_self_nmi: an NMI IPI to this CPU (ICR shorthand "self").
send_self_nmi:
        push    %rsi
        push    %rdi
        xor     %esi, %esi
        mov     $(ICR_DM_NMI | ICR_ASSERT | ICR_SELF), %edi
        call    apic_send_ipi
        call    apic_wait_icr_idle
        pop     %rdi
        pop     %rsi
        ret

# self_iret: IRETQ to the next instruction - ends the host's NMI blocking (Vol.3A 6.7.1).
self_iret:
        push    %rax
        mov     %rsp, %rax
        pushq   $SEL_DATA
        push    %rax
        pushfq
        pushq   $SEL_CODE64
        lea     1f(%rip), %rax
        push    %rax
        iretq
1:      pop     %rax
        ret

# spin: ECX iterations of PAUSE.
spin:
1:      pause
        dec     %ecx
        jnz     1b
        ret

# Host NMI handler (host vector 2).
host_nmi:
        incq    host_nmi_count(%rip)
        iretq

# ---- AP 1: sends one NMI to the BSP each time a guest announces its HLT ----
ap_main:
        cmp     $NMI_AP, %edi
        jne     9f
        lidt    idt_pointer(%rip)
        call    apic_enable
        movl    $1, ap_ready(%rip)
1:      cmpl    $0, guest_halting(%rip)
        jne     2f
        pause
        jmp     1b
2:      mov     $AP_DELAY_SPINS, %ecx
        call    spin
        xor     %esi, %esi                      # BSP: APIC ID 0
        mov     $(ICR_DM_NMI | ICR_ASSERT), %edi
        call    apic_send_ipi
        call    apic_wait_icr_idle
        movl    $0, guest_halting(%rip)
        jmp     1b
9:      ret

# ---- guest snippets ----
nx_hlt:
        movl    $1, guest_halting(%rip)         # C7 05 disp32 imm32: 10 bytes
        hlt
nx_hlt_after:
        nop
        vmcall
        ud2
pr_guest:
        nop
        vmcall
        ud2
guest_db:                                       # gate 1
        nop
        vmcall
        ud2
ij_guest:
        nop
        vmcall
        ud2
guest_nmi:                                      # gate 2 during the injection case
        nop
        vmcall
        ud2
gi_iret:
        mov     %rsp, %rax
        pushq   $SEL_DATA
        push    %rax
        pushfq
        pushq   $SEL_CODE64
        lea     gi_iret_done(%rip), %rax
        push    %rax
        iretq
gi_iret_done:
        vmcall
        ud2
fi_guest:
        mov     %rsp, %rax
        pushq   $SEL_DATA
        push    %rax
        pushfq
        pushq   $0x50                           # no such descriptor: #GP(0x50)
        lea     gi_iret_done(%rip), %rax
        push    %rax
fi_iret:
        iretq
        ud2

        .section .rodata
name:   .asciz  "vmxnmi"

        .section .bss
        .balign 8
host_nmi_count: .skip 8
guest_halting:  .skip 4
ap_ready:       .skip 4
