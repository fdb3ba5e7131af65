# nmiipi.S - every CPU sends NMI IPIs to the next one, and every NMI must arrive exactly once.
#
# Why: under a hypervisor such as XMHF an NMI IPI between guest CPUs becomes an NMI exit on the
# target, and reaches the guest only through the hypervisor's own NMI injection (XMHF: a pending
# count and an NMI-window exit, XMHF-FACTS.md "Guest NMI injection"). Losing one, or injecting
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

        .equ DEFAULT_NMIS,      20
        .equ MAX_NMIS,          100000
        .equ NMI_VECTOR,        2
        .equ SEL_TSS0,          0x28            # CPU c's TSS: SEL_TSS0 + 16 c
        .equ TSS_SIZE,          104
        .equ TSS_STRIDE,        128             # one TSS per 128 bytes: never crosses a page
        .equ TSS_IST1,          36
        .equ TSS_IOMAP_BASE,    102
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
        call    gdt_build
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

# gdt_build (BSP, before any AP starts): the boot GDT's five descriptors, then one TSS
# descriptor per CPU; each TSS gets IST1 = top of its CPU's NMI stack and no I/O bitmap.
# Clobbers RAX, RCX, RDX, RSI, RDI, R8.
gdt_build:
        mov     $BOOT_GDT_ADDR, %esi
        lea     gdt_table(%rip), %rdi
        mov     $(BOOT_GDT_SIZE / 8), %ecx
        cld
        rep movsq
        xor     %r8d, %r8d                      # R8 = CPU
1:      cmp     ncpus(%rip), %r8d
        jae     2f
        mov     %r8, %rax
        imul    $TSS_STRIDE, %rax, %rax
        lea     tss_area(%rip), %rsi
        add     %rax, %rsi                      # RSI = CPU R8's TSS
        lea     1(%r8), %rax
        imul    $IST_STACK_SIZE, %rax, %rax
        lea     ist_stacks(%rip), %rdx
        add     %rdx, %rax
        mov     %rax, TSS_IST1(%rsi)            # top of its stack (16-byte aligned)
        movw    $TSS_SIZE, TSS_IOMAP_BASE(%rsi) # I/O map base at the limit: no bitmap
        # 16-byte descriptor (SDM "TSS and LDT Descriptors in 64-bit mode"): limit 103, type 9
        # (available 64-bit TSS), P = 1, DPL 0, G = 0, base 15:0 | 23:16 | 31:24 | 63:32.
        mov     %rsi, %rax
        mov     $(TSS_SIZE - 1), %edx
        mov     %eax, %ecx
        and     $0xFFFFFF, %ecx
        shl     $16, %rcx
        or      %rcx, %rdx
        mov     $0x89, %ecx
        shl     $40, %rcx
        or      %rcx, %rdx
        mov     %eax, %ecx
        shr     $24, %ecx
        shl     $56, %rcx
        or      %rcx, %rdx
        mov     %r8, %rcx
        shl     $4, %rcx
        lea     (gdt_table + SEL_TSS0)(%rip), %rdi
        add     %rcx, %rdi                      # RDI = CPU R8's descriptor
        mov     %rdx, (%rdi)
        shr     $32, %rax
        mov     %rax, 8(%rdi)                   # base 63:32, reserved 0
        inc     %r8d
        jmp     1b
2:      mov     ncpus(%rip), %eax
        shl     $4, %eax
        add     $(SEL_TSS0 - 1), %eax
        mov     %ax, gdt_pointer(%rip)          # limit: up to the last TSS descriptor
        ret

# cpu_setup: EDI = CPU. Loads the shared GDT (reloading CS and the data segments with the same
# selectors), TR = this CPU's TSS, and the shared IDT. Clobbers RAX.
cpu_setup:
        lgdt    gdt_pointer(%rip)
        lea     1f(%rip), %rax
        push    $SEL_CODE64
        push    %rax
        lretq
1:      mov     $SEL_DATA, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        mov     %eax, %fs
        mov     %eax, %gs
        mov     %edi, %eax
        shl     $4, %eax
        add     $SEL_TSS0, %eax
        ltr     %ax
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

        .section .data
        .p2align 4
gdt_table:
        .fill   BOOT_GDT_SIZE / 8, 8, 0         # copied from the boot GDT
        .fill   2 * SMP_MAX_CPUS, 8, 0          # TSS descriptors, 16 bytes per CPU
        .p2align 3
        .word   0, 0, 0                         # so the base below is 8-byte aligned
gdt_pointer:
        .word   0                               # limit: set by gdt_build
        .quad   gdt_table

        .section .bss
        .p2align 12
ist_stacks:     .skip   IST_STACK_SIZE * SMP_MAX_CPUS
        .p2align 7
tss_area:       .skip   TSS_STRIDE * SMP_MAX_CPUS
        .p2align 2
nmi_count:      .skip 4 * SMP_MAX_CPUS          # NMIs handled, per CPU
send_timeout:   .skip 4 * SMP_MAX_CPUS          # per CPU: the send its target never counted
ncpus:          .skip 4
nmis:           .skip 4
start_count:    .skip 4
end_count:      .skip 4
turn:           .skip 4
