# nmi.S - NMI delivery between CPUs and the NMI latch rule. Needs at least 2 CPUs.
#
# The BSP installs an NMI handler (vector 2) and starts only AP 1 (INIT and SIPI with a physical
# destination; other APs stay waiting for SIPI). AP 1 then sends NMI IPIs to the BSP on
# request (ICR high = BSP APIC ID << 24, low = 0x00004400: delivery mode NMI, assert), polling
# ICR delivery status until idle after each send.
#   Test 1: AP 1 sends one NMI; the handler must run exactly once.
#   Test 2: SDM Vol.3A, interrupt chapter, "Handling Multiple NMIs": while an NMI handler runs,
#     further NMIs are blocked until the next IRET, and at most one is held pending. AP 1 sends
#     one NMI; inside the handler (NMIs blocked) the BSP asks AP 1 for two more and spins until
#     AP 1 reports both sent, then IRETs. The first of the two is held pending and delivered
#     after the IRET, the second is lost: the handler runs exactly twice in this test.
#     (hwrun's KVM keeps two NMIs pending and reports count=3; the SDM answer is 2.)
# The handler only counts and talks to AP 1 through memory; all printing is done by the BSP's
# main code.
# Output, exactly:
#   nmi: single ok
#   nmi: latch ok count=2
#   nmi: all ok
# Exit status 0. Failures (exit 1), one line:
#   nmi: needs at least 2 CPUs, have N
#   nmi: AP 1 did not start
#   nmi: single FAILED count=N
#   nmi: latch FAILED count=N
#   nmi: latch FAILED, AP 1 did not confirm sending two NMIs
# An unexpected exception exits 9 (include/exc.inc).

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "apic.inc"
        .include "smp.inc"

        .equ NMI_VECTOR,        2
        .equ NMI_AP,            1               # APIC ID of the AP that sends the NMIs
        # Spins after the last expected NMI before counting: a pending NMI is delivered right
        # after the IRET that unblocks it, so any wait is enough on a conforming machine; this
        # one just leaves room for slow IPI delivery.
        .equ SETTLE_SPINS,      100000

        .section .text
        .globl  _start
_start:
        mov     %rdi, %rbx                      # RBX = boot information
        mov     BI_NCPUS(%rbx), %eax
        cmp     $2, %eax
        jae     1f
        PRINT   "nmi: needs at least 2 CPUs, have "
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1
1:      mov     BI_BSP_APIC_ID(%rbx), %eax
        shl     $ICR_DEST_SHIFT, %eax
        mov     %eax, nmi_dest_icr_high(%rip)   # AP 1 sends its NMIs here

        call    exc_install_stubs
        SET_GATE NMI_VECTOR, nmi_handler
        call    idt_load

        mov     $(NMI_AP << ICR_DEST_SHIFT), %esi
        xor     %edi, %edi                      # no shorthand: physical destination NMI_AP
        call    smp_start_aps
        mov     $TIMEOUT_SPINS, %ecx
2:      cmpl    $0, ap_ready(%rip)
        jne     3f
        pause
        dec     %ecx
        jnz     2b
        PRINT   "nmi: AP 1 did not start\n"
        EXIT    1

# ---- test 1: one NMI, one handler run ----
3:      movl    $0, nmi_count(%rip)
        movl    $1, ap_cmd(%rip)                # AP 1: send one NMI
        mov     $TIMEOUT_SPINS, %ecx
4:      cmpl    $0, nmi_count(%rip)
        jne     5f
        pause
        dec     %ecx
        jnz     4b
        jmp     single_failed
5:      call    wait_ap_idle
        mov     $SETTLE_SPINS, %ecx
        call    spin
        cmpl    $1, nmi_count(%rip)
        jne     single_failed
        PRINT   "nmi: single ok\n"

# ---- test 2: two NMIs sent while the handler runs; one is latched ----
        movl    $0, nmi_count(%rip)
        movl    $1, nmi_latch_armed(%rip)       # the next handler run asks for two more
        movl    $1, ap_cmd(%rip)                # AP 1: send the NMI that starts the test
        # The handler clears nmi_latch_armed on entry; once this code runs again the handler
        # has returned (same CPU), and the latched NMI has already been taken on its IRET.
        mov     $TIMEOUT_SPINS, %ecx
6:      cmpl    $0, nmi_latch_armed(%rip)
        je      7f
        pause
        dec     %ecx
        jnz     6b
        jmp     latch_failed
7:      cmpl    $0, nmi_handler_timeout(%rip)
        jne     latch_unconfirmed
        call    wait_ap_idle
        mov     $SETTLE_SPINS, %ecx
        call    spin
        cmpl    $2, nmi_count(%rip)
        jne     latch_failed
        PRINT   "nmi: latch ok count=2\n"
        PRINT   "nmi: all ok\n"
        EXIT    0

single_failed:
        PRINT   "nmi: single FAILED count="
        mov     nmi_count(%rip), %eax
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1

latch_failed:
        PRINT   "nmi: latch FAILED count="
        mov     nmi_count(%rip), %eax
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1

latch_unconfirmed:
        PRINT   "nmi: latch FAILED, AP 1 did not confirm sending two NMIs\n"
        EXIT    1

# wait_ap_idle: bounded wait until AP 1 has finished its command (ap_cmd = 0). Clobbers ECX.
wait_ap_idle:
        mov     $TIMEOUT_SPINS, %ecx
1:      cmpl    $0, ap_cmd(%rip)
        je      2f
        pause
        dec     %ecx
        jnz     1b
2:      ret

# spin: ECX iterations of PAUSE (consumes ECX).
spin:
1:      pause
        dec     %ecx
        jnz     1b
        ret

# NMI handler (BSP). Entered through an interrupt gate; the CPU blocks further NMIs from here
# until the IRETQ (SDM Vol.3A 6.7.1 "Handling Multiple NMIs").
nmi_handler:
        push    %rax
        push    %rcx
        incl    nmi_count(%rip)
        cmpl    $0, nmi_latch_armed(%rip)
        je      9f
        movl    $0, nmi_latch_armed(%rip)       # only the first run of test 2 does this
        # AP 1 may not yet have cleared ap_cmd for the NMI that brought us here (its IPI can
        # arrive before it sees the ICR idle); wait for that before giving it a new command.
        mov     $TIMEOUT_SPINS, %ecx
1:      cmpl    $0, ap_cmd(%rip)
        je      2f
        pause
        dec     %ecx
        jnz     1b
        jmp     8f
2:      movl    $2, ap_cmd(%rip)                # AP 1: send two NMIs (both arrive blocked)
        mov     $TIMEOUT_SPINS, %ecx
3:      cmpl    $0, ap_cmd(%rip)                # 0 = both sent and delivered (ICR idle)
        je      9f
        pause
        dec     %ecx
        jnz     3b
8:      movl    $1, nmi_handler_timeout(%rip)
9:      pop     %rcx
        pop     %rax
        iretq

# AP side (smp.inc calls this on the AP's own stack, EDI = APIC ID). Only AP NMI_AP works; it
# serves commands forever: ap_cmd = N > 0 means "send N NMIs to the BSP", and it writes 0 back
# once every one of them has left the ICR. Only the BSP writes a non-zero ap_cmd, and only
# when it reads 0; only AP 1 writes 0, and only when it reads non-zero.
ap_main:
        cmp     $NMI_AP, %edi
        jne     9f                              # any other AP: park
        lidt    idt_pointer(%rip)               # same IDT: a stray exception gets reported
        call    apic_enable
        movl    $1, ap_ready(%rip)
1:      mov     ap_cmd(%rip), %ebx
        test    %ebx, %ebx
        jnz     2f
        pause
        jmp     1b
2:      mov     nmi_dest_icr_high(%rip), %esi
        mov     $(ICR_DM_NMI | ICR_ASSERT), %edi
3:      call    apic_send_ipi
        call    apic_wait_icr_idle              # this NMI has been delivered
        dec     %ebx
        jnz     3b
        movl    $0, ap_cmd(%rip)
        jmp     1b
9:      ret

        .section .bss
        .p2align 2
nmi_count:              .skip 4                 # handler runs in the current test
nmi_latch_armed:        .skip 4
nmi_handler_timeout:    .skip 4
nmi_dest_icr_high:      .skip 4
ap_ready:               .skip 4
ap_cmd:                 .skip 4
