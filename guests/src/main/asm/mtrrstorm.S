# mtrrstorm.S - every CPU writes variable-range MTRRs at the same time (an "MTRR storm").
#
# Why: the variable-range MTRRs IA32_MTRR_PHYSBASEk / IA32_MTRR_PHYSMASKk (MSRs 0x200 + 2k and
# 0x201 + 2k, SDM Vol.3A, memory cache control chapter, "Variable Range MTRRs") belong to each
# logical processor. A hypervisor that virtualizes them must turn each guest write into new
# memory types for the guest's memory; XMHF keeps one copy for all CPUs and changes EPT memory
# types on every write, so each WRMSR to an MTRR quiesces all CPUs (docs/xmhf-facts.md "memprot").
# With every CPU writing in a loop, quiesce requests from several CPUs meet: a quiesce storm.
#
# What each CPU c (of N, c = APIC ID) does, after all CPUs have started (start barrier):
#   1. Storm: ITERS times (command line "iters=ITERS", default 50, 1..100000), with iteration i:
#      write PHYSBASEk = base(c, i), then PHYSMASKk = mask(c, i), then read both back; k = 2 + c
#      mod 6 (pairs 0 and 1 are left alone, pairs 2-7 are unused at reset). Each value read is
#      checked to be one that some CPU using the same pair has written (or is writing): on the
#      bare machine each CPU reads exactly its own value, but a hypervisor with one global copy
#      may return another CPU's value, which is just as legitimate for a shared register.
#   2. Barrier: all CPUs finished the storm.
#   3. Under a guest spin lock: write base(c, ITERS-1) and mask(c, ITERS-1) again and read both
#      back; now nobody else writes MTRRs, so both must read back exactly.
#   4. Print its summary line, CPUs in APIC-ID order (each waits for its turn).
# The values (all legal: SDM "IA32_MTRR_PHYSBASEn and IA32_MTRR_PHYSMASKn Variable-Range
# Register Pair": type in bits 7:0, base and mask in bits MAXPHYADDR-1:12, valid flag in mask
# bit 11, every other bit reserved and #GP if set):
#   base(c, i) = c << 30 | (i + 1) << 12 | TYPES[(c + i) mod 5],  TYPES = UC 0, WC 1, WT 4,
#                WP 5, WB 6 (SDM "Memory Types and Their Properties"; 2, 3, 7+ are reserved)
#                so a base value names its writer and iteration, and is never 0 (the reset value)
#   mask(c, i) = contiguous mask bits s..W-1 | ((c + i) & 1) << 11, s = 12 + (c + 3i) mod (W-12)
#                (valid flag set on every other write: the range is alternately on and off)
# W = min(MAXPHYADDR, 36), MAXPHYADDR from CPUID 0x80000008 EAX[7:0] (36 without that leaf; SDM
# Vol.3A 4.1.4, "Enumeration of Paging Features by CPUID"). Why at most 36: mask bits 35:12 exist
# on every CPU whose MAXPHYADDR is at least 36, and a mask whose bits from 36 up are clear is
# still legal (it only repeats the range every 64 GiB, far above RAM); values that use bits 36 and
# up would be legal only where MAXPHYADDR says so.
# Checks of a value read back (the set of "written" values is announced before each WRMSR):
#   base: reserved bits 11:8 and 63:36 zero; its writer c' < N uses the same pair (c' mod 6 =
#         c mod 6); its iteration i' was announced by c' (progress[c'] > i'); type = TYPES[..].
#   mask: bits 10:0 zero; mask bits contiguous from some s up to W-1; the pair's bitmap of
#         announced (s, valid flag) combinations has that one.
# The guest skips the SDM's MTRR update procedure (disable caching, WBINVD, disable MTRRs,
# update, re-enable: "MTRR Maintenance Programming Interface") and breaks the rule that all
# processors have the same MTRRs ("MTRR Considerations in MP Systems"): the machine has no
# caches, and the point is to hammer the write path, not to use the memory types.
#
# Output for N CPUs, exactly:
#   mtrrstorm: CPU(0x00) writes=ITERS\n ... mtrrstorm: CPU(0xNN) writes=ITERS\n   (N lines)
#   mtrrstorm: ok\n
# writes = storm iterations done (each writes both registers of the pair). Exit status 0.
# Failures: a CPU line ends with " bad msr=0x2MM value=0x<16 digits> errors=E" (the first bad
# read and the number of bad reads), then "mtrrstorm: FAILED\n", exit 1; one-line errors
# "mtrrstorm: bad iters" (exit 1), "mtrrstorm: unsupported CPU count N" (exit 1),
# "mtrrstorm: CPU(0xNN) timeout at start|storm" (exit 2). An exception exits 9 (exc.inc).

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "apic.inc"
        .include "smp.inc"
        .include "cmdline.inc"

        .equ DEFAULT_ITERS,     50
        .equ MAX_ITERS,         100000          # (i + 1) must fit base bits 29:12
        .equ MTRR_PHYSBASE2,    0x204
        .equ PAIRS,             6               # pairs 2..7
        .equ BASE_CPU_SHIFT,    30
        .equ BASE_ITER_MASK,    0x3FFFF

        .section .text
        .globl  _start
_start:
        mov     BI_NCPUS(%rdi), %eax
        mov     %eax, ncpus(%rip)
        test    %eax, %eax
        jz      bad_count
        cmp     $SMP_MAX_CPUS, %eax
        ja      bad_count

        movl    $DEFAULT_ITERS, iters(%rip)
        lea     key_iters(%rip), %rsi
        call    cmdline_number
        test    %edx, %edx
        jz      1f
        cmp     $1, %edx
        jne     bad_iters
        test    %rax, %rax
        jz      bad_iters
        cmp     $MAX_ITERS, %rax
        ja      bad_iters
        mov     %eax, iters(%rip)
1:
        # W = min(MAXPHYADDR, 36) (see the header), and the mask bits W-1:12 as a 64-bit value.
        mov     $0x80000000, %eax
        cpuid
        mov     $36, %ecx
        cmp     $0x80000008, %eax
        jb      2f
        mov     $0x80000008, %eax
        cpuid
        movzbl  %al, %ecx
        cmp     $36, %ecx
        jbe     2f
        mov     $36, %ecx
2:      mov     %ecx, width(%rip)
        mov     $1, %eax
        shl     %cl, %rax
        dec     %rax
        and     $~0xFFF, %rax
        mov     %rax, mask_bits(%rip)

        call    exc_install_stubs
        call    idt_load

        cmpl    $1, ncpus(%rip)
        je      3f
        xor     %esi, %esi
        mov     $ICR_ALL_BUT_SELF, %edi
        call    smp_start_aps
3:      xor     %edi, %edi
        call    cpu_main                        # the BSP takes part as CPU 0, and prints last

        # every CPU has printed its line (turn = N): judge
        mov     ncpus(%rip), %ecx
        mov     $TIMEOUT_SPINS, %edx
4:      cmp     %ecx, turn(%rip)
        je      5f
        pause
        dec     %edx
        jnz     4b
        PRINT   "mtrrstorm: timeout waiting for the summary lines\n"
        EXIT    2
5:      xor     %eax, %eax
        xor     %edx, %edx
6:      or      fail_count(,%rdx,4), %eax
        inc     %edx
        cmp     %ecx, %edx
        jb      6b
        test    %eax, %eax
        jnz     7f
        PRINT   "mtrrstorm: ok\n"
        EXIT    0
7:      PRINT   "mtrrstorm: FAILED\n"
        EXIT    1

bad_count:
        PRINT   "mtrrstorm: unsupported CPU count "
        mov     ncpus(%rip), %eax
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1

bad_iters:
        PRINT   "mtrrstorm: bad iters\n"
        EXIT    1

# AP entry from smp.inc (own stack, EDI = APIC ID).
ap_main:
        lidt    idt_pointer(%rip)               # a stray exception is reported, not a triple fault
        jmp     cpu_main                        # returns to smp.inc, which parks the AP

# cpu_main: EDI = this CPU's index (= APIC ID). Steps 1-4 of the header. Clobbers everything
# but RSP and RBP.
cpu_main:
        mov     %edi, %r12d                     # R12 = c
        mov     %edi, %eax
        xor     %edx, %edx
        mov     $PAIRS, %ecx
        div     %ecx
        mov     %edx, %r15d                     # R15 = pair index - 2 = c mod 6
        lea     MTRR_PHYSBASE2(,%rdx,2), %r14d  # R14 = PHYSBASEk; PHYSMASKk = R14 + 1

        lea     start_count(%rip), %rdi
        call    barrier
        test    %eax, %eax
        jnz     timeout_start

        # ---- 1. the storm
        xor     %r13d, %r13d                    # R13 = i
1:      cmp     iters(%rip), %r13d
        jae     2f
        mov     %r12d, %edi
        mov     %r13d, %esi
        call    base_value
        lea     1(%r13), %edx
        mov     %edx, progress(,%r12,4)         # announce before the write (WRMSR serializes)
        mov     %r14d, %ecx
        call    wrmsr64
        mov     %r12d, %edi
        mov     %r13d, %esi
        call    mask_value
        lock btsq %rdx, announced(,%r15,8)
        lea     1(%r14), %ecx
        call    wrmsr64

        mov     %r14d, %ecx
        call    rdmsr64
        call    check_base
        lea     1(%r14), %ecx
        call    rdmsr64
        call    check_mask
        incl    writes(,%r12,4)
        inc     %r13d
        jmp     1b

        # ---- 2. everybody is done writing
2:      lea     storm_count(%rip), %rdi
        call    barrier
        test    %eax, %eax
        jnz     timeout_storm

        # ---- 3. the last value again, alone: it must read back exactly
        call    mtrr_lock
        mov     iters(%rip), %r13d
        dec     %r13d
        mov     %r12d, %edi
        mov     %r13d, %esi
        call    base_value
        mov     %rax, %rbx
        mov     %r14d, %ecx
        call    wrmsr64
        call    rdmsr64
        cmp     %rbx, %rax
        je      3f
        call    record_bad
3:      mov     %r12d, %edi
        mov     %r13d, %esi
        call    mask_value
        mov     %rax, %rbx
        lea     1(%r14), %ecx
        call    wrmsr64
        call    rdmsr64
        cmp     %rbx, %rax
        je      4f
        call    record_bad
4:      call    mtrr_unlock

        # ---- 4. the summary line, in APIC-ID order
5:      cmp     %r12d, turn(%rip)
        je      6f
        pause
        jmp     5b
6:      SERIAL_LOCK
        PRINT   "mtrrstorm: CPU("
        PRINT_HEX %r12, 2
        PRINT   ") writes="
        mov     writes(,%r12,4), %eax
        PRINT_DEC %rax
        mov     fail_count(,%r12,4), %eax
        test    %eax, %eax
        jz      7f
        PRINT   " bad msr="
        mov     fail_msr(,%r12,4), %eax
        PRINT_HEX %rax, 3
        PRINT   " value="
        mov     fail_value(,%r12,8), %rax
        PRINT_HEX %rax, 16
        PRINT   " errors="
        mov     fail_count(,%r12,4), %eax
        PRINT_DEC %rax
7:      PRINT   "\n"
        SERIAL_UNLOCK
        lea     1(%r12), %eax
        mov     %eax, turn(%rip)
        ret

timeout_start:
        SERIAL_LOCK
        PRINT   "mtrrstorm: CPU("
        PRINT_HEX %r12, 2
        PRINT   ") timeout at start\n"
        EXIT    2

timeout_storm:
        SERIAL_LOCK
        PRINT   "mtrrstorm: CPU("
        PRINT_HEX %r12, 2
        PRINT   ") timeout at storm\n"
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

# mtrr_lock / mtrr_unlock: test-and-set spin lock (XCHG with memory is locked, SDM Vol.3A
# "Locked Atomic Operations"). Clobber EAX.
mtrr_lock:
1:      mov     $1, %eax
        xchg    %eax, mtrr_lock_word(%rip)
        test    %eax, %eax
        jz      3f
2:      pause
        cmpl    $0, mtrr_lock_word(%rip)
        jne     2b
        jmp     1b
3:      ret

mtrr_unlock:
        movl    $0, mtrr_lock_word(%rip)        # a plain store releases (stores are ordered)
        ret

# wrmsr64: ECX = MSR, RAX = value. rdmsr64: ECX = MSR, returns RAX. Preserve ECX, clobber EDX.
wrmsr64:
        mov     %rax, %rdx
        shr     $32, %rdx
        wrmsr
        ret

rdmsr64:
        rdmsr
        shl     $32, %rdx
        mov     %eax, %eax
        or      %rdx, %rax
        ret

# type_of: EAX = TYPES[EAX mod 5]. Clobbers EDX.
type_of:
        push    %rcx
        xor     %edx, %edx
        mov     $5, %ecx
        div     %ecx
        lea     mtrr_types(%rip), %rax
        movzbl  (%rax,%rdx), %eax
        pop     %rcx
        ret

# base_value: EDI = c, ESI = i. RAX = base(c, i). Clobbers EDX.
base_value:
        push    %rcx
        lea     (%rdi,%rsi), %eax
        call    type_of
        mov     %eax, %ecx                      # RCX = type
        lea     1(%rsi), %eax
        shl     $12, %rax
        or      %rax, %rcx
        mov     %edi, %eax
        shl     $BASE_CPU_SHIFT, %rax
        or      %rcx, %rax
        pop     %rcx
        ret

# mask_value: EDI = c, ESI = i. RAX = mask(c, i); EDX = its announcement bit, (s - 12) * 2 + V.
mask_value:
        push    %rbx
        push    %rcx
        lea     (%rsi,%rsi,2), %eax
        add     %edi, %eax                      # c + 3i
        mov     width(%rip), %ecx
        sub     $12, %ecx
        xor     %edx, %edx
        div     %ecx                            # EDX = (c + 3i) mod (W - 12)
        lea     12(%rdx), %ecx                  # ECX = s
        mov     $-1, %rax
        shl     %cl, %rax
        and     mask_bits(%rip), %rax           # bits W-1:s
        lea     (%rdi,%rsi), %ebx
        and     $1, %ebx                        # V
        lea     (%rbx,%rdx,2), %edx             # announcement bit
        shl     $11, %rbx
        or      %rbx, %rax
        pop     %rcx
        pop     %rbx
        ret

# check_base: RAX = PHYSBASEk read back, ECX = its MSR, R12 = c, R15 = c mod 6.
# Records a bad value. Preserves RAX, ECX; clobbers RDX, RSI, RDI.
check_base:
        push    %rax
        push    %rbx
        mov     %rax, %rbx
        test    $0xF00, %ebx                    # reserved bits 11:8
        jnz     8f
        mov     %rbx, %rdx
        shr     $36, %rdx                       # base bits stay below 36 (header)
        jnz     8f
        mov     %rbx, %rdi
        shr     $BASE_CPU_SHIFT, %rdi           # RDI = c'
        cmp     ncpus(%rip), %edi
        jae     8f
        mov     %edi, %eax
        xor     %edx, %edx
        mov     $PAIRS, %esi
        div     %esi
        cmp     %r15d, %edx                     # same pair as ours
        jne     8f
        mov     %rbx, %rsi
        shr     $12, %rsi
        and     $BASE_ITER_MASK, %esi           # ESI = i' + 1
        jz      8f
        cmp     progress(,%rdi,4), %esi         # announced by c'
        ja      8f
        lea     -1(%rdi,%rsi), %eax             # c' + i'
        call    type_of
        cmp     %bl, %al
        jne     8f
        pop     %rbx
        pop     %rax
        ret
8:      pop     %rbx
        pop     %rax
        jmp     record_bad

# check_mask: RAX = PHYSMASKk read back, ECX = its MSR, R15 = c mod 6. Records a bad value.
# Preserves RAX, ECX; clobbers RDX, RSI, RDI.
check_mask:
        push    %rax
        push    %rbx
        push    %rcx
        mov     %rax, %rbx
        test    $0x7FF, %ebx                    # reserved bits 10:0
        jnz     8f
        mov     %rbx, %rsi
        and     $~0xFFF, %rsi                   # RSI = the mask bits
        jz      8f                              # never written: s < W always
        bsf     %rsi, %rcx                      # ECX = s
        mov     $-1, %rdx
        shl     %cl, %rdx
        and     mask_bits(%rip), %rdx
        cmp     %rdx, %rsi                      # exactly bits W-1:s (also: nothing from W up)
        jne     8f
        sub     $12, %ecx
        mov     %rbx, %rdx
        shr     $11, %rdx
        and     $1, %edx
        lea     (%rdx,%rcx,2), %edx
        bt      %rdx, announced(,%r15,8)
        jnc     8f
        pop     %rcx
        pop     %rbx
        pop     %rax
        ret
8:      pop     %rcx
        pop     %rbx
        pop     %rax
        jmp     record_bad

# record_bad: RAX = value read, ECX = MSR, R12 = c. Keeps the first bad read, counts all.
# Preserves RAX, ECX.
record_bad:
        cmpl    $0, fail_count(,%r12,4)
        jne     1f
        mov     %ecx, fail_msr(,%r12,4)
        mov     %rax, fail_value(,%r12,8)
1:      incl    fail_count(,%r12,4)
        ret

        .section .rodata
mtrr_types:
        .byte   0, 1, 4, 5, 6                   # UC, WC, WT, WP, WB
key_iters:
        .asciz  "iters="

        .section .bss
        .p2align 3
mask_bits:      .skip 8                         # bits W-1:12
announced:      .skip 8 * PAIRS                 # per pair: bit (s - 12) * 2 + V announced
fail_value:     .skip 8 * SMP_MAX_CPUS
progress:       .skip 4 * SMP_MAX_CPUS          # per CPU: base values announced
writes:         .skip 4 * SMP_MAX_CPUS
fail_count:     .skip 4 * SMP_MAX_CPUS
fail_msr:       .skip 4 * SMP_MAX_CPUS
ncpus:          .skip 4
iters:          .skip 4
width:          .skip 4
start_count:    .skip 4
storm_count:    .skip 4
turn:           .skip 4                         # the CPU whose summary line is next
mtrr_lock_word: .skip 4
