# nmiipi.S - every CPU sends NMI IPIs to the next one, and every NMI must arrive exactly once.
#
# Why: under a hypervisor such as XMHF an NMI IPI between guest CPUs becomes an NMI exit on the
# target, and reaches the guest only through the hypervisor's own NMI injection (XMHF: a pending
# count and an NMI-window exit, docs/xmhf-facts.md "Guest NMI injection"). Losing one, or injecting
# one twice, changes the counts below.
#
# Each CPU c of N (c = APIC ID; N from the boot information, 1..64) sends K NMIs (command line
# "nmis=K", default 20, 1..100000) to CPU (c + 1) mod N - to itself when N = 1 - one at a time:
# after each send it waits until the target's NMI handler has counted it. So no NMI is ever sent
# while an earlier one to the same target may still be pending or in its handler, and the SDM's
# latch rule (at most one NMI held pending while NMIs are blocked, SDM Vol.3A interrupt chapter,
# "NMI Handling" / "Handling Multiple NMIs") can never merge two: every CPU ends with exactly K.
# Sending starts only after every CPU has loaded its IDT and TSS (start barrier): an NMI that
# hits an AP still in its start-up code would be taken through a wrong IDT.
#
# The NMI handler (vector 2) runs on its CPU's own interrupt stack, IST1 of a per-CPU 64-bit
# TSS (SDM Vol.3A interrupt chapter, "Interrupt Stack Table"; task management chapter, "Task
# Management in 64-bit Mode"): a TSS descriptor is marked busy by LTR, so CPUs cannot share
# one, hence one TSS and one IST stack per CPU and a GDT with N TSS descriptors (selector
# 0x28 + 16 c). The handler only increments its CPU's counter (nmi_count[APIC ID]) and IRETs.
# NMIs are sent with the xAPIC ICR: destination APIC ID in ICR high bits 31:24, low dword
# delivery mode NMI (100b), level assert (SDM Vol.3A APIC chapter, "Interrupt Command Register").
#
# Output for N CPUs, exactly (then exit 0):
#   nmiipi: CPU(0x00) nmis=K\n ... nmiipi: CPU(0xNN) nmis=K\n     one line per CPU, in order
#   nmiipi: ok\n
# Failures: a CPU line shows the count it got (and " timeout at send S" if CPU c's S-th NMI was
# not counted by its target in time), then "nmiipi: FAILED\n", exit 1. One-line errors:
# "nmiipi: bad nmis" and "nmiipi: unsupported CPU count N" (exit 1), "nmiipi: CPU(0xNN) timeout
# at start|end" (exit 2). An unexpected exception exits 9 (exc.inc).

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "apic.inc"
        .include "smp.inc"
        .include "cmdline.inc"
        .include "pcpu_tss.inc"

        .equ DEFAULT_NMIS,      20
        .equ MAX_NMIS,          100000
        .equ NMI_VECTOR,        2
        .equ IST_STACK_SIZE,    4096
        # After the last NMI was counted: time for a wrongly duplicated NMI to show up before the
        # counts are printed (a correct machine delivers none).
        .equ SETTLE_SPINS,      20000

        .section .text
        .globl  _start
_start:
        mov     BI_NCPUS(%rdi), %eax
        mov     %eax, ncpus(%rip)
        test    %eax, %eax
        jz      bad_count
        cmp     $SMP_MAX_CPUS, %eax
        ja      bad_count

        movl    $DEFAULT_NMIS, nmis(%rip)
        lea     key_nmis(%rip), %rsi
        call    cmdline_number
        test    %edx, %edx
        jz      1f
        cmp     $1, %edx
        jne     bad_nmis
        test    %rax, %rax
        jz      bad_nmis
        cmp     $MAX_NMIS, %rax
        ja      bad_nmis
        mov     %eax, nmis(%rip)
1:
        mov     ncpus(%rip), %edi               # a TSS per CPU, IST1 = its own NMI stack
        lea     (ist_stacks + IST_STACK_SIZE)(%rip), %rsi
        mov     $IST_STACK_SIZE, %edx
        call    pcpu_gdt_build
        call    exc_install_stubs
        SET_GATE NMI_VECTOR, nmi_handler, 1     # IST1: this CPU's own NMI stack
        xor     %edi, %edi
        call    cpu_setup

        cmpl    $1, ncpus(%rip)
        je      2f
        xor     %esi, %esi
        mov     $ICR_ALL_BUT_SELF, %edi
        call    smp_start_aps
        jmp     3f
2:      call    apic_enable                     # (smp_start_aps does this otherwise)
3:      xor     %edi, %edi
        call    cpu_main                        # the BSP takes part as CPU 0

        # judge once every line is out (turn = N)
        mov     ncpus(%rip), %ecx
        mov     $TIMEOUT_SPINS, %edx
4:      cmp     %ecx, turn(%rip)
        je      5f
        pause
        dec     %edx
        jnz     4b
        PRINT   "nmiipi: timeout waiting for the summary lines\n"
        EXIT    2
5:      mov     nmis(%rip), %esi
        xor     %edx, %edx
6:      cmp     %esi, nmi_count(,%rdx,4)
        jne     7f
        cmpl    $0, send_timeout(,%rdx,4)
        jne     7f
        inc     %edx
        cmp     %ecx, %edx
        jb      6b
        PRINT   "nmiipi: ok\n"
        EXIT    0
7:      PRINT   "nmiipi: FAILED\n"
        EXIT    1

bad_count:
        PRINT   "nmiipi: unsupported CPU count "
        mov     ncpus(%rip), %eax
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1

bad_nmis:
        PRINT   "nmiipi: bad nmis\n"
        EXIT    1

# AP entry from smp.inc (own stack, EDI = APIC ID, interrupts off).
ap_main:
        push    %rdi
        call    cpu_setup
        call    apic_enable                     # the sender side needs an enabled APIC
        pop     %rdi
        jmp     cpu_main                        # returns to smp.inc, which parks the AP

# cpu_setup: EDI = CPU. The per-CPU GDT and TSS (pcpu_tss.inc), then the shared IDT. Clobbers RAX.
cpu_setup:
        call    pcpu_gdt_load
        lidt    idt_pointer(%rip)
        ret

# cpu_main: EDI = c. Start barrier, K sends to the next CPU, end barrier, summary line.
cpu_main:
        mov     %edi, %r12d                     # R12 = c
        lea     1(%rdi), %eax
        xor     %edx, %edx
        divl    ncpus(%rip)
        mov     %edx, %r13d                     # R13 = target (c + 1) mod N

        lea     start_count(%rip), %rdi
        call    barrier
        test    %eax, %eax
        jnz     timeout_start

        mov     %r13d, %esi
        shl     $ICR_DEST_SHIFT, %esi           # ICR high: the target
        mov     $(ICR_DM_NMI | ICR_ASSERT), %edi
        mov     $1, %ebx                        # EBX = number of this send
1:      cmp     nmis(%rip), %ebx
        ja      3f
        call    apic_send_ipi
        call    apic_wait_icr_idle
        mov     $TIMEOUT_SPINS, %ecx
2:      cmp     %ebx, nmi_count(,%r13,4)        # our sends are the target's only NMIs
        jae     4f
        pause
        dec     %ecx
        jnz     2b
        mov     %ebx, send_timeout(,%r12,4)     # give up; the summary shows it
        jmp     3f
4:      inc     %ebx
        jmp     1b

3:      lea     end_count(%rip), %rdi
        call    barrier
        test    %eax, %eax
        jnz     timeout_end
        mov     $SETTLE_SPINS, %ecx
5:      pause
        dec     %ecx
        jnz     5b

        # the summary line, in APIC-ID order
6:      cmp     %r12d, turn(%rip)
        je      7f
        pause
        jmp     6b
7:      SERIAL_LOCK
        PRINT   "nmiipi: CPU("
        PRINT_HEX %r12, 2
        PRINT   ") nmis="
        mov     nmi_count(,%r12,4), %eax
        PRINT_DEC %rax
        mov     send_timeout(,%r12,4), %eax
        test    %eax, %eax
        jz      8f
        PRINT   " timeout at send "
        PRINT_DEC %rax
8:      PRINT   "\n"
        SERIAL_UNLOCK
        lea     1(%r12), %eax
        mov     %eax, turn(%rip)
        ret

timeout_start:
        SERIAL_LOCK
        PRINT   "nmiipi: CPU("
        PRINT_HEX %r12, 2
        PRINT   ") timeout at start\n"
        EXIT    2

timeout_end:
        SERIAL_LOCK
        PRINT   "nmiipi: CPU("
        PRINT_HEX %r12, 2
        PRINT   ") timeout at end\n"
        EXIT    2

# barrier: RDI = counter. Counts this CPU in and waits, bounded, until all N are in.
# EAX = 0, or 1 on timeout. Clobbers ECX, EDX.
barrier:
        lock incl (%rdi)
        mov     ncpus(%rip), %edx
        mov     $TIMEOUT_SPINS, %ecx
1:      cmp     %edx, (%rdi)
        je      2f
        pause
        dec     %ecx
        jnz     1b
        mov     $1, %eax
        ret
2:      xor     %eax, %eax
        ret

# NMI handler, on IST1 of this CPU's TSS. NMIs stay blocked until the IRETQ. Only this CPU
# increments its counter; LOCK is not needed for that, the sender just polls it.
nmi_handler:
        push    %rax
        call    apic_id                         # EAX = this CPU's APIC ID (= index)
        incl    nmi_count(,%rax,4)
        pop     %rax
        iretq

        .section .rodata
key_nmis:
        .asciz  "nmis="

        .section .bss
        .p2align 12
ist_stacks:     .skip   IST_STACK_SIZE * SMP_MAX_CPUS
        .p2align 2
nmi_count:      .skip 4 * SMP_MAX_CPUS          # NMIs handled, per CPU
send_timeout:   .skip 4 * SMP_MAX_CPUS          # per CPU: the send its target never counted
ncpus:          .skip 4
nmis:           .skip 4
start_count:    .skip 4
end_count:      .skip 4
turn:           .skip 4
