# paldemo.S - TrustVisor's PAL demo ("test_args FUNCS ITERS SEED"): every CPU registers its own
# copies of four PAL functions with TrustVisor, calls them with random arguments, and compares
# each result with a native call of the same function. Up to 8 CPUs.
#
# The hypercall interface is TrustVisor's in hvlab (xmhf/.../trustvisor/TrustVisor.java):
#   VMCALL RAX=1  RBX = descriptor, RCX = entry point: register;  RAX=2  RBX = entry: unregister
#   descriptor: u64 sections (4 here) + 8 x {type, gva, size}; at +200 u64 params + 10 x {type, size}
#   section types 1 code, 2 data, 3 stack, 4 parameters; parameter types 1 integer, 2 pointer
# A PAL is called like any function (System V AMD64: RDI RSI RDX RCX R8 R9, then the stack);
# the CALL faults in EPT at the whitelisted entry point, TrustVisor runs the PAL on its own
# page tables and EPT, and the PAL's RET faults back. Without a hypervisor (CPUID.1:ECX[31]
# clear) the copies are called as plain code, so the guest also runs on the bare machine.
#
# The functions (position-independent; the PAL copy and the native original are the same bytes):
#   f0 (6 integers)        a + 2b + 3c + 4d + 5e + 6f
#   f1 (10 integers)       sum of rotl(x_i, i), i = 1..10 (parameters 7-10 on the stack)
#   f2 (n, 64-byte buffer) buf[k] = 3 buf[k] + n + k for k = 0..7, returns the sum (pointer in/out)
#   f3 (count, x)          x = x * 6364136223846793005 + 1442695040888963407, count times (a busy PAL)
# Memory: the PAL pages are mapped at 0x40_0000_0000 + CPU * 0x10000 + f * 0x4000 (code, data,
# stack, parameters) by a page directory hung into the boot PDPT; their physical pages are in
# this image's .bss, or from 4 GiB up with the word "high" (needs RAM there).
#
# Command line: funcs=MASK (default 15) iters=N (default 20) seed=N (default 1) spin=N (f3's
# count, default 200) workers=N (only CPUs 0..N-1 work, the others idle in a PAUSE loop until
# the workers are done; default all) beat=N (a "pal-demo: CPU(0xNN) beat K" line every N calls,
# the heartbeat the stuck-guest oracle sees) high probe user churn
# "churn": every call registers its PAL first and unregisters it after, as test_args does, so
# registrations (each a quiesce of every CPU) run all the time on every working CPU.
# "user": each CPU does its work in ring 3 (own GDT with user segments, a TSS per CPU for the
# NMIs and #GPs that come in ring 3, the image's first 2 MiB and the PAL area user-accessible),
# so registration comes from CPL 3 and the PALs run at CPL 3; "int $0x80" brings it back.
# "probe": before each call the CPU also reads a random page of some CPU's PAL area, or writes
# a PAL's data page, as the OS - TrustVisor must refuse it (#GP, which a handler here counts and
# steps over) whenever that PAL is registered; the isolation oracle watches that no access
# gets through. Each line then also says "probes=P refused=R".
# An NMI handler counts NMIs per CPU (the plan may inject them at any time, PAL or not).
# Output, CPUs in order:
#   pal-demo: CPU(0xNN) calls=K nmis=M: Test pass          (or ... failed=F ...: Test failed)
#   pal-demo: CPU(0xNN) idle nmis=M                        (a CPU beyond workers=N)
#   pal-demo: ok                                           exit 0; any failure exits 1
# Failures before the calls: "pal-demo: CPU(0xNN) register f<k>: error E" / "unregister ...".

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "apic.inc"
        .include "smp.inc"
        .include "cmdline.inc"

        .equ MAX_CPUS,          8
        .equ NFUNCS,            4
        .equ PAL_GVA,           0x4000000000    # PDPT entry 256 of the boot tables
        .equ PAL_CPU_STRIDE,    0x10000
        .equ PAL_STRIDE,        0x4000
        .equ HIGH_BASE,         0x100000000
        .equ HC_REG,            1
        .equ HC_UNREG,          2
        .equ SEC_CODE,          1
        .equ SEC_DATA,          2
        .equ SEC_STACK,         3
        .equ SEC_PARAM,         4
        .equ P_INT,             1
        .equ P_PTR,             2
        .equ DESC_SIZE,         512

        .section .text
        .globl  _start
_start:
        mov     %rdi, %rbx
        mov     BI_NCPUS(%rbx), %eax
        mov     %eax, ncpus(%rip)
        cmp     $MAX_CPUS, %eax
        jbe     1f
        PRINT   "pal-demo: at most 8 CPUs, have "
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1
1:      lea     .Lk_funcs(%rip), %rsi
        call    cmdline_number
        cmp     $1, %edx
        jne     2f
        mov     %eax, funcs(%rip)
2:      lea     .Lk_iters(%rip), %rsi
        call    cmdline_number
        cmp     $1, %edx
        jne     3f
        mov     %eax, iters(%rip)
3:      lea     .Lk_seed(%rip), %rsi
        call    cmdline_number
        cmp     $1, %edx
        jne     4f
        mov     %rax, seed(%rip)
4:      lea     .Lk_spin(%rip), %rsi
        call    cmdline_number
        cmp     $1, %edx
        jne     5f
        mov     %rax, spin(%rip)
5:      lea     .Lk_workers(%rip), %rsi
        call    cmdline_number
        cmp     $1, %edx
        jne     13f
        mov     %eax, workers(%rip)
13:     lea     .Lk_beat(%rip), %rsi
        call    cmdline_number
        cmp     $1, %edx
        jne     15f
        mov     %eax, beat(%rip)
15:     lea     .Lk_probe(%rip), %rsi
        call    cmdline_word
        mov     %eax, probing(%rip)
        lea     .Lk_user(%rip), %rsi
        call    cmdline_word
        mov     %eax, user_mode(%rip)
        lea     .Lk_churn(%rip), %rsi
        call    cmdline_word
        mov     %eax, churn(%rip)
        mov     $1, %eax                        # a hypervisor? (CPUID.1:ECX[31])
        cpuid
        shr     $31, %ecx
        mov     %ecx, have_hv(%rip)
        jnz     6f
        PRINT   "pal-demo: no hypervisor: the PAL copies run as plain code\n"
6:      call    exc_install_stubs
        SET_GATE 2, nmi_handler
        SET_GATE 13, gp_handler
        SET_GATE 0x80, int80_handler, 0, 0xEE   # DPL 3: ring 3 may INT 0x80
        cmpl    $0, user_mode(%rip)
        je      12f
        call    user_setup
12:
        call    idt_load
        call    map_pal_area
        xor     %esi, %esi
        mov     $ICR_ALL_BUT_SELF, %edi
        call    smp_start_aps
        mov     ncpus(%rip), %edx
        dec     %edx
        mov     $TIMEOUT_SPINS, %ecx
7:      cmp     %edx, ap_ready(%rip)
        je      8f
        pause
        dec     %ecx
        jnz     7b
        PRINT   "pal-demo: CPUs did not start\n"
        EXIT    1
8:      movl    $1, go(%rip)
        xor     %edi, %edi
        call    cpu_work
        mov     ncpus(%rip), %edx
9:      cmp     %edx, done(%rip)                # no timeout here: the run's own limits bound the work
        je      10f
        pause
        jmp     9b
10:     call    report
        test    %eax, %eax
        jz      11f
        EXIT    1
11:     PRINT   "pal-demo: ok\n"
        EXIT    0

# APs (smp.inc calls this on the AP's own stack, EDI = APIC ID).
ap_main:
        lidt    idt_pointer(%rip)
        lock incl ap_ready(%rip)
1:      cmpl    $0, go(%rip)
        jne     2f
        pause
        jmp     1b
2:      jmp     cpu_work                        # returns to smp.inc, which parks the AP

# Maps the PAL area: boot PDPT[256] -> pal_pd, pal_pd[0] -> pal_pt, 16 pages per CPU; the
# physical pages are pal_area in .bss, or from 4 GiB ("high", checked against the memory map).
map_pal_area:
        lea     .Lk_high(%rip), %rsi
        call    cmdline_word
        lea     pal_area(%rip), %r8             # R8 = physical base
        test    %eax, %eax
        jz      2f
        mov     $(BOOT_INFO_ADDR + BI_MMAP), %esi
        mov     BOOT_INFO_ADDR + BI_MMAP_COUNT, %ecx
        test    %ecx, %ecx
        jz      9f
1:      cmpl    $1, 16(%rsi)                    # usable, covering [4 GiB, 4 GiB + the area)
        jne     8f
        movabs  $HIGH_BASE, %rax
        cmp     %rax, (%rsi)
        ja      8f
        mov     (%rsi), %rdx
        add     8(%rsi), %rdx
        add     $(MAX_CPUS * PAL_CPU_STRIDE), %rax
        cmp     %rax, %rdx
        jb      8f
        movabs  $HIGH_BASE, %r8
        jmp     2f
8:      add     $24, %rsi
        dec     %ecx
        jnz     1b
9:      PRINT   "pal-demo: high needs usable RAM from 4 GiB up\n"
        EXIT    1
2:      mov     $3, %r9d                        # present, writable; and user with "user"
        cmpl    $0, user_mode(%rip)
        je      4f
        or      $4, %r9d
4:      lea     pal_pd(%rip), %rax
        or      %r9, %rax
        mov     %rax, 0x2000 + 8 * 256
        lea     pal_pt(%rip), %rax
        or      %r9, %rax
        mov     %rax, pal_pd(%rip)
        lea     pal_pt(%rip), %rdi
        xor     %ecx, %ecx
3:      mov     %rcx, %rax
        shl     $12, %rax
        add     %r8, %rax
        or      %r9, %rax
        mov     %rax, (%rdi,%rcx,8)
        inc     %ecx
        cmp     $(MAX_CPUS * PAL_CPU_STRIDE / 4096), %ecx
        jb      3b
        mov     %cr3, %rax
        mov     %rax, %cr3
        ret

# ---------------------------------------------------------------------------------------------
# Ring 3 ("user"). SDM Vol.3A: 64-bit TSS (task management chapter), privilege-level change on
# interrupts (RSP0 from the TSS), IRET to a lower privilege level (SS:RSP popped).
        .equ SEL_UDATA,         0x18 | 3
        .equ SEL_UCODE,         0x20 | 3
        .equ SEL_TSS0,          0x28            # CPU c's TSS at 0x28 + 16 c

# The BSP, once: the GDT (kernel code and data, user data and code, a TSS per CPU), each TSS's
# RSP0, and U in the page tables on the way to the image's first 2 MiB and to the PAL area.
user_setup:
        lea     tss_area(%rip), %rsi
        xor     %ecx, %ecx
1:      mov     %rcx, %rax
        shl     $7, %rax
        lea     (%rsi,%rax), %rdi               # RDI = TSS of CPU c (128 bytes apart)
        lea     1(%rcx), %rax
        shl     $12, %rax
        lea     kstacks(%rip), %rdx
        add     %rdx, %rax
        mov     %rax, 4(%rdi)                   # RSP0: top of CPU c's kernel stack
        movw    $104, 102(%rdi)                 # no I/O permission bitmap
        # the 16-byte TSS descriptor: limit 103, base, type 9 (available 64-bit TSS), P
        mov     %rdi, %rax
        mov     %rax, %rdx
        and     $0xFFFFFF, %rdx
        shl     $16, %rdx
        or      $103, %rdx
        movabs  $0x0000890000000000, %r8
        or      %r8, %rdx
        mov     %rax, %r8
        shr     $24, %r8
        and     $0xFF, %r8
        shl     $56, %r8
        or      %r8, %rdx
        lea     gdt_user(%rip), %r8
        mov     %rcx, %r9
        shl     $4, %r9
        mov     %rdx, 0x28(%r8,%r9)
        shr     $32, %rax
        mov     %rax, 0x30(%r8,%r9)
        inc     %ecx
        cmp     $MAX_CPUS, %ecx
        jb      1b
        orq     $4, BOOT_PML4_ADDR              # PML4[0], PDPT[0], PD[0]: user-accessible
        orq     $4, 0x2000
        orq     $4, 0x3000
        orq     $4, 0x2000 + 8 * 256            # the PAL area (map_pal_area sets U on its own tables)
        mov     %cr3, %rax
        mov     %rax, %cr3
        ret

# Each CPU (RBX = CPU): load the GDT and its TSS, then IRET to ring 3 at user_entry; returns
# when user_entry's INT 0x80 comes back (int80_handler restores the stack saved here).
enter_user:
        lgdt    gdt_user_ptr(%rip)
        lea     1f(%rip), %rax
        push    $SEL_CODE64
        push    %rax
        lretq
1:      mov     $SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ebx, %eax
        shl     $4, %eax
        add     $SEL_TSS0, %eax
        ltr     %ax
        mov     %rsp, kernel_rsp(,%rbx,8)
        lea     1(%rbx), %rax
        shl     $12, %rax
        lea     ustacks(%rip), %rdx
        add     %rdx, %rax
        push    $SEL_UDATA                      # SS
        push    %rax                            # RSP
        push    $0x3002                         # RFLAGS: IOPL 3, so ring 3 may print (beat=)
        push    $SEL_UCODE                      # CS
        lea     user_entry(%rip), %rax
        push    %rax
        iretq
user_entry:
        call    work
        int     $0x80

# INT 0x80 from ring 3: back to the kernel stack enter_user left, and return from enter_user.
int80_handler:
        mov     $(APIC_BASE + APIC_ID), %esi
        mov     (%rsi), %eax
        shr     $24, %eax
        and     $(MAX_CPUS - 1), %eax
        mov     kernel_rsp(,%rax,8), %rsp
        ret

# ---------------------------------------------------------------------------------------------
# One CPU's work (EDI = CPU index, the APIC ID): register its PALs, call them, unregister; in
# ring 3 with "user". RBX = CPU, R12 = this CPU's PAL area, R13 = function or calls left.
cpu_work:
        push    %rbx
        push    %r12
        push    %r13
        mov     %edi, %ebx
        cmp     workers(%rip), %ebx
        jb      3f
        mov     workers(%rip), %eax             # an idle CPU (a Linux CPU with nothing to run)
4:      cmp     %eax, done(%rip)
        jae     2f
        pause
        jmp     4b
3:      cmpl    $0, user_mode(%rip)
        je      1f
        call    enter_user
        jmp     2f
1:      call    work
2:      lock incl done(%rip)
        pop     %r13
        pop     %r12
        pop     %rbx
        ret

work:
        mov     %rbx, %r12
        shl     $16, %r12
        movabs  $PAL_GVA, %rax
        add     %rax, %r12
        movabs  $0x9E3779B97F4A7C15, %rax
        imul    %rbx, %rax
        xor     seed(%rip), %rax
        mov     %rax, rng(,%rbx,8)
        xor     %r13d, %r13d
        cmpl    $0, churn(%rip)                 # churn: each call registers and unregisters its PAL
        jne     2f
1:      bt      %r13d, funcs(%rip)
        jnc     13f
        mov     %r13d, %edi
        call    install_pal
        test    %rax, %rax
        jz      13f
        mov     %rax, regerr(,%rbx,8)
        mov     %r13, regfunc(,%rbx,8)
        jmp     9f                              # no calls with a PAL missing
13:     inc     %r13d
        cmp     $NFUNCS, %r13d
        jb      1b
2:      cmpl    $0, funcs(%rip)
        je      6f
        mov     iters(%rip), %r13d
3:      test    %r13d, %r13d
        jz      6f
4:      call    rand
        shr     $33, %rax
        and     $3, %eax
        bt      %eax, funcs(%rip)
        jnc     4b
        push    %rax
        cmpl    $0, probing(%rip)
        je      5f
        call    probe
5:      pop     %rdi
        cmpl    $0, churn(%rip)
        je      10f
        push    %rdi
        push    %rdi
        call    install_pal
        test    %rax, %rax
        jz      11f
        mov     %rax, regerr(,%rbx,8)
        pop     %rdi
        mov     %rdi, regfunc(,%rbx,8)
        pop     %rdi
        jmp     9f
11:     mov     (%rsp), %rdi
        call    one_call
        pop     %rdi
        pop     %r8
        call    unregister_pal
        jmp     12f
10:     call    one_call
12:     incq    calls(,%rbx,8)
        mov     beat(%rip), %ecx                # a heartbeat line every "beat" calls
        test    %ecx, %ecx
        jz      14f
        mov     calls(,%rbx,8), %rax
        xor     %edx, %edx
        div     %rcx
        test    %rdx, %rdx
        jnz     14f
        SERIAL_LOCK
        PRINT   "pal-demo: CPU("
        PRINT_HEX %rbx, 2
        PRINT   ") beat "
        mov     calls(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   "\n"
        SERIAL_UNLOCK
14:
        dec     %r13d
        jmp     3b
6:      cmpl    $0, churn(%rip)
        jne     9f
        xor     %r13d, %r13d
7:      bt      %r13d, funcs(%rip)
        jnc     8f
        cmpl    $0, have_hv(%rip)
        je      8f
        mov     %r13, %rax
        imul    $PAL_STRIDE, %rax, %rax
        push    %rbx
        lea     (%r12,%rax), %rbx               # RBX = the entry point
        mov     $HC_UNREG, %eax
        vmcall
        pop     %rbx
        test    %rax, %rax
        jz      8f
        mov     %rax, unregerr(,%rbx,8)
        mov     %r13, unregfunc(,%rbx,8)
8:      inc     %r13d
        cmp     $NFUNCS, %r13d
        jb      7b
9:      ret

# Unregisters function EDI's PAL (churn); a failure is recorded.
unregister_pal:
        cmpl    $0, have_hv(%rip)
        je      1f
        mov     %rdi, %rax
        imul    $PAL_STRIDE, %rax, %rax
        push    %rdi
        push    %rbx
        lea     (%r12,%rax), %rbx
        mov     $HC_UNREG, %eax
        vmcall
        pop     %rbx
        pop     %rdi
        test    %rax, %rax
        jz      1f
        mov     %rax, unregerr(,%rbx,8)
        mov     %rdi, unregfunc(,%rbx,8)
1:      ret

# Copies function EDI into its PAL's code page and registers it. RAX = 0 or TrustVisor's error.
install_pal:
        push    %r14
        mov     %edi, %eax
        imul    $PAL_STRIDE, %rax, %rdx
        add     %r12, %rdx                      # RDX = code page (guest-virtual)
        mov     pal_code_tab(,%rax,8), %rsi
        mov     pal_len_tab(,%rax,8), %rcx
        mov     %rdx, %rdi
        cld
        rep movsb
        # the descriptor: four sections, then the function's parameters
        lea     desc_area(%rip), %r14
        mov     %rbx, %rcx
        shl     $9, %rcx
        add     %rcx, %r14                      # R14 = this CPU's descriptor
        movq    $4, (%r14)
        xor     %ecx, %ecx
1:      lea     1(%rcx), %r8
        mov     %rcx, %r9
        imul    $24, %r9, %r9
        mov     %r8, 8(%r14,%r9)                # type = 1 + k (code, data, stack, parameters)
        mov     %rcx, %r8
        shl     $12, %r8
        add     %rdx, %r8
        mov     %r8, 16(%r14,%r9)               # gva = code page + k pages
        movq    $4096, 24(%r14,%r9)
        inc     %ecx
        cmp     $4, %ecx
        jb      1b
        imul    $(21 * 8), %rax, %rsi
        lea     param_tab(%rip), %rcx
        add     %rcx, %rsi                      # RSI = n, then 10 x {type, size}
        lea     200(%r14), %rdi
        mov     $21, %ecx
        rep movsq
        xor     %eax, %eax
        cmpl    $0, have_hv(%rip)
        je      2f
        push    %rbx
        mov     %r14, %rbx
        mov     %rdx, %rcx
        mov     $HC_REG, %eax
        vmcall
        pop     %rbx
2:      pop     %r14
        ret

# One call of function EDI, natively and as a PAL, with the same random arguments.
one_call:
        push    %r13
        push    %r14
        push    %r15
        push    %rbp
        push    %rbp                            # keeps RSP 16-aligned at the calls
        mov     %edi, %ebp                      # RBP = function
        lea     args_area(%rip), %r14
        mov     %rbx, %rax
        shl     $7, %rax
        add     %rax, %r14                      # R14 = arguments (10 qwords)
        xor     %ecx, %ecx
1:      push    %rcx
        call    rand
        pop     %rcx
        mov     %rax, (%r14,%rcx,8)
        inc     %ecx
        cmp     $10, %ecx
        jb      1b
        cmp     $3, %ebp                        # f3: the busy PAL counts "spin"
        jne     2f
        mov     spin(%rip), %rax
        mov     %rax, (%r14)
2:      lea     buf_area(%rip), %r13
        mov     %rbx, %rax
        shl     $8, %rax
        add     %rax, %r13                      # R13 = native buffer, R13 + 64 = the PAL's
        xor     %ecx, %ecx
3:      push    %rcx
        call    rand
        pop     %rcx
        mov     %rax, (%r13,%rcx,8)
        mov     %rax, 64(%r13,%rcx,8)
        inc     %ecx
        cmp     $8, %ecx
        jb      3b
        mov     pal_code_tab(,%rbp,8), %r15     # native
        call    *call_tab(,%rbp,8)
        mov     %rax, (%rsp)                    # the native result (in the pad slot)
        mov     %rbp, %rax
        imul    $PAL_STRIDE, %rax, %rax
        lea     (%r12,%rax), %r15               # the PAL
        add     $64, %r13
        call    *call_tab(,%rbp,8)
        sub     $64, %r13
        cmp     (%rsp), %rax
        jne     8f
        cmp     $2, %ebp                        # f2 also compares the buffers
        jne     9f
        xor     %ecx, %ecx
4:      mov     (%r13,%rcx,8), %rax
        cmp     64(%r13,%rcx,8), %rax
        jne     8f
        inc     %ecx
        cmp     $8, %ecx
        jb      4b
        jmp     9f
8:      incq    fails(,%rbx,8)
9:      pop     %rbp
        pop     %rbp
        pop     %r15
        pop     %r14
        pop     %r13
        ret

# One probe as the OS: a random page of some CPU's PAL area; writes only to data pages (page 1 of
# a PAL), which the functions do not use. A refusal arrives as #GP, which gp_handler counts and
# resumes after.
probe:
        push    %r12
        incq    probes(,%rbx,8)
        call    rand
        mov     %rax, %rcx
        shr     $40, %rcx
        xor     %edx, %edx
        mov     ncpus(%rip), %r8d
        mov     %rcx, %rax
        div     %r8                             # RDX = a CPU
        shl     $16, %rdx
        movabs  $PAL_GVA, %r12
        add     %rdx, %r12                      # R12 = its PAL area
        call    rand
        mov     %rax, %rcx
        shr     $33, %rcx
        and     $15, %ecx                       # a page of the 16
        shl     $12, %rcx
        add     %rcx, %r12
        shr     $20, %rax
        and     $0xFF8, %eax
        add     %rax, %r12                      # and a quadword in it
        lea     2f(%rip), %rax
        mov     %rax, probe_resume(,%rbx,8)
        mov     %r12, %rax
        shr     $12, %rax
        and     $3, %eax
        cmp     $1, %eax                        # a data page: write, else read
        je      1f
        mov     (%r12), %rax
        jmp     2f
1:      movq    $0x5a5a, (%r12)
2:      movq    $0, probe_resume(,%rbx,8)
        pop     %r12
        ret

# #GP: a refused probe (this CPU armed probe_resume) resumes there; anything else is unexpected.
gp_handler:
        push    %rax
        push    %rsi
        mov     $(APIC_BASE + APIC_ID), %esi
        mov     (%rsi), %eax
        shr     $24, %eax
        and     $(MAX_CPUS - 1), %eax
        mov     probe_resume(,%rax,8), %rsi
        test    %rsi, %rsi
        jz      1f
        movq    $0, probe_resume(,%rax,8)
        lock incq refused(,%rax,8)
        mov     %rsi, 24(%rsp)                  # the saved RIP (above RSI, RAX and the error code)
        pop     %rsi
        pop     %rax
        add     $8, %rsp
        iretq
1:      pop     %rsi
        pop     %rax
        jmp     exc_stub_13

# Call helpers: R15 = target, R14 = arguments, R13 = buffer. RAX = result.
call_f0:
        mov     0(%r14), %rdi
        mov     8(%r14), %rsi
        mov     16(%r14), %rdx
        mov     24(%r14), %rcx
        mov     32(%r14), %r8
        mov     40(%r14), %r9
        jmp     *%r15
call_f1:
        sub     $8, %rsp
        push    72(%r14)                        # parameters 10, 9, 8, 7: the 7th ends up at [RSP+8] in the callee
        push    64(%r14)
        push    56(%r14)
        push    48(%r14)
        mov     0(%r14), %rdi
        mov     8(%r14), %rsi
        mov     16(%r14), %rdx
        mov     24(%r14), %rcx
        mov     32(%r14), %r8
        mov     40(%r14), %r9
        call    *%r15
        add     $40, %rsp
        ret
call_f2:
        mov     0(%r14), %rdi
        mov     %r13, %rsi
        jmp     *%r15
call_f3:
        mov     0(%r14), %rdi
        mov     8(%r14), %rsi
        jmp     *%r15

# The CPU's random numbers (a 64-bit LCG, Knuth's MMIX constants). Clobbers RCX, RDX.
rand:
        mov     rng(,%rbx,8), %rax
        movabs  $6364136223846793005, %rcx
        imul    %rcx, %rax
        movabs  $1442695040888963407, %rcx
        add     %rcx, %rax
        mov     %rax, rng(,%rbx,8)
        ret

# NMI handler: counts per CPU (APIC ID from the xAPIC page).
nmi_handler:
        push    %rax
        push    %rsi
        mov     $(APIC_BASE + APIC_ID), %esi
        mov     (%rsi), %eax
        shr     $24, %eax
        and     $(MAX_CPUS - 1), %eax
        lock incq nmis(,%rax,8)
        pop     %rsi
        pop     %rax
        iretq

# Prints every CPU's line; EAX = 0 all passed, 1 otherwise.
report:
        push    %rbx
        push    %r12
        xor     %r12d, %r12d                    # R12D = any failure
        xor     %ebx, %ebx
1:      cmpq    $0, regerr(,%rbx,8)
        je      2f
        PRINT   "pal-demo: CPU("
        PRINT_HEX %rbx, 2
        PRINT   ") register f"
        mov     regfunc(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   ": error "
        mov     regerr(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   "\n"
        mov     $1, %r12d
2:      cmpq    $0, unregerr(,%rbx,8)
        je      3f
        PRINT   "pal-demo: CPU("
        PRINT_HEX %rbx, 2
        PRINT   ") unregister f"
        mov     unregfunc(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   ": error "
        mov     unregerr(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   "\n"
        mov     $1, %r12d
3:      cmp     workers(%rip), %ebx
        jb      7f
        PRINT   "pal-demo: CPU("
        PRINT_HEX %rbx, 2
        PRINT   ") idle nmis="
        mov     nmis(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   "\n"
        jmp     6f
7:      PRINT   "pal-demo: CPU("
        PRINT_HEX %rbx, 2
        PRINT   ") calls="
        mov     calls(,%rbx,8), %rax
        PRINT_DEC %rax
        mov     calls(,%rbx,8), %rax
        cmpl    $0, funcs(%rip)
        je      4f
        cmp     iters(%rip), %eax
        jne     5f
4:      cmpq    $0, fails(,%rbx,8)
        jne     5f
        cmpq    $0, regerr(,%rbx,8)
        jne     5f
        cmpq    $0, unregerr(,%rbx,8)
        jne     5f
        call    print_probes
        PRINT   " nmis="
        mov     nmis(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   ": Test pass\n"
        jmp     6f
5:      call    print_probes
        PRINT   " failed="
        mov     fails(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   " nmis="
        mov     nmis(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   ": Test failed\n"
        mov     $1, %r12d
6:      inc     %ebx
        cmp     ncpus(%rip), %ebx
        jb      1b
        mov     %r12d, %eax
        pop     %r12
        pop     %rbx
        ret

print_probes:
        cmpl    $0, probing(%rip)
        je      1f
        PRINT   " probes="
        mov     probes(,%rbx,8), %rax
        PRINT_DEC %rax
        PRINT   " refused="
        mov     refused(,%rbx,8), %rax
        PRINT_DEC %rax
1:      ret

# ---------------------------------------------------------------------------------------------
# The PAL functions: position-independent, registers and stack only.
pal_f0:
        mov     %rdi, %rax
        lea     (%rax,%rsi,2), %rax
        imul    $3, %rdx, %r10
        add     %r10, %rax
        lea     (%rax,%rcx,4), %rax
        imul    $5, %r8, %r10
        add     %r10, %rax
        imul    $6, %r9, %r10
        add     %r10, %rax
        ret
pal_f0_end:
pal_f1:
        mov     %rdi, %rax
        rol     $1, %rax
        mov     %rsi, %r10
        rol     $2, %r10
        add     %r10, %rax
        rol     $3, %rdx
        add     %rdx, %rax
        rol     $4, %rcx
        add     %rcx, %rax
        rol     $5, %r8
        add     %r8, %rax
        rol     $6, %r9
        add     %r9, %rax
        mov     8(%rsp), %r10
        rol     $7, %r10
        add     %r10, %rax
        mov     16(%rsp), %r10
        rol     $8, %r10
        add     %r10, %rax
        mov     24(%rsp), %r10
        rol     $9, %r10
        add     %r10, %rax
        mov     32(%rsp), %r10
        rol     $10, %r10
        add     %r10, %rax
        ret
pal_f1_end:
pal_f2:
        xor     %eax, %eax
        xor     %ecx, %ecx
1:      mov     (%rsi,%rcx,8), %r10
        imul    $3, %r10, %r10
        add     %rdi, %r10
        add     %rcx, %r10
        mov     %r10, (%rsi,%rcx,8)
        add     %r10, %rax
        inc     %ecx
        cmp     $8, %ecx
        jb      1b
        ret
pal_f2_end:
pal_f3:
        mov     %rsi, %rax
        mov     %rdi, %rcx
        movabs  $6364136223846793005, %r10
        movabs  $1442695040888963407, %r11
        test    %rcx, %rcx
        jz      2f
1:      imul    %r10, %rax
        add     %r11, %rax
        dec     %rcx
        jnz     1b
2:      ret
pal_f3_end:

        .section .rodata
.Lk_funcs:      .asciz  "funcs="
.Lk_iters:      .asciz  "iters="
.Lk_seed:       .asciz  "seed="
.Lk_spin:       .asciz  "spin="
.Lk_high:       .asciz  "high"
.Lk_probe:      .asciz  "probe"
.Lk_user:       .asciz  "user"
.Lk_churn:      .asciz  "churn"
.Lk_beat:       .asciz  "beat="
.Lk_workers:    .asciz  "workers="
        .p2align 3
pal_code_tab:   .quad   pal_f0, pal_f1, pal_f2, pal_f3
pal_len_tab:    .quad   pal_f0_end - pal_f0, pal_f1_end - pal_f1, pal_f2_end - pal_f2, pal_f3_end - pal_f3
call_tab:       .quad   call_f0, call_f1, call_f2, call_f3
# per function: the number of parameters, then 10 x {type, size}
param_tab:
        .quad   6, P_INT,0, P_INT,0, P_INT,0, P_INT,0, P_INT,0, P_INT,0, 0,0, 0,0, 0,0, 0,0
        .quad   10, P_INT,0, P_INT,0, P_INT,0, P_INT,0, P_INT,0, P_INT,0, P_INT,0, P_INT,0, P_INT,0, P_INT,0
        .quad   2, P_INT,0, P_PTR,64, 0,0, 0,0, 0,0, 0,0, 0,0, 0,0, 0,0, 0,0
        .quad   2, P_INT,0, P_INT,0, 0,0, 0,0, 0,0, 0,0, 0,0, 0,0, 0,0, 0,0

        .section .data
        .p2align 3
gdt_user:
        .quad   0
        .quad   0x00AF9A000000FFFF              # 0x08 64-bit code, DPL 0
        .quad   0x00CF92000000FFFF              # 0x10 data, DPL 0
        .quad   0x00CFF2000000FFFF              # 0x18 data, DPL 3
        .quad   0x00AFFA000000FFFF              # 0x20 64-bit code, DPL 3
        .fill   2 * MAX_CPUS, 8, 0              # 0x28 + 16 c: CPU c's TSS (user_setup)
gdt_user_end:
        .word   0, 0, 0
gdt_user_ptr:
        .word   gdt_user_end - gdt_user - 1
        .quad   gdt_user
funcs:          .long   15
workers:        .long   MAX_CPUS
iters:          .long   20
seed:           .quad   1
spin:           .quad   200

        .section .bss
        .p2align 3
ncpus:          .skip 4
have_hv:        .skip 4
probing:        .skip 4
user_mode:      .skip 4
churn:          .skip 4
beat:           .skip 4
ap_ready:       .skip 4
go:             .skip 4
done:           .skip 8
rng:            .skip 8 * MAX_CPUS
calls:          .skip 8 * MAX_CPUS
fails:          .skip 8 * MAX_CPUS
nmis:           .skip 8 * MAX_CPUS
regerr:         .skip 8 * MAX_CPUS
regfunc:        .skip 8 * MAX_CPUS
unregerr:       .skip 8 * MAX_CPUS
unregfunc:      .skip 8 * MAX_CPUS
probes:         .skip 8 * MAX_CPUS
refused:        .skip 8 * MAX_CPUS
probe_resume:   .skip 8 * MAX_CPUS
kernel_rsp:     .skip 8 * MAX_CPUS
        .p2align 7
tss_area:       .skip 128 * MAX_CPUS
        .p2align 12
kstacks:        .skip 4096 * MAX_CPUS
ustacks:        .skip 4096 * MAX_CPUS
desc_area:      .skip DESC_SIZE * MAX_CPUS
args_area:      .skip 128 * MAX_CPUS
buf_area:       .skip 256 * MAX_CPUS
        .p2align 12
pal_pd:         .skip 4096
pal_pt:         .skip 4096
pal_area:       .skip MAX_CPUS * PAL_CPU_STRIDE
