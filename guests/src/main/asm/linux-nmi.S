# linux-nmi.S - a Linux-style x86-64 kernel's nested-NMI handling (docs/linux-nmi.md)
# under a workload on every CPU. Seed 000: XMHF without virtual NMIs left Linux spinning on the
# IRETQ after "nested NMI out", whose frame pointed to that same IRETQ.
#
# The algorithm is Linux's (its arch/x86/entry/entry_64.S was read for the facts only; this is
# our own code, with our own labels and a RIP test where Linux tests RFLAGS.DF). Every NMI
# enters nmi_entry on the NMI's own stack (IST1), whose top is T; the CPU writes its 5-word frame
# at T-40..T-8 on every delivery, even when it was already on that stack. The slots below T:
#   T-8..T-40     "original" frame (written by the CPU: SS, RSP, RFLAGS, CS, RIP)
#   T-48          scratch (RDX)
#   T-56          "NMI executing" flag
#   T-64..T-96    "iret" frame, the one the final IRETQ consumes
#   T-104..T-136  "outermost" frame, a copy of the original made once by the first NMI
#   below         saved registers and the handler body's stack
# An NMI that finds the interrupted RIP in the repeat sequence returns at once (the outer NMI
# runs the body again anyway); one that finds the flag set, or the interrupted RIP at the final
# IRETQ, is nested: it points the iret frame at repeat_nmi (with RSP at the outermost frame) and
# returns into the outer NMI, whose final IRETQ then runs the body once more. Otherwise it is the
# first NMI: it clears the flag, copies the original frame into the outermost slots - all of this
# relies on NMIs staying blocked until the first IRET (SDM Vol.3A 6.7.1, "Handling Multiple
# NMIs") - optionally IRETs to itself at once ("selfiret", as Linux's debug option does, so
# that nesting starts early), and falls into the repeat sequence: set the flag, copy outermost to
# iret, run the body, clear the flag, IRETQ.
# The body sits behind a latch (Linux's nmi_state: NOT_RUNNING -> EXECUTING, LATCHED when an NMI
# reaches the body while it runs, which makes it run again), counts, spins, executes a CPUID (a
# VM exit while NMI-blocked, under a hypervisor) and every fault=N-th run an INT3 whose handler's
# IRETQ unblocks NMIs while the NMI is still being handled - the legitimate way to nest.
#
# A hypervisor that injects an NMI while the guest is still NMI-blocked breaks the first-NMI
# copy's assumption. The seed's end state: an NMI lands on the IRETQ at nested_nmi_out+1 with
# RSP = T-40 and rewrites the frame that IRETQ was about to consume with one that points to the
# IRETQ itself (RSP = T-40); its handler is nested (the outer NMI's flag is still set) and
# returns there; from then on the IRETQ returns to itself.
#
# Every CPU runs the workload: ITERS iterations that keep values in R8-R14 and on the stack and
# check them (an NMI handler that loses a register or returns to the wrong place is caught), with
# a CPUID every 16 iterations (a VM exit under a hypervisor) and, with ipi=N, an NMI IPI to the
# next CPU every N iterations. The BSP prints a heartbeat for every BEAT iterations done by all
# CPUs together, waits for all of them, lets NMIs in flight settle, then prints per-CPU counts.
#
# Command line (all optional): iters=N (default 3000) spins=N (body busy loop, default 150)
# work=N (workload busy loop, default 20) fault=N (INT3 in every N-th body run, 0 = never,
# default 4) ipi=N (0 = none, default) beat=N (default 1000) selfiret
# Output, CPUs C and iterations I:
#   linux-nmi: ready cpus=C                     (every CPU has its IDT and NMI stack from here on)
#   linux-nmi: beat K                           (K = 1 .. C*I/BEAT)
#   linux-nmi: cpu N nmis=E first=F nested=X repeat-skips=S handler-runs=B faults=P latched=L
#   linux-nmi: cpus=C iterations=I nmis=E handler-runs=B nested=X
#   linux-nmi: ok
# nmis counts NMI deliveries that reached nmi_entry (on a correct machine: all of them); every
# one of them must be followed by a handler run that started after it ("covered").
# Exit status 0. Failures (status): bad command line or too many CPUs [2]; CPUs did not start
# [1]; "linux-nmi: FAILED, cpu N workload state corrupted at iteration K" [3]; "linux-nmi: FAILED,
# cpu N stopped at iteration K" [3]; "linux-nmi: FAILED, cpu N: M NMIs never followed by a handler
# run" [3]. An unexpected exception exits 9 (include/exc.inc).
# NMIs are part of the contract from the "ready" line on; before it a CPU may not have its IDT.

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "apic.inc"
        .include "smp.inc"
        .include "cmdline.inc"
        .include "pcpu_tss.inc"

        .equ MAX_CPUS,          16
        .equ PCPU_SIZE,         0x2000          # per CPU: NMI stack page, then its data
        .equ NMI_STACK_SIZE,    0x1000          # T = block + NMI_STACK_SIZE

        # per-CPU data at T (8-byte counters)
        .equ D_ENTRIES,         0               # NMI deliveries that reached nmi_entry
        .equ D_FIRST,           8
        .equ D_NESTED,          16
        .equ D_SKIPPED,         24              # found the outer NMI in its repeat sequence
        .equ D_BODY,            32              # handler body runs
        .equ D_FAULTS,          40              # INT3s taken in the body
        .equ D_LATCHED,         48
        .equ D_STATE,           56              # the latch
        .equ D_COVERED,         64              # D_ENTRIES when the last body run started
        .equ D_PROGRESS,        72              # workload iterations done
        .equ D_DONE,            80
        .equ D_BAD,             88              # workload corruption seen (1 + iteration)
        .equ D_CPU_SELF,        96              # CPU index

        .equ NMI_NOT_RUNNING,   0
        .equ NMI_EXECUTING,     1
        .equ NMI_LATCHED,       2

        # slots relative to RSP = T-48, right after nmi_entry's PUSH
        .equ S_RIP,             8               # original frame: interrupted RIP (T-40)
        .equ S_FLAG,            -8              # "NMI executing" (T-56)
        .equ S_DATA,            48              # per-CPU data (T)

        .section .text
        .globl  _start
_start:
        mov     BOOT_INFO_ADDR + BI_NCPUS, %eax
        mov     %eax, ncpus(%rip)
        cmp     $MAX_CPUS, %eax
        jbe     1f
        PRINT   "linux-nmi: at most 16 CPUs, have "
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    2
1:      call    parse_options
        call    exc_install_stubs
        SET_GATE 2, nmi_entry, 1                # NMI: interrupt gate on IST1, as Linux's
        SET_GATE 3, bp_handler                  # INT3 from the NMI body
        call    idt_load
        call    pcpu_setup
        xor     %edi, %edi
        call    pcpu_gdt_load                   # GDT with the TSSs, TR for CPU 0

        mov     ncpus(%rip), %eax
        cmp     $1, %eax
        je      3f
        xor     %esi, %esi
        mov     $ICR_ALL_BUT_SELF, %edi
        call    smp_start_aps
        mov     ncpus(%rip), %edx
        dec     %edx
        mov     $TIMEOUT_SPINS, %ecx
2:      cmp     %edx, ap_ready(%rip)
        je      3f
        pause
        dec     %ecx
        jnz     2b
        PRINT   "linux-nmi: CPUs did not start\n"
        EXIT    1
3:      PRINT   "linux-nmi: ready cpus="
        mov     ncpus(%rip), %eax
        PRINT_DEC %rax
        PRINT   "\n"
        movl    $1, go(%rip)
        xor     %edi, %edi
        call    pcpu_data
        mov     %rax, %rbx
        call    workload
        call    wait_for_all
        mov     $100000, %ecx                   # let NMIs in flight reach their handlers
4:      pause
        dec     %ecx
        jnz     4b
        jmp     report

# ---------------------------------------------------------------------------------------------
# The NMI entry (IST1; NMIs blocked; RSP = T-40).

nmi_entry:
        push    %rdx                            # scratch slot T-48
        incq    S_DATA+D_ENTRIES(%rsp)
        # 1. the interrupted RIP in repeat_nmi..end_repeat_nmi: the outer NMI is about to run
        #    the body anyway, and is writing the iret frame; leave it alone
        lea     repeat_nmi(%rip), %rdx
        cmp     %rdx, S_RIP(%rsp)
        jb      nmi_check_flag
        lea     end_repeat_nmi(%rip), %rdx
        cmp     %rdx, S_RIP(%rsp)
        jae     nmi_check_flag
        incq    S_DATA+D_SKIPPED(%rsp)
        jmp     nested_nmi_out
nmi_check_flag:
        # 2. nested: the outer NMI is running (flag set) or sits on its final IRETQ (flag
        #    already cleared)
        cmpq    $1, S_FLAG(%rsp)
        je      nested_nmi
        lea     nmi_final_iretq(%rip), %rdx
        cmp     %rdx, S_RIP(%rsp)
        je      nested_nmi
        jmp     first_nmi

nested_nmi:
        incq    S_DATA+D_NESTED(%rsp)
        # Point the iret frame (T-64..T-96) at repeat_nmi with RSP at the outermost frame
        # (T-136). Step over the flag first: no push may land on it.
        sub     $8, %rsp                        # RSP = T-56
        lea     -80(%rsp), %rdx                 # T-136
        push    $SEL_DATA                       # T-64: SS
        push    %rdx                            # T-72: RSP
        pushfq                                  # T-80: RFLAGS
        push    $SEL_CODE64                     # T-88: CS
        lea     repeat_nmi(%rip), %rdx
        push    %rdx                            # T-96: RIP
        add     $48, %rsp                       # back to T-48
nested_nmi_out:
        pop     %rdx
        iretq                                   # back into the outer NMI (this unblocks NMIs)

first_nmi:
        incq    S_DATA+D_FIRST(%rsp)
        mov     (%rsp), %rdx                    # RDX as interrupted; T-48 stays scratch
        push    $0                              # T-56: "NMI executing" = 0
        sub     $40, %rsp                       # T-96: room for the iret frame
        .rept 5
        pushq   88(%rsp)                        # original (T-8..T-40) -> outermost (T-104..T-136)
        .endr
        # RSP = T-136. Nothing above may fault or IRET: it relies on NMIs staying blocked.
        testb   $1, selfiret(%rip)
        jz      repeat_nmi
nmi_self_iret:
        push    $SEL_DATA                       # a frame returning to repeat_nmi, same stack
        push    %rsp
        addq    $8, (%rsp)                      # RSP before the SS push
        pushfq
        push    $SEL_CODE64
        push    $repeat_nmi
        iretq                                   # NMIs unblocked from here on

repeat_nmi:
        # RSP = T-136 (the outermost frame). A nested NMI's rewrite lands here too. NMIs that
        # nest before end_repeat_nmi return at once (step 1): this copy is never torn.
        movq    $1, 80(%rsp)                    # T-56: "NMI executing"
        add     $80, %rsp                       # T-56
        .rept 5
        pushq   -48(%rsp)                       # outermost (T-104..T-136) -> iret (T-64..T-96)
        .endr
        sub     $40, %rsp                       # T-136
end_repeat_nmi:
        push    %rax
        push    %rbx
        push    %rcx
        push    %rdx
        push    %rsi
        push    %rdi
        push    %rbp
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        lea     256(%rsp), %rbx                 # RBX = T (136 + 15 x 8 below it)
        call    nmi_body
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rbp
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rbx
        pop     %rax
nmi_exit:
        add     $40, %rsp                       # T-96: the iret frame
        movq    $0, 40(%rsp)                    # clear "NMI executing" (T-56)
nmi_final_iretq:
        iretq                                   # to the interrupted code, or to repeat_nmi

# The handler body (RBX = this CPU's data): Linux's exc_nmi latch around the work.
nmi_body:
        cmpq    $NMI_NOT_RUNNING, D_STATE(%rbx)
        je      1f
        movq    $NMI_LATCHED, D_STATE(%rbx)     # the running body will run once more
        incq    D_LATCHED(%rbx)
        ret
1:      movq    $NMI_EXECUTING, D_STATE(%rbx)
nmi_body_restart:
        mov     D_ENTRIES(%rbx), %rax
        mov     %rax, D_COVERED(%rbx)           # every NMI entered so far is handled by this run
        incq    D_BODY(%rbx)
        mov     body_spins(%rip), %ecx
2:      dec     %ecx
        jnz     2b
        push    %rbx
        xor     %eax, %eax                      # a VM exit while NMI-blocked, under a hypervisor
        cpuid
        pop     %rbx
        mov     fault_every(%rip), %ecx
        test    %ecx, %ecx
        jz      3f
        mov     D_BODY(%rbx), %rax
        xor     %edx, %edx
        div     %rcx
        test    %rdx, %rdx
        jnz     3f
        incq    D_FAULTS(%rbx)
nmi_body_int3:
        int3                                    # its handler's IRETQ unblocks NMIs
3:      mov     body_spins(%rip), %ecx
4:      dec     %ecx
        jnz     4b
        decq    D_STATE(%rbx)                   # LATCHED -> EXECUTING: again; EXECUTING -> done
        jnz     nmi_body_restart
        ret

# INT3 (a trap: the saved RIP is the next instruction). The IRETQ is the point: it unblocks NMIs
# while the NMI that raised the INT3 is still being handled.
bp_handler:
        iretq

# ---------------------------------------------------------------------------------------------
# Workload (RBX = this CPU's data). Values in R8-R14 and two on the stack, checked every
# iteration.

workload:
        xor     %r12d, %r12d
work_loop:
        mov     %r12, %r8
        lea     (%r8,%r8,2), %r9
        mov     %r8, %r10
        not     %r10
        mov     %r8, %r11
        rol     $13, %r11
        push    %r9
        push    %r10
        mov     work_spins(%rip), %ecx
1:      dec     %ecx
        jnz     1b
        pop     %r13
        pop     %r14
        cmp     %r10, %r13
        jne     work_bad
        cmp     %r9, %r14
        jne     work_bad
        cmp     %r12, %r8
        jne     work_bad
        lea     (%r8,%r8,2), %rax
        cmp     %rax, %r9
        jne     work_bad
        mov     %r8, %rax
        not     %rax
        cmp     %rax, %r10
        jne     work_bad
        mov     %r8, %rax
        rol     $13, %rax
        cmp     %rax, %r11
        jne     work_bad
        test    $15, %r12b
        jnz     2f
        push    %rbx
        xor     %eax, %eax                      # a VM exit now and then, as a kernel makes
        cpuid
        pop     %rbx
2:      mov     ipi_every(%rip), %ecx
        test    %ecx, %ecx
        jz      3f
        mov     %r12, %rax
        xor     %edx, %edx
        div     %rcx
        test    %rdx, %rdx
        jnz     3f
        call    nmi_next_cpu
3:      inc     %r12
        mov     %r12, D_PROGRESS(%rbx)
        cmpq    $0, D_CPU_SELF(%rbx)
        jne     4f
        call    heartbeat                       # the BSP
4:      cmp     iters(%rip), %r12
        jb      work_loop
        movq    $1, D_DONE(%rbx)
        ret
work_bad:
        lea     1(%r12), %rax
        mov     %rax, D_BAD(%rbx)
        movq    $1, D_DONE(%rbx)
        ret

# NMI IPI to CPU (self + 1) mod ncpus (APIC ID = CPU index), when there is another CPU.
nmi_next_cpu:
        push    %rsi
        push    %rdi
        mov     D_CPU_SELF(%rbx), %eax
        inc     %eax
        cmp     ncpus(%rip), %eax
        jb      1f
        xor     %eax, %eax
1:      cmp     D_CPU_SELF(%rbx), %eax
        je      2f
        mov     %eax, %esi
        shl     $ICR_DEST_SHIFT, %esi
        mov     $(ICR_DM_NMI | ICR_ASSERT), %edi
        call    apic_send_ipi
2:      pop     %rdi
        pop     %rsi
        ret

# The BSP: one "beat" line for every BEAT iterations all CPUs did together.
heartbeat:
        push    %rax
        push    %rcx
        push    %rdi
1:      call    total_progress
        cmp     next_beat(%rip), %rax
        jb      2f
        incq    beats(%rip)
        PRINT   "linux-nmi: beat "
        PRINT_DEC beats(%rip)
        PRINT   "\n"
        mov     beat_every(%rip), %rax
        add     %rax, next_beat(%rip)
        jmp     1b
2:      pop     %rdi
        pop     %rcx
        pop     %rax
        ret

# RAX = iterations done by all CPUs.
total_progress:
        push    %rcx
        push    %rdi
        xor     %ecx, %ecx
        xor     %edi, %edi
1:      push    %rax
        call    pcpu_data
        mov     D_PROGRESS(%rax), %rax
        add     %rax, %rcx
        pop     %rax
        inc     %edi
        cmp     ncpus(%rip), %edi
        jb      1b
        mov     %rcx, %rax
        pop     %rdi
        pop     %rcx
        ret

# The BSP, its own workload done: wait for every CPU, printing beats; a CPU whose progress does
# not move for TIMEOUT_SPINS polls has stopped.
wait_for_all:
        xor     %r13d, %r13d                    # polls without progress
        call    total_progress
        mov     %rax, %r14
1:      call    heartbeat
        xor     %edi, %edi
2:      call    pcpu_data
        cmpq    $0, D_DONE(%rax)
        je      3f
        inc     %edi
        cmp     ncpus(%rip), %edi
        jb      2b
        # all done; the last CPUs may have finished after the heartbeat above (on hardware,
        # hwrun once printed 11 of 12 beats): catch up, so every run prints all C*I/BEAT beats
        call    heartbeat
        ret
3:      pause
        call    total_progress
        cmp     %r14, %rax
        je      4f
        mov     %rax, %r14
        xor     %r13d, %r13d
        jmp     1b
4:      inc     %r13d
        cmp     $TIMEOUT_SPINS, %r13d
        jb      1b
        call    pcpu_data                       # EDI = the first CPU not done
        mov     %rax, %rbx
        PRINT   "linux-nmi: FAILED, cpu "
        PRINT_DEC %rdi
        PRINT   " stopped at iteration "
        PRINT_DEC D_PROGRESS(%rbx)
        PRINT   "\n"
        EXIT    3

# Per-CPU lines, the summary, the checks.
report:
        xor     %edi, %edi
        xor     %r8d, %r8d                      # total NMIs
        xor     %r9d, %r9d                      # total body runs
        xor     %r10d, %r10d                    # total nested
1:      call    pcpu_data
        mov     %rax, %rbx
        PRINT   "linux-nmi: cpu "
        PRINT_DEC %rdi
        PRINT   " nmis="
        PRINT_DEC D_ENTRIES(%rbx)
        PRINT   " first="
        PRINT_DEC D_FIRST(%rbx)
        PRINT   " nested="
        PRINT_DEC D_NESTED(%rbx)
        PRINT   " repeat-skips="
        PRINT_DEC D_SKIPPED(%rbx)
        PRINT   " handler-runs="
        PRINT_DEC D_BODY(%rbx)
        PRINT   " faults="
        PRINT_DEC D_FAULTS(%rbx)
        PRINT   " latched="
        PRINT_DEC D_LATCHED(%rbx)
        PRINT   "\n"
        add     D_ENTRIES(%rbx), %r8
        add     D_BODY(%rbx), %r9
        add     D_NESTED(%rbx), %r10
        inc     %edi
        cmp     ncpus(%rip), %edi
        jb      1b
        PRINT   "linux-nmi: cpus="
        mov     ncpus(%rip), %eax
        PRINT_DEC %rax
        PRINT   " iterations="
        PRINT_DEC iters(%rip)
        PRINT   " nmis="
        PRINT_DEC %r8
        PRINT   " handler-runs="
        PRINT_DEC %r9
        PRINT   " nested="
        PRINT_DEC %r10
        PRINT   "\n"
        xor     %edi, %edi
2:      call    pcpu_data
        mov     %rax, %rbx
        cmpq    $0, D_BAD(%rbx)
        je      3f
        PRINT   "linux-nmi: FAILED, cpu "
        PRINT_DEC %rdi
        PRINT   " workload state corrupted at iteration "
        mov     D_BAD(%rbx), %rax
        dec     %rax
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    3
3:      mov     D_ENTRIES(%rbx), %rax
        sub     D_COVERED(%rbx), %rax
        jz      4f
        PRINT   "linux-nmi: FAILED, cpu "
        PRINT_DEC %rdi
        PRINT   ": "
        PRINT_DEC %rax
        PRINT   " NMIs never followed by a handler run\n"
        EXIT    3
4:      inc     %edi
        cmp     ncpus(%rip), %edi
        jb      2b
        PRINT   "linux-nmi: ok\n"
        EXIT    0

# ---------------------------------------------------------------------------------------------
# Per-CPU blocks, GDT, TSS.

# RAX = T of CPU EDI.
pcpu_data:
        mov     %edi, %eax
        imul    $PCPU_SIZE, %rax, %rax
        push    %rcx
        lea     pcpu_area + NMI_STACK_SIZE(%rip), %rcx
        add     %rcx, %rax
        pop     %rcx
        ret

# The BSP, once: each CPU's index in its data, and a TSS per CPU whose IST1 is that CPU's T
# (pcpu_tss.inc).
pcpu_setup:
        xor     %edi, %edi
1:      call    pcpu_data
        mov     %rdi, D_CPU_SELF(%rax)
        inc     %edi
        cmp     $MAX_CPUS, %edi
        jb      1b
        mov     ncpus(%rip), %edi
        lea     (pcpu_area + NMI_STACK_SIZE)(%rip), %rsi
        mov     $PCPU_SIZE, %edx
        jmp     pcpu_gdt_build

# ---------------------------------------------------------------------------------------------
# Command line.

parse_options:
        push    %rbx
        lea     number_options(%rip), %rbx      # (key, quadword) pairs, ended by a zero key
1:      mov     (%rbx), %rsi
        test    %rsi, %rsi
        jz      2f
        mov     8(%rbx), %rdi
        call    number_option
        add     $16, %rbx
        jmp     1b
2:      pop     %rbx
        lea     opt_selfiret(%rip), %rsi
        call    cmdline_word
        mov     %al, selfiret(%rip)
        # loops count down from these: zero would run 2^32 times
        cmpq    $0, iters(%rip)
        je      9f
        cmpq    $0, body_spins(%rip)
        je      9f
        cmpq    $0, work_spins(%rip)
        je      9f
        cmpq    $0, beat_every(%rip)
        je      9f
        mov     beat_every(%rip), %rax
        mov     %rax, next_beat(%rip)
        ret
9:      PRINT   "linux-nmi: iters, spins, work and beat must be at least 1\n"
        EXIT    2

# RSI = key, RDI = the quadword to set when the key is present (else it keeps its default).
number_option:
        call    cmdline_number
        test    %edx, %edx
        jz      1f
        cmp     $1, %edx
        jne     2f
        mov     %rax, (%rdi)
1:      ret
2:      PRINT   "linux-nmi: bad number in option "
        call    serial_puts
        PRINT   "\n"
        EXIT    2

# APs (smp.inc: EDI = APIC ID, own stack).
ap_main:
        lidt    idt_pointer(%rip)
        call    pcpu_gdt_load
        call    apic_enable
        call    pcpu_data
        mov     %rax, %rbx
        lock incl ap_ready(%rip)
1:      cmpl    $0, go(%rip)
        jne     2f
        pause
        jmp     1b
2:      jmp     workload                        # returns to smp.inc, which parks the AP

        .section .rodata
opt_iters:      .asciz "iters="
opt_spins:      .asciz "spins="
opt_work:       .asciz "work="
opt_fault:      .asciz "fault="
opt_ipi:        .asciz "ipi="
opt_beat:       .asciz "beat="
opt_selfiret:   .asciz "selfiret"
        .p2align 3
number_options:
        .quad   opt_iters, iters
        .quad   opt_spins, body_spins
        .quad   opt_work, work_spins
        .quad   opt_fault, fault_every
        .quad   opt_ipi, ipi_every
        .quad   opt_beat, beat_every
        .quad   0, 0

        .section .data
        .p2align 3
iters:          .quad 3000
body_spins:     .quad 150
work_spins:     .quad 20
fault_every:    .quad 4
ipi_every:      .quad 0
beat_every:     .quad 1000
next_beat:      .quad 0
beats:          .quad 0
ncpus:          .long 0
ap_ready:       .long 0
go:             .long 0
selfiret:       .byte 0

        .section .bss
        .p2align 12
pcpu_area:
        .skip   MAX_CPUS * PCPU_SIZE
