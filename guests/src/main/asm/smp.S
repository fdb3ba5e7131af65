# smp.S - multiprocessor start-up: the bootstrap processor starts every application
# processor with INIT-SIPI-SIPI and checks that each one arrives in 64-bit mode.
#
# Each AP runs the shared trampoline (include/smp.inc: real mode at 0x9000 -> 32-bit protected
# mode -> long mode), takes its own stack by APIC ID, then with LOCKed instructions sets its
# bit in smp_up_bitmap and increments smp_up_count, and halts forever (CLI; HLT loop). The BSP
# marks itself (bit 0), waits with a bounded PAUSE loop until count = N - 1 and the bitmap has
# bits 0..N-1 set, and only then prints, in APIC-ID order - so the output does not depend on
# the order in which APs arrive.
#
# Output for N CPUs (N from the boot information), exactly:
#   CPU 1 up\n ... CPU N-1 up\n        one line per AP, APIC IDs ascending
#   smp: all N CPUs up\n
# e.g. with 4 CPUs: "CPU 1 up", "CPU 2 up", "CPU 3 up", "smp: all 4 CPUs up".
# With the command line "x2apic" the BSP switches its APIC to x2APIC mode first and sends
# INIT-SIPI-SIPI through the x2APIC ICR (MSR 0x830); the output is the same.
# Exit status 0. Failures (exit 1), one line each:
#   smp: timeout, up=0x<bitmap as 16 hex digits>     not all APs checked in in time
#   smp: unsupported CPU count N (1..64)
#   smp: unexpected count C, up=0x<bitmap>            count and bitmap disagree

        .include "hvlab.inc"
        .include "serial.inc"
        .include "apic.inc"
        .include "smp.inc"

        .section .text
        .globl  _start
_start:
        mov     BI_NCPUS(%rdi), %ebx            # RBX = N
        test    %ebx, %ebx
        jz      bad_count
        cmp     $SMP_MAX_CPUS, %ebx
        ja      bad_count

        # Expected bitmap: bits 0..N-1 (N = 64 would overflow the shift, hence the branch).
        mov     $-1, %r12
        cmp     $64, %ebx
        je      1f
        mov     %ebx, %ecx
        mov     $1, %r12d
        shl     %cl, %r12
        dec     %r12                            # R12 = (1 << N) - 1
1:
        lock btsq $0, smp_up_bitmap(%rip)       # the BSP (APIC ID 0) is up by definition

        cmp     $1, %ebx
        je      2f
        cmpl    $0x70613278, BI_CMDLINE(%rdi)   # "x2ap(ic)": start the APs through the x2APIC ICR
        jne     1f
        call    apic_enable_x2apic
1:      xor     %esi, %esi
        mov     $ICR_ALL_BUT_SELF, %edi
        call    smp_start_aps

        # Bounded wait for every AP. Read the count first: an AP sets its bit before it
        # increments the count, so count = N - 1 implies all bits are visible (x86 stores are
        # seen in program order; LOCKed operations are fully ordered).
2:      lea     -1(%rbx), %r13d                 # R13 = number of APs
        mov     $TIMEOUT_SPINS, %ecx
3:      mov     smp_up_count(%rip), %eax
        cmp     %r13d, %eax
        je      4f
        pause
        dec     %ecx
        jnz     3b
        PRINT   "smp: timeout, up="
        PRINT_HEX smp_up_bitmap(%rip), 16
        PRINT   "\n"
        EXIT    1

4:      mov     smp_up_bitmap(%rip), %rax
        cmp     %r12, %rax
        jne     bad_bitmap

        # One line per AP, ascending APIC ID.
        mov     $1, %r14d
5:      cmp     %ebx, %r14d
        jae     6f
        PRINT   "CPU "
        PRINT_DEC %r14
        PRINT   " up\n"
        inc     %r14d
        jmp     5b
6:      PRINT   "smp: all "
        PRINT_DEC %rbx
        PRINT   " CPUs up\n"
        EXIT    0

bad_count:
        PRINT   "smp: unsupported CPU count "
        PRINT_DEC %rbx
        PRINT   " (1..64)\n"
        EXIT    1

bad_bitmap:
        PRINT   "smp: unexpected count "
        mov     smp_up_count(%rip), %eax
        PRINT_DEC %rax
        PRINT   ", up="
        PRINT_HEX smp_up_bitmap(%rip), 16
        PRINT   "\n"
        EXIT    1

# AP check-in (called by smp.inc on the AP's own stack, EDI = APIC ID < 64).
ap_main:
        mov     %edi, %eax
        lock btsq %rax, smp_up_bitmap(%rip)     # LOCK: several APs update the word at once
        lock incl smp_up_count(%rip)
        ret                                     # smp.inc parks the AP: CLI; HLT forever

        .section .bss
        .p2align 3
smp_up_bitmap:  .skip 8                         # bit i = CPU with APIC ID i is up
smp_up_count:   .skip 4                         # APs checked in
