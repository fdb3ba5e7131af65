# nmiflood.S - an NMI flood against an NMI handler that checks it is never re-entered, with an
# optional MTRR-write storm on the other CPUs. Needs at least 2 CPUs.
#
# SDM Vol.3A 6.7.1 "Handling Multiple NMIs": delivering an NMI blocks further NMIs until the
# next IRET; at most one more is held pending. So an NMI handler is never entered again before
# it executes IRET, however many NMIs arrive. A hypervisor that injects NMIs into a guest that
# is still inside its NMI handler breaks exactly this (seed 000's hole: XMHF without virtual
# NMIs), and the handler below notices.
#
#   CPU 0 (victim): its NMI handler marks itself busy, counts, executes a CPUID, spins a while
#     (so NMIs arrive while it runs), clears the mark and IRETs. Entering while marked busy
#     counts as nested. Its main loop executes CPUID between PAUSEs.
#   CPU 1 (attacker): sends FLOOD_COUNT NMI IPIs to CPU 0, each once the ICR is idle again.
#   CPUs 2.. with the command line "mtrr": write IA32_MTRR_PHYSBASE5/PHYSMASK5 (0x20A/0x20B,
#     unused by the boot firmware) again and again until the attacker is done. Under XMHF each
#     write quiesces every CPU with NMI IPIs, so NMIs for the guest and quiesce NMIs mix.
#   Other CPUs park.
# Output, exactly (M = NMIs the handler counted; NMIs merge while one is pending, so M can be
# anything from 1 to the count sent):
#   nmiflood: sent=200 received=M nested=0
#   nmiflood: ok
# Exit status 0. Failures (exit status in brackets):
#   nmiflood: needs at least 2 CPUs, have N                 [1]
#   nmiflood: CPUs did not start                            [1]
#   nmiflood: attacker did not finish                       [1]
#   nmiflood: FAILED, NMI handler re-entered N times        [3]   (after the sent= line)
#   nmiflood: FAILED, no NMI received                       [1]
# An unexpected exception exits 9 (include/exc.inc).

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "apic.inc"
        .include "smp.inc"

        .equ NMI_VECTOR,        2
        .equ FLOOD_COUNT,       200
        .equ HANDLER_SPINS,     300             # the handler's busy time, in loop iterations
        .equ GAP_SPINS,         40              # attacker's pause between NMIs, in iterations
        .equ SETTLE_SPINS,      100000
        .equ MSR_PHYSBASE5,     0x20A
        .equ MSR_PHYSMASK5,     0x20B

        .section .text
        .globl  _start
_start:
        mov     %rdi, %rbx                      # RBX = boot information
        mov     BI_NCPUS(%rbx), %eax
        mov     %eax, ncpus(%rip)
        cmp     $2, %eax
        jae     1f
        PRINT   "nmiflood: needs at least 2 CPUs, have "
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1
1:      cmpl    $0x7272746D, BI_CMDLINE(%rbx)   # "mtrr": the other CPUs write MTRRs
        jne     2f
        movl    $1, mtrr_storm(%rip)
2:      call    exc_install_stubs
        SET_GATE NMI_VECTOR, nmi_handler
        call    idt_load

        xor     %esi, %esi
        mov     $ICR_ALL_BUT_SELF, %edi
        call    smp_start_aps
        mov     ncpus(%rip), %edx
        dec     %edx                            # APs expected
        mov     $TIMEOUT_SPINS, %ecx
3:      cmp     %edx, ap_ready(%rip)
        je      4f
        pause
        dec     %ecx
        jnz     3b
        PRINT   "nmiflood: CPUs did not start\n"
        EXIT    1
4:      movl    $1, go(%rip)
        # wait for the attacker; the victim's own work is this loop, with a CPUID now and then
        # (a hypervisor intercepts CPUID, so the victim leaves and re-enters its guest often,
        # as a real kernel does)
        mov     $(TIMEOUT_SPINS * 8), %r12d
5:      cmpl    $0, attacker_done(%rip)
        jne     6f
        xor     %eax, %eax
        cpuid
        pause
        dec     %r12d
        jnz     5b
        PRINT   "nmiflood: attacker did not finish\n"
        EXIT    1
6:      mov     $SETTLE_SPINS, %ecx
7:      pause
        dec     %ecx
        jnz     7b
        PRINT   "nmiflood: sent="
        mov     $FLOOD_COUNT, %eax
        PRINT_DEC %rax
        PRINT   " received="
        mov     received(%rip), %eax
        PRINT_DEC %rax
        PRINT   " nested="
        mov     nested(%rip), %eax
        PRINT_DEC %rax
        PRINT   "\n"
        cmpl    $0, nested(%rip)
        je      8f
        PRINT   "nmiflood: FAILED, NMI handler re-entered "
        mov     nested(%rip), %eax
        PRINT_DEC %rax
        PRINT   " times\n"
        EXIT    3
8:      cmpl    $0, received(%rip)
        jne     9f
        PRINT   "nmiflood: FAILED, no NMI received\n"
        EXIT    1
9:      PRINT   "nmiflood: ok\n"
        EXIT    0

# NMI handler (CPU 0), through an interrupt gate. The busy mark is only ever set here; finding
# it set on entry means this handler was entered before its previous run's IRET.
nmi_handler:
        push    %rax
        cmpl    $0, in_handler(%rip)
        je      1f
        lock incl nested(%rip)
1:      movl    $1, in_handler(%rip)
        lock incl received(%rip)
        push    %rbx
        push    %rcx
        push    %rdx
        xor     %eax, %eax                      # one CPUID inside the handler too (an exit while
        cpuid                                   # NMI-blocked: where direct injection bites)
        pop     %rdx
        pop     %rcx
        pop     %rbx
        mov     $HANDLER_SPINS, %eax
2:      dec     %eax
        jnz     2b
        movl    $0, in_handler(%rip)
        pop     %rax
        iretq

# APs (smp.inc calls this on the AP's own stack, EDI = APIC ID).
ap_main:
        mov     %edi, %ebx
        lidt    idt_pointer(%rip)               # same IDT: a stray exception gets reported
        call    apic_enable
        lock incl ap_ready(%rip)
1:      cmpl    $0, go(%rip)
        jne     2f
        pause
        jmp     1b
2:      cmp     $1, %ebx
        je      attacker
        cmpl    $0, mtrr_storm(%rip)
        jne     mtrr_writer
        ret                                     # park

attacker:
        mov     $FLOOD_COUNT, %ebx
1:      xor     %esi, %esi                      # ICR high: CPU 0 (the BSP, APIC ID 0)
        mov     $(ICR_DM_NMI | ICR_ASSERT), %edi
        call    apic_send_ipi
        call    apic_wait_icr_idle
        mov     $GAP_SPINS, %ecx
2:      dec     %ecx
        jnz     2b
        dec     %ebx
        jnz     1b
        movl    $1, attacker_done(%rip)
        ret

# MTRR writer: a valid variable range (SDM Vol.3A 11.11.2.3): base 1 GiB + 16 MiB x APIC ID,
# type WB; mask 16 MiB with the valid bit, within a 36-bit physical address width.
mtrr_writer:
1:      cmpl    $0, attacker_done(%rip)
        jne     2f
        mov     $MSR_PHYSBASE5, %ecx
        mov     %ebx, %eax
        shl     $24, %eax
        add     $0x40000000, %eax
        or      $6, %eax
        xor     %edx, %edx
        wrmsr
        mov     $MSR_PHYSMASK5, %ecx
        mov     $0xFF000800, %eax
        mov     $0xF, %edx
        wrmsr
        jmp     1b
2:      ret

        .section .bss
        .p2align 2
ncpus:          .skip 4
mtrr_storm:     .skip 4
ap_ready:       .skip 4
go:             .skip 4
attacker_done:  .skip 4
received:       .skip 4
nested:         .skip 4
in_handler:     .skip 4
