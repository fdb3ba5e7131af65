# lhv.S - an LHV-style guest hypervisor: on every CPU of the machine, VMXON, a VMCS of its own
# and a 64-bit guest (L2) that runs a workload loop of exiting instructions; the hypervisor
# answers the exits and counts the iterations. Written from the facts in docs/vmx-facts.md,
# docs/xmhf-facts.md and seed 003 (no LHV/XMHF code).
#
# Command line (boot information + 0x200), space-separated, unknown words ignored:
#   opt=N     option bits (hex with 0x, else decimal; default 0), below
#   iters=N   iterations per CPU, 1..65535 (default 30)
#
# Option bits (opt=):
#   0x001 MSRLIST  VM-entry MSR-load, VM-exit MSR-store and VM-exit MSR-load lists of four
#                  entries: the unused MTRR pair 0x20E/0x20F and the MC-bank MSRs 0x402/0x403
#                  (writable on the seed 003 CPU). The entry-load and exit-store lists share one
#                  area, so the guest's values persist across exits; the exit-load list puts the
#                  host's values back. The guest checks that it reads the entry-loaded values,
#                  the host checks at each VMCALL that its own values were loaded at the exit
#                  (SDM Vol.3C 26.4, 27.4, 27.6).
#   0x002 EPT      identity EPT of the first 8 MiB with 4K pages (4-level, WB).
#   0x004 VPID     VPID = APIC ID + 1 on each CPU (INVVPID single-context before launch).
#   0x008 UG       unrestricted guest (implies EPT): L2 starts in real mode at 0xA000, says
#                  hello with VMCALL 3, and switches itself to protected and then long mode; its
#                  WRMSR to IA32_EFER is emulated through the guest EFER field ("load/save
#                  IA32_EFER"), and the host keeps "IA-32e mode guest" equal to EFER.LMA.
#   0x010 USER     the workload runs at CPL 3 (IOPL 3); its MSR accesses go through INT 0x80 to
#                  the L2 kernel at CPL 0 (RDMSR/WRMSR at CPL 3 are #GP before any exit).
#   0x020 EPT2M    EPT with 2M pages for 0-1 GiB (implies EPT).
#   0x040 EPT1G    EPT with one 1G page for 0-1 GiB (implies EPT; wins over EPT2M).
#   0x080 MSRBMP   MSR bitmaps: reads of 0x20D, 0x20E, 0x402, 0x403 and writes of 0x402, 0x403
#                  do not exit. MSR exits per iteration: 3 instead of 8 (checked by the host).
#   0x100 NMI      NMI exiting + virtual NMIs; at every 3rd iteration's VMCALL the host sets
#                  NMI-window exiting and injects an NMI at the NMI-window exit (SDM 26.6.6,
#                  25.3); the guest's NMI handler counts them, and the host checks at each VMCALL
#                  that the guest counted exactly the NMIs it injected.
#   0x200 TIMER    VMX-preemption timer (value 20, saved across exits), counted exits.
#   0x400 MTF      monitor trap flag for 3 instructions after each VMCALL (3 MTF exits checked).
#
# Each iteration of the L2 workload: CPUID of the LHV leaf 0x4C485600 (the host answers magic,
# APIC ID, its iteration count, opt) and of leaf 1 (the host sets ECX bit 31 "hypervisor
# present"); OUT and IN of port 0x5A0 (unconditional I/O exiting; the host returns a value
# derived from the iteration); WRMSR/RDMSR of MTRRs 0x20C/0x20D (the host performs them),
# RDMSR of 0x20E, 0x403, 0x402 and WRMSR of 0x402; a short busy loop; VMCALL 1 with the
# iteration number and the guest's NMI count. Any mismatch in the guest or the host prints
#   CPU(0xNN): LHV FAIL: <what> iter=K
# and exits with status 1.
#
# Output: first "lhv: opt=0xNNN iters=N cpus=N", then from every CPU, one line per iteration
#   CPU(0xNN): LHV test iter K                 (K = 1..iters; APIC ID in two hex digits)
# or, when CPUID.1:ECX[31] says LHV itself runs under a hypervisor,
#   CPU(0xNN): LHV in XMHF test iter K
# then per CPU one summary line
#   CPU(0xNN): LHV done exits=E cpuid=C vmcall=V msr=M io=I nmi-windows=W nmis-injected=J
#     guest-nmis=G timer=T mtf=F                                 (one line)
# and finally from the BSP "lhv: ok", exit status 0. Lines from different CPUs are whole (serial
# lock); their order depends on scheduling.

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "apic.inc"
        .include "smp.inc"

        .equ OPT_MSRLIST,       0x001
        .equ OPT_EPT,           0x002
        .equ OPT_VPID,          0x004
        .equ OPT_UG,            0x008
        .equ OPT_USER,          0x010
        .equ OPT_EPT2M,         0x020
        .equ OPT_EPT1G,         0x040
        .equ OPT_MSRBMP,        0x080
        .equ OPT_NMI,           0x100
        .equ OPT_TIMER,         0x200
        .equ OPT_MTF,           0x400

        .equ LHV_MAX_CPUS,      16
        .equ LHV_DEFAULT_ITERS, 30
        .equ LHV_LEAF,          0x4C485600      # "LHV" + 0: the leaf the host emulates
        .equ LHV_MAGIC,         0x3156484C      # "LHV1"
        .equ LHV_ACK,           0x4C48564B
        .equ LHV_RM_ACK,        0x524D4F4B      # answer to the real-mode hello
        .equ LHV_IN_MAGIC,      0x5A0C0DE0
        .equ LHV_PORT,          0x5A0           # unused: reads all ones on the bare machine
        .equ LHV_SPIN,          300             # busy-loop length per iteration
        .equ LHV_TIMER_VALUE,   20              # preemption timer: 20 << 5 TSC ticks
        .equ LHV_NMI_EVERY,     3
        .equ LHV_MTF_STEPS,     3
        .equ VMCALL_ITER,       1
        .equ VMCALL_FAIL,       2
        .equ VMCALL_REALMODE,   3

        # MSRs
        .equ MSR_GS_BASE,       0xC0000101
        .equ MSR_FEATURE_CONTROL, 0x3A
        .equ MSR_VMX_BASIC,     0x480
        .equ MSR_VMX_TRUE_PIN,  0x48D
        .equ MSR_VMX_TRUE_PROC, 0x48E
        .equ MSR_VMX_TRUE_EXIT, 0x48F
        .equ MSR_VMX_TRUE_ENTRY, 0x490
        .equ CR4_VMXE,          0x2000

        # values of the MSR lists (MTRR bases with valid types 6/5, masks with V = 0: inactive)
        .equ G20E,              0x0000000050000006      # | APIC ID << 12
        .equ G20F,              0x0000000ffc000000
        .equ G402,              0x4775657374000000      # | APIC ID
        .equ G403,              0x0123456789ab0000      # | APIC ID
        .equ H20E,              0x0000000070000005
        .equ H20F,              0x0000000ff8000000
        .equ H402,              0x486f737430343032
        .equ H403,              0x486f737430343033

        # VMCS fields (SDM Vol.3D Appendix B)
        .equ F_VPID,            0x0000
        .equ F_MSR_BITMAP,      0x2004
        .equ F_EXIT_STORE_ADDR, 0x2006
        .equ F_EXIT_LOAD_ADDR,  0x2008
        .equ F_ENTRY_LOAD_ADDR, 0x200A
        .equ F_EPTP,            0x201A
        .equ F_LINK,            0x2800
        .equ F_GUEST_EFER,      0x2806
        .equ F_PIN,             0x4000
        .equ F_PROC,            0x4002
        .equ F_EXC_BITMAP,      0x4004
        .equ F_EXIT_CTLS,       0x400C
        .equ F_EXIT_STORE_CNT,  0x400E
        .equ F_EXIT_LOAD_CNT,   0x4010
        .equ F_ENTRY_CTLS,      0x4012
        .equ F_ENTRY_LOAD_CNT,  0x4014
        .equ F_ENTRY_INFO,      0x4016
        .equ F_PROC2,           0x401E
        .equ F_INSN_ERROR,      0x4400
        .equ F_EXIT_REASON,     0x4402
        .equ F_EXIT_INFO,       0x4404
        .equ F_EXIT_LEN,        0x440C
        .equ F_TIMER,           0x482E
        .equ F_EXIT_QUAL,       0x6400
        .equ F_GUEST_CR0,       0x6800
        .equ F_GUEST_RIP,       0x681E
        .equ F_HOST_RSP,        0x6C14
        .equ F_HOST_RIP,        0x6C16

        # controls (SDM Vol.3C 24.6-24.8)
        .equ PIN_NMI_EXITING,   1 << 3
        .equ PIN_VIRTUAL_NMIS,  1 << 5
        .equ PIN_TIMER,         1 << 6
        .equ PROC_NMI_WINDOW,   1 << 22
        .equ PROC_UNCOND_IO,    1 << 24
        .equ PROC_MTF,          1 << 27
        .equ PROC_MSR_BITMAPS,  1 << 28
        .equ PROC_SECONDARY,    1 << 31
        .equ PROC2_EPT,         1 << 1
        .equ PROC2_VPID,        1 << 5
        .equ PROC2_UG,          1 << 7
        .equ EXIT_HOST_64,      1 << 9
        .equ EXIT_SAVE_EFER,    1 << 20
        .equ EXIT_SAVE_TIMER,   1 << 22
        .equ ENTRY_IA32E,       1 << 9
        .equ ENTRY_LOAD_EFER,   1 << 15

        # basic exit reasons (SDM Vol.3D Appendix C)
        .equ EXIT_NMI_WINDOW,   8
        .equ EXIT_CPUID,        10
        .equ EXIT_VMCALL,       18
        .equ EXIT_IO,           30
        .equ EXIT_RDMSR,        31
        .equ EXIT_WRMSR,        32
        .equ EXIT_MTF,          37
        .equ EXIT_TIMER,        52

        # per-CPU block: struct page, VMXON region, VMCS, MSR lists, L2 kernel page, L2 user
        # stack page. Host GS base points at the struct (host-state GS base field).
        .equ PERCPU_SIZE,       0x6000
        .equ PC_VMXON,          0x1000
        .equ PC_VMCS,           0x2000
        .equ PC_GUEST_LIST,     0x3000          # entry-load = exit-store list
        .equ PC_HOST_LIST,      0x3800          # exit-load list
        .equ PC_L2_KERNEL,      0x4000          # +0 guest NMI count, +8 0x402 shadow, +64 TSS
        .equ PC_L2_USER_TOP,    0x6000
        .equ L2_TSS_OFF,        64
        # struct: guest GPRs in register-number order, then counters
        .equ G_RAX, 0
        .equ G_RCX, 8
        .equ G_RDX, 16
        .equ G_RBX, 24
        .equ G_RBP, 40
        .equ G_RSI, 48
        .equ G_RDI, 56
        .equ G_R8,  64
        .equ G_R9,  72
        .equ G_R10, 80
        .equ G_R11, 88
        .equ G_R12, 96
        .equ G_R13, 104
        .equ G_R14, 112
        .equ G_R15, 120
        .equ PC_SELF,           128
        .equ PC_APIC,           136
        .equ PC_ITER,           144
        .equ PC_LAUNCHED,       152
        .equ PC_MSRX,           160             # MSR exits in this iteration
        .equ PC_INJ,            168
        .equ PC_NMIWIN,         176
        .equ PC_TIMERX,         184
        .equ PC_MTFX,           192
        .equ PC_MTFLEFT,        200
        .equ PC_EXITS,          208
        .equ PC_IOOUT,          216
        .equ PC_NESTED,         224
        .equ PC_GNMI,           232
        .equ PC_CPUIDX,         240
        .equ PC_MSRTOT,         248
        .equ PC_IOX,            256
        .equ PC_VMCALLX,        264

        # L2 world: its own GDT, IDT and page tables
        .equ L2_SEL_CODE64,     0x08
        .equ L2_SEL_DATA,       0x10
        .equ L2_SEL_UDATA,      0x18 | 3
        .equ L2_SEL_UCODE64,    0x20 | 3
        .equ L2_SEL_CODE32,     0x28
        .equ L2_SEL_TSS,        0x30
        .equ L2_GDT_LIMIT,      0x3F
        .equ L2_TRAMP_ADDR,     0xA000          # real-mode start of the UG guest (free area)
        .equ EPT_4K_LIMIT,      0x800000        # 4K EPT maps 0-8 MiB

# LVMW field, value / LVMR field, reg: VMWRITE / VMREAD; VMfail goes to lhv_vmx_error with
# RDX = field. Clobber RAX (LVMW) and RDX.
.macro LVMW field, value
        mov     $(\field), %edx
        mov     \value, %rax
        vmwrite %rax, %rdx
        jbe     lhv_vmx_error
.endm
.macro LVMR field, reg
        mov     $(\field), %edx
        vmread  %rdx, \reg
        jbe     lhv_vmx_error
.endm
# LCTLS field, msr, extra: the allowed-0 bits of a TRUE capability MSR | extra (register).
.macro LCTLS field, msr, extra
        mov     $(\msr), %ecx
        rdmsr
        or      \extra, %eax
        mov     $(\field), %edx
        vmwrite %rax, %rdx
        jbe     lhv_vmx_error
.endm
# FAIL "text": host-side failure on this CPU.
.macro FAIL text
        lea     .Lfail_text\@(%rip), %rsi
        jmp     lhv_fail
        .pushsection .rodata
.Lfail_text\@:
        .asciz  "\text"
        .popsection
.endm
# L2FAIL "text": guest-side failure, reported to the host with VMCALL 2 (RBX = text).
.macro L2FAIL text
        lea     .Ll2fail_text\@(%rip), %rbx
        mov     $VMCALL_FAIL, %eax
        vmcall
        jmp     .
        .pushsection .rodata
.Ll2fail_text\@:
        .asciz  "\text"
        .popsection
.endm

        .section .text
        .globl  _start
_start:
        mov     %rdi, %rbx                      # boot information
        mov     BI_NCPUS(%rbx), %eax
        mov     %eax, lhv_ncpus(%rip)
        test    %eax, %eax
        jz      1f
        cmp     $LHV_MAX_CPUS, %eax
        jbe     2f
1:      PRINT   "lhv: unsupported CPU count (1..16)\n"
        EXIT    1
2:      lea     BI_CMDLINE(%rbx), %rsi
        call    parse_cmdline
        mov     lhv_iters(%rip), %rax
        test    %rax, %rax
        jz      3f
        cmp     $65535, %rax
        jbe     4f
3:      PRINT   "lhv: iters must be 1..65535\n"
        EXIT    1
4:      mov     lhv_opt(%rip), %rax             # these options need EPT (SDM 26.2.1.1: UG needs EPT)
        test    $(OPT_UG | OPT_EPT2M | OPT_EPT1G), %eax
        jz      5f
        or      $OPT_EPT, %rax
        mov     %rax, lhv_opt(%rip)
5:      call    exc_install_stubs
        call    idt_load
        call    build_l2_idt
        call    build_msr_bitmap
        testq   $OPT_EPT, lhv_opt(%rip)
        jz      6f
        call    build_ept
6:      lea     l2_tramp_start(%rip), %rsi     # the UG guest's real-mode code runs at 0xA000
        mov     $L2_TRAMP_ADDR, %edi
        mov     $(l2_tramp_end - l2_tramp_start), %ecx
        cld
        rep movsb
        PRINT   "lhv: opt="
        PRINT_HEX lhv_opt(%rip), 3
        PRINT   " iters="
        PRINT_DEC lhv_iters(%rip)
        PRINT   " cpus="
        mov     lhv_ncpus(%rip), %eax
        PRINT_DEC %rax
        PRINT   "\n"
        cmpl    $1, lhv_ncpus(%rip)
        je      7f
        xor     %esi, %esi
        mov     $ICR_ALL_BUT_SELF, %edi
        call    smp_start_aps
7:      xor     %edi, %edi
        call    lhv_cpu
        # wait for every CPU's summary (no timeout: the run's step limit bounds a hang)
8:      mov     lhv_done(%rip), %eax
        cmp     lhv_ncpus(%rip), %eax
        je      9f
        pause
        jmp     8b
9:      SERIAL_LOCK
        PRINT   "lhv: ok\n"
        EXIT    0

ap_main:
        lidt    idt_pointer(%rip)               # the host IDT, shared by all CPUs
        call    lhv_cpu
        ret

# ---- command line: RSI = NUL-terminated text ----
parse_cmdline:
        movq    $LHV_DEFAULT_ITERS, lhv_iters(%rip)
1:      movzbl  (%rsi), %eax
        test    %al, %al
        jz      9f
        cmp     $' ', %al
        jne     2f
        inc     %rsi
        jmp     1b
2:      cmpl    $0x3D74706F, (%rsi)             # "opt="
        jne     3f
        add     $4, %rsi
        call    parse_num
        mov     %rax, lhv_opt(%rip)
        jmp     1b
3:      cmpl    $0x72657469, (%rsi)             # "iter"
        jne     5f
        cmpw    $0x3D73, 4(%rsi)                # "s="
        jne     5f
        add     $6, %rsi
        call    parse_num
        mov     %rax, lhv_iters(%rip)
        jmp     1b
5:      movzbl  (%rsi), %eax                    # skip an unknown word
        test    %al, %al
        jz      9f
        cmp     $' ', %al
        je      1b
        inc     %rsi
        jmp     5b
9:      ret

# parse_num: RSI -> RAX (0x-prefixed hex or decimal); RSI after the number.
parse_num:
        xor     %eax, %eax
        cmpw    $0x7830, (%rsi)                 # "0x"
        jne     3f
        add     $2, %rsi
1:      movzbl  (%rsi), %ecx
        sub     $'0', %ecx
        cmp     $9, %ecx
        jbe     2f
        movzbl  (%rsi), %ecx
        or      $0x20, %ecx
        sub     $'a', %ecx
        cmp     $5, %ecx
        ja      9f
        add     $10, %ecx
2:      shl     $4, %rax
        or      %rcx, %rax
        inc     %rsi
        jmp     1b
3:      movzbl  (%rsi), %ecx
        sub     $'0', %ecx
        cmp     $9, %ecx
        ja      9f
        imul    $10, %rax, %rax
        add     %rcx, %rax
        inc     %rsi
        jmp     3b
9:      ret

# ---- shared tables, built by the BSP before any AP starts ----
build_l2_idt:
        lea     l2_idt(%rip), %rdi
        lea     l2_nmi(%rip), %rsi
        mov     $(2 * 16), %ecx
        mov     $0x8E, %edx                     # DPL 0 interrupt gate
        call    l2_gate
        lea     l2_int80(%rip), %rsi
        mov     $(0x80 * 16), %ecx
        mov     $0xEE, %edx                     # DPL 3: INT 0x80 allowed from CPL 3
        call    l2_gate
        ret
# RDI = IDT, RCX = byte offset of the gate, RSI = handler, EDX = type/attributes
l2_gate:
        add     %rdi, %rcx
        mov     %si, 0(%rcx)
        movw    $L2_SEL_CODE64, 2(%rcx)
        movb    $0, 4(%rcx)
        mov     %dl, 5(%rcx)
        mov     %rsi, %rax
        shr     $16, %rax
        mov     %ax, 6(%rcx)
        shr     $16, %rax
        mov     %eax, 8(%rcx)
        movl    $0, 12(%rcx)
        ret

# MSR bitmap (SDM Vol.3C 24.6.9): read bitmap for low MSRs at 0, write bitmap at 2048. Every
# bit set (exit) except the pass-through MSRs of OPT_MSRBMP.
build_msr_bitmap:
        lea     lhv_msr_bitmap(%rip), %rdi
        mov     $-1, %rax
        mov     $512, %ecx
        rep stosq
        lea     lhv_msr_bitmap(%rip), %rdi
        .irp    m, 0x20D, 0x20E, 0x402, 0x403
        mov     $\m, %eax
        btr     %rax, (%rdi)
        .endr
        .irp    m, 0x402, 0x403
        mov     $(\m + 2048 * 8), %eax
        btr     %rax, (%rdi)
        .endr
        ret

# Identity EPT (SDM Vol.3C 28.2.2): RWX entries, leaf memory type WB (6 << 3); EPTP with WB and
# a 4-level walk (28.2.6: bits 2:0 = 6, 5:3 = 3).
build_ept:
        lea     ept_pdpt(%rip), %rax
        or      $7, %rax
        mov     %rax, ept_pml4(%rip)
        mov     lhv_opt(%rip), %rdx
        test    $OPT_EPT1G, %edx
        jz      1f
        movq    $0xB7, ept_pdpt(%rip)           # 1G page at 0: PS | WB | RWX
        jmp     8f
1:      lea     ept_pd(%rip), %rax
        or      $7, %rax
        mov     %rax, ept_pdpt(%rip)
        lea     ept_pd(%rip), %rdi
        test    $OPT_EPT2M, %edx
        jz      3f
        xor     %ecx, %ecx
2:      mov     %rcx, %rax
        shl     $21, %rax
        or      $0xB7, %rax                     # 2M page: PS | WB | RWX
        mov     %rax, (%rdi,%rcx,8)
        inc     %ecx
        cmp     $512, %ecx
        jb      2b
        jmp     8f
3:      lea     _image_end(%rip), %rax
        cmp     $EPT_4K_LIMIT, %rax
        jbe     4f
        PRINT   "lhv: image too large for the 4K EPT\n"
        EXIT    1
4:      xor     %ecx, %ecx
        lea     ept_pt(%rip), %rsi
5:      lea     7(%rsi), %rax                   # PDE -> page table
        mov     %rax, (%rdi,%rcx,8)
        add     $4096, %rsi
        inc     %ecx
        cmp     $(EPT_4K_LIMIT >> 21), %ecx
        jb      5b
        lea     ept_pt(%rip), %rdi
        xor     %ecx, %ecx
6:      mov     %rcx, %rax
        shl     $12, %rax
        or      $0x37, %rax                     # 4K page: WB | RWX
        mov     %rax, (%rdi,%rcx,8)
        inc     %ecx
        cmp     $(EPT_4K_LIMIT >> 12), %ecx
        jb      6b
8:      lea     ept_pml4(%rip), %rax
        or      $0x1E, %rax
        mov     %rax, lhv_eptp(%rip)
        ret

# =============================================================================================
# lhv_cpu: EDI = APIC ID. Sets up VMX on this CPU and runs its guest until the last iteration;
# returns after the summary line. Clobbers every register. It pushes nothing besides its
# return address, so the host RSP written below is the RSP a RET from here needs.
lhv_cpu:
        mov     %edi, %eax
        imul    $PERCPU_SIZE, %rax, %rax
        lea     lhv_percpu(%rip), %rbx
        add     %rax, %rbx                      # RBX = this CPU's block
        mov     %rbx, %rax
        mov     %rbx, %rdx
        shr     $32, %rdx
        mov     $MSR_GS_BASE, %ecx
        wrmsr
        mov     %rbx, %gs:PC_SELF
        mov     %rdi, %gs:PC_APIC
        mov     $1, %eax                        # CPUID.1:ECX[31]: LHV itself runs virtualized
        xor     %ecx, %ecx
        cpuid
        shr     $31, %ecx
        mov     %rcx, %gs:PC_NESTED
        mov     %gs:PC_SELF, %rbx               # (CPUID wrote RBX)

        # VMXON (SDM Vol.3C 23.7): IA32_FEATURE_CONTROL locked with VMXON outside SMX, CR4.VMXE,
        # revision identifiers from IA32_VMX_BASIC[30:0] (Appendix A.1).
        mov     $MSR_FEATURE_CONTROL, %ecx
        rdmsr
        test    $1, %eax
        jnz     1f
        or      $5, %eax
        wrmsr
        jmp     2f
1:      test    $4, %eax
        jnz     2f
        FAIL    "IA32_FEATURE_CONTROL locked without VMXON outside SMX"
2:      mov     $MSR_VMX_BASIC, %ecx
        rdmsr
        and     $0x7FFFFFFF, %eax
        mov     %eax, PC_VMXON(%rbx)
        mov     %eax, PC_VMCS(%rbx)
        mov     %cr4, %rax
        or      $CR4_VMXE, %rax
        mov     %rax, %cr4
        lea     PC_VMXON(%rbx), %rax
        push    %rax
        vmxon   (%rsp)
        pop     %rax
        jbe     lhv_vmxon_error
        lea     PC_VMCS(%rbx), %rax
        push    %rax
        xor     %edx, %edx
        vmclear (%rsp)                          # launch state "clear" (SDM 24.1)
        jbe     lhv_vmx_error
        vmptrld (%rsp)
        jbe     lhv_vmx_error
        pop     %rax
        call    setup_vmcs
        call    setup_l2_data

        # the guest's first registers: RDI = APIC ID, RSI = its kernel page, RDX = R9 = opt,
        # R8 = top of its user stack
        mov     %gs:PC_APIC, %rax
        mov     %rax, %gs:G_RDI
        lea     PC_L2_KERNEL(%rbx), %rax
        mov     %rax, %gs:G_RSI
        mov     lhv_opt(%rip), %rax
        mov     %rax, %gs:G_RDX
        mov     %rax, %gs:G_R9                  # again in R9: the UG trampoline clobbers RDX
        lea     PC_L2_USER_TOP(%rbx), %rax
        mov     %rax, %gs:G_R8

        # invalidate what this VPID / EPTP may have cached (SDM Vol.3C 30.3: INVEPT, INVVPID;
        # type 1 = single context)
        testq   $OPT_VPID, lhv_opt(%rip)
        jz      3f
        mov     %gs:PC_APIC, %rax
        inc     %rax
        push    $0
        push    %rax
        mov     $1, %eax
        invvpid (%rsp), %rax
        lea     16(%rsp), %rsp
        jbe     lhv_vmx_error
3:      testq   $OPT_EPT, lhv_opt(%rip)
        jz      4f
        push    $0
        push    lhv_eptp(%rip)
        mov     $1, %eax
        invept  (%rsp), %rax
        lea     16(%rsp), %rsp
        jbe     lhv_vmx_error
4:      LVMW    F_HOST_RSP, %rsp
        jmp     lhv_enter

# setup_vmcs: RBX = per-CPU block; the current VMCS is this CPU's.
setup_vmcs:
        mov     lhv_opt(%rip), %r14
        # ---- controls (SDM Vol.3C 24.6-24.8; allowed-0 bits from the TRUE MSRs, A.3-A.5) ----
        xor     %r8d, %r8d
        test    $OPT_NMI, %r14d
        jz      1f
        or      $(PIN_NMI_EXITING | PIN_VIRTUAL_NMIS), %r8d
1:      test    $OPT_TIMER, %r14d
        jz      2f
        or      $PIN_TIMER, %r8d
2:      LCTLS   F_PIN, MSR_VMX_TRUE_PIN, %r8d
        mov     $(PROC_SECONDARY | PROC_UNCOND_IO), %r8d
        test    $OPT_MSRBMP, %r14d
        jz      3f
        or      $PROC_MSR_BITMAPS, %r8d
3:      LCTLS   F_PROC, MSR_VMX_TRUE_PROC, %r8d
        xor     %r8d, %r8d
        test    $OPT_EPT, %r14d
        jz      4f
        or      $PROC2_EPT, %r8d
4:      test    $OPT_VPID, %r14d
        jz      5f
        or      $PROC2_VPID, %r8d
5:      test    $OPT_UG, %r14d
        jz      6f
        or      $PROC2_UG, %r8d
6:      LVMW    F_PROC2, %r8
        mov     $EXIT_HOST_64, %r8d
        test    $OPT_TIMER, %r14d
        jz      7f
        or      $EXIT_SAVE_TIMER, %r8d          # the timer keeps counting across exits (27.3.4)
7:      test    $OPT_UG, %r14d
        jz      8f
        or      $EXIT_SAVE_EFER, %r8d
8:      LCTLS   F_EXIT_CTLS, MSR_VMX_TRUE_EXIT, %r8d
        mov     $ENTRY_IA32E, %r8d
        test    $OPT_UG, %r14d
        jz      9f
        mov     $ENTRY_LOAD_EFER, %r8d          # real-mode start: EFER = 0 from the VMCS
9:      LCTLS   F_ENTRY_CTLS, MSR_VMX_TRUE_ENTRY, %r8d
        LVMW    F_EXC_BITMAP, $0xFFFFFFFF       # every guest exception exits: a failure
        LVMW    0x4006, $0                      # #PF error-code mask / match
        LVMW    0x4008, $0
        LVMW    0x400A, $0                      # CR3-target count
        LVMW    0x6000, $0                      # CR0/CR4 guest-host masks: the guest owns them
        LVMW    0x6002, $0
        LVMW    0x6004, $0
        LVMW    0x6006, $0
        LVMW    F_ENTRY_INFO, $0
        LVMW    0x4018, $0
        LVMW    0x401A, $0
        lea     lhv_msr_bitmap(%rip), %rax
        LVMW    F_MSR_BITMAP, %rax
        LVMW    F_EPTP, lhv_eptp(%rip)
        mov     %gs:PC_APIC, %rax
        inc     %rax
        LVMW    F_VPID, %rax
        LVMW    F_TIMER, $LHV_TIMER_VALUE
        # MSR lists (SDM Vol.3C 24.7.2, 24.8.2): count 4 each with OPT_MSRLIST, else 0
        xor     %ecx, %ecx
        test    $OPT_MSRLIST, %r14d
        jz      10f
        mov     $4, %ecx
10:     LVMW    F_EXIT_STORE_CNT, %rcx
        LVMW    F_EXIT_LOAD_CNT, %rcx
        LVMW    F_ENTRY_LOAD_CNT, %rcx
        lea     PC_GUEST_LIST(%rbx), %rax
        LVMW    F_EXIT_STORE_ADDR, %rax
        lea     PC_GUEST_LIST(%rbx), %rax
        LVMW    F_ENTRY_LOAD_ADDR, %rax
        lea     PC_HOST_LIST(%rbx), %rax
        LVMW    F_EXIT_LOAD_ADDR, %rax

        # ---- host state (SDM Vol.3C 24.5) ----
        mov     %cr0, %rcx
        LVMW    0x6C00, %rcx
        mov     %cr3, %rcx
        LVMW    0x6C02, %rcx
        mov     %cr4, %rcx
        LVMW    0x6C04, %rcx
        LVMW    0x0C00, $SEL_DATA
        LVMW    0x0C02, $SEL_CODE64
        LVMW    0x0C04, $SEL_DATA
        LVMW    0x0C06, $SEL_DATA
        LVMW    0x0C08, $SEL_DATA
        LVMW    0x0C0A, $SEL_DATA
        LVMW    0x0C0C, $0x28                   # TR selector: must not be 0 (26.2.3)
        LVMW    0x6C06, $0                      # FS base
        LVMW    0x6C08, %rbx                    # GS base: the per-CPU block
        LVMW    0x6C0A, $0
        LVMW    0x6C0C, $BOOT_GDT_ADDR
        lea     idt_table(%rip), %rcx
        LVMW    0x6C0E, %rcx
        LVMW    0x4C00, $0
        LVMW    0x6C10, $0
        LVMW    0x6C12, $0
        lea     lhv_exit(%rip), %rcx
        LVMW    F_HOST_RIP, %rcx

        # ---- guest state (SDM Vol.3C 24.4) ----
        LVMW    0x681A, $0x400                  # DR7
        LVMW    0x6822, $0                      # pending debug exceptions
        LVMW    F_LINK, $-1
        LVMW    0x2802, $0                      # IA32_DEBUGCTL
        LVMW    0x482A, $0                      # SYSENTER_CS/ESP/EIP
        LVMW    0x6824, $0
        LVMW    0x6826, $0
        LVMW    0x4824, $0                      # interruptibility
        LVMW    0x4826, $0                      # active
        LVMW    0x480C, $0                      # LDTR unusable
        LVMW    0x080C, $0
        LVMW    0x6812, $0
        LVMW    0x4820, $0x10000
        LVMW    0x080E, $L2_SEL_TSS             # TR: busy 64-bit TSS in the L2 kernel page
        lea     (PC_L2_KERNEL + L2_TSS_OFF)(%rbx), %rcx
        LVMW    0x6814, %rcx
        LVMW    0x480E, $0x67
        LVMW    0x4822, $0x8B
        lea     l2_gdt(%rip), %rcx
        LVMW    0x6816, %rcx
        LVMW    0x4810, $L2_GDT_LIMIT
        LVMW    0x6820, $2                      # RFLAGS
        lea     (PC_L2_KERNEL + 0x1000)(%rbx), %rcx
        LVMW    0x681C, %rcx                    # RSP: top of the L2 kernel page
        LVMW    F_GUEST_EFER, $0
        test    $OPT_UG, %r14d
        jnz     setup_guest_real

        # 64-bit start: paging with the L2 page tables, CS = 64-bit code
        LVMW    F_GUEST_CR0, $(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG)
        lea     l2_pml4(%rip), %rcx
        LVMW    0x6802, %rcx
        LVMW    0x6804, $(CR4_PAE | CR4_VMXE)   # VMXE: CR4_FIXED0 (A.8)
        LVMW    0x0802, $L2_SEL_CODE64
        LVMW    0x6808, $0
        LVMW    0x4802, $0xFFFFFFFF
        LVMW    0x4816, $0xA09B
        .irp    f, 0, 4, 6, 8, 10               # ES SS DS FS GS
        LVMW    (0x0800 + \f), $L2_SEL_DATA
        LVMW    (0x6806 + \f), $0
        LVMW    (0x4800 + \f), $0xFFFFFFFF
        LVMW    (0x4814 + \f), $0xC093
        .endr
        lea     l2_idt(%rip), %rcx
        LVMW    0x6818, %rcx
        LVMW    0x4812, $0xFFF
        lea     l2_entry64(%rip), %rcx
        LVMW    F_GUEST_RIP, %rcx
        ret

        # unrestricted guest: real mode at L2_TRAMP_ADDR, paging and protection off (26.3.1.1:
        # with "unrestricted guest" CR0.PE and CR0.PG may be 0; NE stays fixed)
setup_guest_real:
        LVMW    F_GUEST_CR0, $(CR0_ET | CR0_NE)
        LVMW    0x6802, $0
        LVMW    0x6804, $CR4_VMXE
        LVMW    0x0802, $(L2_TRAMP_ADDR >> 4)
        LVMW    0x6808, $L2_TRAMP_ADDR
        LVMW    0x4802, $0xFFFF
        LVMW    0x4816, $0x9B
        .irp    f, 0, 4, 6, 8, 10
        LVMW    (0x0800 + \f), $0
        LVMW    (0x6806 + \f), $0
        LVMW    (0x4800 + \f), $0xFFFF
        LVMW    (0x4814 + \f), $0x93
        .endr
        LVMW    0x6818, $0
        LVMW    0x4812, $0x3FF
        LVMW    F_GUEST_RIP, $0
        ret

# setup_l2_data: RBX = per-CPU block. TSS RSP0, MSR lists.
setup_l2_data:
        lea     (PC_L2_KERNEL + 0x1000)(%rbx), %rax
        mov     %rax, (PC_L2_KERNEL + L2_TSS_OFF + 4)(%rbx)     # TSS.RSP0
        movw    $0x68, (PC_L2_KERNEL + L2_TSS_OFF + 0x66)(%rbx) # no I/O permission bitmap
        mov     %gs:PC_APIC, %r8
        lea     PC_GUEST_LIST(%rbx), %rdi
        mov     %r8, %rax
        shl     $12, %rax
        movabs  $G20E, %rcx
        or      %rcx, %rax
        movq    $0x20E, 0(%rdi)
        mov     %rax, 8(%rdi)
        movq    $0x20F, 16(%rdi)
        movabs  $G20F, %rax
        mov     %rax, 24(%rdi)
        movq    $0x402, 32(%rdi)
        movabs  $G402, %rax
        or      %r8, %rax
        mov     %rax, 40(%rdi)
        movq    $0x403, 48(%rdi)
        movabs  $G403, %rax
        or      %r8, %rax
        mov     %rax, 56(%rdi)
        lea     PC_HOST_LIST(%rbx), %rdi
        movq    $0x20E, 0(%rdi)
        movabs  $H20E, %rax
        mov     %rax, 8(%rdi)
        movq    $0x20F, 16(%rdi)
        movabs  $H20F, %rax
        mov     %rax, 24(%rdi)
        movq    $0x402, 32(%rdi)
        movabs  $H402, %rax
        mov     %rax, 40(%rdi)
        movq    $0x403, 48(%rdi)
        movabs  $H403, %rax
        mov     %rax, 56(%rdi)
        ret

# =============================================================================================
# World switch. lhv_enter loads the guest's registers from the per-CPU block and enters;
# lhv_exit (host RIP) saves them back. Host RSP is constant, GS base = the per-CPU block.
lhv_enter:
        mov     %gs:G_RAX, %rax
        mov     %gs:G_RCX, %rcx
        mov     %gs:G_RDX, %rdx
        mov     %gs:G_RBX, %rbx
        mov     %gs:G_RBP, %rbp
        mov     %gs:G_RSI, %rsi
        mov     %gs:G_RDI, %rdi
        mov     %gs:G_R8, %r8
        mov     %gs:G_R9, %r9
        mov     %gs:G_R10, %r10
        mov     %gs:G_R11, %r11
        mov     %gs:G_R12, %r12
        mov     %gs:G_R13, %r13
        mov     %gs:G_R14, %r14
        mov     %gs:G_R15, %r15
        cmpq    $0, %gs:PC_LAUNCHED
        jne     1f
        vmlaunch
        jmp     lhv_entry_vmfail
1:      vmresume
        jmp     lhv_entry_vmfail

lhv_exit:
        mov     %rax, %gs:G_RAX
        mov     %rcx, %gs:G_RCX
        mov     %rdx, %gs:G_RDX
        mov     %rbx, %gs:G_RBX
        mov     %rbp, %gs:G_RBP
        mov     %rsi, %gs:G_RSI
        mov     %rdi, %gs:G_RDI
        mov     %r8, %gs:G_R8
        mov     %r9, %gs:G_R9
        mov     %r10, %gs:G_R10
        mov     %r11, %gs:G_R11
        mov     %r12, %gs:G_R12
        mov     %r13, %gs:G_R13
        mov     %r14, %gs:G_R14
        mov     %r15, %gs:G_R15
        movq    $1, %gs:PC_LAUNCHED
        incq    %gs:PC_EXITS
        mov     lhv_opt(%rip), %r14
        test    $OPT_UG, %r14d
        jz      1f
        # Keep "IA-32e mode guest" equal to the guest's EFER.LMA, which its own CR0.PG write
        # set: VM entry checks that they agree when "load IA32_EFER" is 1 (26.3.1.1).
        LVMR    F_GUEST_EFER, %rcx
        LVMR    F_ENTRY_CTLS, %rax
        and     $~ENTRY_IA32E, %eax
        bt      $10, %rcx                       # EFER.LMA
        jnc     2f
        or      $ENTRY_IA32E, %eax
2:      LVMW    F_ENTRY_CTLS, %rax
1:      LVMR    F_EXIT_REASON, %rax
        bt      $31, %eax
        jc      exit_unexpected
        cmp     $EXIT_CPUID, %eax
        je      exit_cpuid
        cmp     $EXIT_VMCALL, %eax
        je      exit_vmcall
        cmp     $EXIT_RDMSR, %eax
        je      exit_rdmsr
        cmp     $EXIT_WRMSR, %eax
        je      exit_wrmsr
        cmp     $EXIT_IO, %eax
        je      exit_io
        cmp     $EXIT_NMI_WINDOW, %eax
        je      exit_nmi_window
        cmp     $EXIT_TIMER, %eax
        je      exit_timer
        cmp     $EXIT_MTF, %eax
        je      exit_mtf
        jmp     exit_unexpected

# skip_insn: guest RIP += VM-exit instruction length (27.2.4).
skip_insn:
        LVMR    F_GUEST_RIP, %rcx
        LVMR    F_EXIT_LEN, %rax
        add     %rax, %rcx
        LVMW    F_GUEST_RIP, %rcx
        ret

exit_cpuid:
        incq    %gs:PC_CPUIDX
        mov     %gs:G_RAX, %rax
        cmp     $LHV_LEAF, %eax
        jne     1f
        mov     $LHV_MAGIC, %eax
        mov     %gs:PC_APIC, %rbx
        mov     %gs:PC_ITER, %rcx
        mov     %r14, %rdx
        jmp     2f
1:      mov     %eax, %r8d
        mov     %gs:G_RCX, %rcx
        cpuid
        cmp     $1, %r8d
        jne     2f
        or      $(1 << 31), %ecx                # hypervisor present
2:      mov     %eax, %eax                      # CPUID writes 32 bits, zero-extended
        mov     %rax, %gs:G_RAX
        mov     %ebx, %ebx
        mov     %rbx, %gs:G_RBX
        mov     %ecx, %ecx
        mov     %rcx, %gs:G_RCX
        mov     %edx, %edx
        mov     %rdx, %gs:G_RDX
        call    skip_insn
        jmp     lhv_enter

exit_vmcall:
        incq    %gs:PC_VMCALLX
        mov     %gs:G_RAX, %rax
        cmp     $VMCALL_ITER, %rax
        je      vmcall_iter
        cmp     $VMCALL_REALMODE, %rax
        je      vmcall_realmode
        cmp     $VMCALL_FAIL, %rax
        jne     1f
        mov     %gs:G_RBX, %rsi                 # the guest's message (identity-mapped)
        jmp     lhv_fail_guest
1:      FAIL    "unknown VMCALL"

vmcall_realmode:
        LVMR    F_GUEST_CR0, %rax
        test    $CR0_PE, %eax
        jz      1f
        FAIL    "real-mode hello with CR0.PE set"
1:      movq    $LHV_RM_ACK, %gs:G_RAX
        call    skip_insn
        jmp     lhv_enter

vmcall_iter:
        mov     %gs:PC_ITER, %rax
        inc     %rax
        cmp     %gs:G_RBX, %rax
        je      1f
        FAIL    "guest iteration number differs from the host's"
1:      mov     %rax, %gs:PC_ITER
        # MSR exits of this iteration: 8, or 3 with the MSR bitmap
        mov     $8, %eax
        test    $OPT_MSRBMP, %r14d
        jz      2f
        mov     $3, %eax
2:      cmp     %gs:PC_MSRX, %rax
        je      3f
        FAIL    "wrong number of RDMSR/WRMSR exits in the iteration"
3:      movq    $0, %gs:PC_MSRX
        mov     %gs:PC_APIC, %rax
        shl     $16, %eax
        or      %gs:PC_ITER, %rax
        cmp     %gs:PC_IOOUT, %rax
        je      4f
        FAIL    "OUT value differs"
4:      mov     %gs:G_RCX, %rax                 # guest's NMI count = NMIs injected
        mov     %rax, %gs:PC_GNMI
        cmp     %gs:PC_INJ, %rax
        je      5f
        FAIL    "guest NMI count differs from NMIs injected"
5:      test    $OPT_MSRLIST, %r14d
        jz      6f
        mov     $0x402, %ecx                    # the exit-load list gave the host its values
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        movabs  $H402, %rcx
        cmp     %rcx, %rax
        je      7f
        FAIL    "host MSR 0x402 not loaded at exit"
7:      mov     $0x20E, %ecx
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        movabs  $H20E, %rcx
        cmp     %rcx, %rax
        je      6f
        FAIL    "host MTRR 0x20e not loaded at exit"
6:      call    print_iter
        mov     %gs:PC_ITER, %rax
        cmp     lhv_iters(%rip), %rax
        jae     lhv_cpu_done
        test    $OPT_NMI, %r14d
        jz      8f
        xor     %edx, %edx
        mov     $LHV_NMI_EVERY, %ecx
        div     %rcx
        test    %rdx, %rdx
        jnz     8f
        LVMR    F_PROC, %rax                    # NMI-window exiting (24.6.2, 26.6.6)
        or      $PROC_NMI_WINDOW, %eax
        LVMW    F_PROC, %rax
8:      test    $OPT_MTF, %r14d
        jz      9f
        movq    $LHV_MTF_STEPS, %gs:PC_MTFLEFT
        LVMR    F_PROC, %rax
        or      $PROC_MTF, %eax
        LVMW    F_PROC, %rax
9:      mov     %gs:G_RBX, %rax
        xor     $LHV_ACK, %rax
        mov     %rax, %gs:G_RAX
        call    skip_insn
        jmp     lhv_enter

# RDMSR/WRMSR (exits 31/32). EFER (UG only) lives in the guest EFER field; MSRs of the lists
# in the shared entry-load/exit-store area; the rest are done on the real MSR.
exit_rdmsr:
        mov     %gs:G_RCX, %rcx
        cmp     $MSR_EFER, %ecx
        jne     1f
        LVMR    F_GUEST_EFER, %rax
        jmp     3f
1:      incq    %gs:PC_MSRX
        incq    %gs:PC_MSRTOT
        call    find_list_msr
        jc      2f
        mov     8(%rdi), %rax
        jmp     3f
2:      rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
3:      mov     %eax, %edx
        mov     %rdx, %gs:G_RAX
        shr     $32, %rax
        mov     %rax, %gs:G_RDX
        call    skip_insn
        jmp     lhv_enter

exit_wrmsr:
        mov     %gs:G_RCX, %rcx
        mov     %gs:G_RAX, %rax
        mov     %eax, %eax
        mov     %gs:G_RDX, %rdx
        shl     $32, %rdx
        or      %rdx, %rax                      # RAX = value
        cmp     $MSR_EFER, %ecx
        jne     1f
        mov     %rax, %r8                       # LMA is the processor's: keep the current one
        LVMR    F_GUEST_EFER, %rcx
        and     $(1 << 10), %ecx
        and     $~(1 << 10), %r8
        or      %rcx, %r8
        LVMW    F_GUEST_EFER, %r8
        jmp     3f
1:      incq    %gs:PC_MSRX
        incq    %gs:PC_MSRTOT
        mov     %rax, %r8
        call    find_list_msr
        jc      2f
        mov     %r8, 8(%rdi)
        jmp     3f
2:      mov     %r8, %rax
        mov     %r8, %rdx
        shr     $32, %rdx
        wrmsr
3:      call    skip_insn
        jmp     lhv_enter

# find_list_msr: ECX = MSR; with OPT_MSRLIST and ECX in the guest list, RDI = its entry and CF
# clear; else CF set. Preserves RCX, R8.
find_list_msr:
        test    $OPT_MSRLIST, %r14d
        jz      9f
        mov     %gs:PC_SELF, %rdi
        add     $PC_GUEST_LIST, %rdi
        mov     $4, %edx
1:      cmp     %ecx, (%rdi)
        je      8f
        add     $16, %rdi
        dec     %edx
        jnz     1b
9:      stc
        ret
8:      clc
        ret

# I/O (exit 30): qualification bits 2:0 size - 1, bit 3 IN, bits 31:16 port (Table 27-5).
exit_io:
        incq    %gs:PC_IOX
        LVMR    F_EXIT_QUAL, %rcx
        mov     %rcx, %rax
        shr     $16, %rax
        cmp     $LHV_PORT, %ax
        je      1f
        FAIL    "I/O to an unexpected port"
1:      test    $8, %ecx
        jz      2f
        mov     %gs:PC_ITER, %rax               # IN: a value the guest can check, from the
        inc     %eax                            # guest's iteration (the host's + 1)
        xor     $LHV_IN_MAGIC, %eax
        mov     %rax, %gs:G_RAX
        jmp     3f
2:      mov     %gs:G_RAX, %rax
        mov     %eax, %eax
        mov     %rax, %gs:PC_IOOUT
3:      call    skip_insn
        jmp     lhv_enter

# NMI window (exit 8): inject the NMI now (entry interruption information 0x80000202, 24.8.3)
# and stop asking for the window.
exit_nmi_window:
        incq    %gs:PC_NMIWIN
        LVMR    F_PROC, %rax
        and     $~PROC_NMI_WINDOW, %eax
        LVMW    F_PROC, %rax
        LVMW    F_ENTRY_INFO, $0x80000202
        incq    %gs:PC_INJ
        jmp     lhv_enter

exit_timer:
        incq    %gs:PC_TIMERX
        LVMW    F_TIMER, $LHV_TIMER_VALUE       # the saved value is 0: start a new period
        jmp     lhv_enter

exit_mtf:
        incq    %gs:PC_MTFX
        decq    %gs:PC_MTFLEFT
        jg      1f
        LVMR    F_PROC, %rax
        and     $~PROC_MTF, %eax
        LVMW    F_PROC, %rax
1:      jmp     lhv_enter

exit_unexpected:
        SERIAL_LOCK
        call    print_cpu_prefix
        PRINT   "LHV FAIL: unexpected VM exit reason="
        LVMR    F_EXIT_REASON, %rax
        PRINT_HEX %rax, 8
        PRINT   " qual="
        LVMR    F_EXIT_QUAL, %rax
        PRINT_HEX %rax, 16
        PRINT   " info="
        LVMR    F_EXIT_INFO, %rax
        PRINT_HEX %rax, 8
        PRINT   " rip="
        LVMR    F_GUEST_RIP, %rax
        PRINT_HEX %rax, 16
        PRINT   " iter="
        PRINT_DEC %gs:PC_ITER
        PRINT   "\n"
        EXIT    1

# ---- output ----
print_cpu_prefix:
        PRINT   "CPU("
        PRINT_HEX %gs:PC_APIC, 2
        PRINT   "): "
        ret

print_iter:
        SERIAL_LOCK
        call    print_cpu_prefix
        cmpq    $0, %gs:PC_NESTED
        jne     1f
        PRINT   "LHV test iter "
        jmp     2f
1:      PRINT   "LHV in XMHF test iter "
2:      PRINT_DEC %gs:PC_ITER
        PRINT   "\n"
        SERIAL_UNLOCK
        ret

lhv_cpu_done:
        SERIAL_LOCK
        call    print_cpu_prefix
        PRINT   "LHV done exits="
        PRINT_DEC %gs:PC_EXITS
        PRINT   " cpuid="
        PRINT_DEC %gs:PC_CPUIDX
        PRINT   " vmcall="
        PRINT_DEC %gs:PC_VMCALLX
        PRINT   " msr="
        PRINT_DEC %gs:PC_MSRTOT
        PRINT   " io="
        PRINT_DEC %gs:PC_IOX
        PRINT   " nmi-windows="
        PRINT_DEC %gs:PC_NMIWIN
        PRINT   " nmis-injected="
        PRINT_DEC %gs:PC_INJ
        PRINT   " guest-nmis="
        PRINT_DEC %gs:PC_GNMI
        PRINT   " timer="
        PRINT_DEC %gs:PC_TIMERX
        PRINT   " mtf="
        PRINT_DEC %gs:PC_MTFX
        PRINT   "\n"
        SERIAL_UNLOCK
        lock incl lhv_done(%rip)
        ret                                     # RSP = host RSP: back to lhv_cpu's caller

# RSI = host-side message
lhv_fail:
        SERIAL_LOCK
        call    print_cpu_prefix
        PRINT   "LHV FAIL: "
        call    serial_puts
        PRINT   " iter="
        PRINT_DEC %gs:PC_ITER
        PRINT   "\n"
        EXIT    1

# RSI = the guest's message
lhv_fail_guest:
        SERIAL_LOCK
        call    print_cpu_prefix
        PRINT   "LHV FAIL: guest: "
        call    serial_puts
        PRINT   " iter="
        PRINT_DEC %gs:PC_ITER
        PRINT   " rip="
        LVMR    F_GUEST_RIP, %rax
        PRINT_HEX %rax, 16
        PRINT   "\n"
        EXIT    1

lhv_entry_vmfail:
        SERIAL_LOCK
        call    print_cpu_prefix
        PRINT   "LHV FAIL: VM entry VMfail error="
        mov     $F_INSN_ERROR, %edx
        xor     %eax, %eax
        vmread  %rdx, %rax
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1

lhv_vmxon_error:
        FAIL    "VMXON failed"

# RDX = the field of the failing VMREAD/VMWRITE (or 0 for VMCLEAR/VMPTRLD/INVEPT/INVVPID)
lhv_vmx_error:
        SERIAL_LOCK
        call    print_cpu_prefix
        PRINT   "LHV FAIL: VMX instruction failed, field="
        PRINT_HEX %rdx, 4
        PRINT   " error="
        mov     $F_INSN_ERROR, %edx
        xor     %eax, %eax
        vmread  %rdx, %rax
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1

# =============================================================================================
# L2: the guest. Runs on the L2 GDT/IDT/page tables (identity map of 0-1 GiB, 2M pages, user
# accessible). Registers: R12 = APIC ID, R13 = kernel page (+0 NMI count, +8 expected 0x402),
# R14 = opt, R15 = iteration, RBP = top of the user stack.
l2_entry64:
        lea     0x1000(%rsi), %rsp
        mov     %edi, %r12d
        mov     %rsi, %r13
        mov     %r9, %r14
        mov     %r8, %rbp
        xor     %r15d, %r15d
        lidt    l2_idtr(%rip)
        movq    $0, 0(%r13)
        xor     %eax, %eax                      # 0x402 before the first write: the list's
        test    $OPT_MSRLIST, %r14d             # value, or the reset value 0
        jz      1f
        movabs  $G402, %rax
        or      %r12, %rax
1:      mov     %rax, 8(%r13)
        test    $OPT_USER, %r14d
        jz      l2_loop
        # to CPL 3 with IOPL 3 (so IN/OUT reach the I/O exit; SDM Vol.1 18.5)
        push    $L2_SEL_UDATA
        push    %rbp
        push    $0x3002
        push    $L2_SEL_UCODE64
        lea     l2_loop(%rip), %rax
        push    %rax
        iretq

l2_loop:
        inc     %r15
        # CPUID of the LHV leaf
        mov     $LHV_LEAF, %eax
        xor     %ecx, %ecx
        cpuid
        cmp     $LHV_MAGIC, %eax
        je      1f
        L2FAIL  "CPUID LHV leaf: wrong magic"
1:      cmp     %r12d, %ebx
        je      2f
        L2FAIL  "CPUID LHV leaf: wrong APIC ID"
2:      lea     -1(%r15), %rax
        cmp     %eax, %ecx
        je      3f
        L2FAIL  "CPUID LHV leaf: wrong host iteration count"
3:      cmp     %r14d, %edx
        je      4f
        L2FAIL  "CPUID LHV leaf: wrong opt"
4:      mov     $1, %eax
        xor     %ecx, %ecx
        cpuid
        bt      $31, %ecx
        jc      5f
        L2FAIL  "CPUID.1:ECX[31] (hypervisor present) clear"
        # I/O to the unused port
5:      mov     %r12d, %eax
        shl     $16, %eax
        or      %r15d, %eax
        mov     $LHV_PORT, %dx
        out     %eax, %dx
        in      %dx, %eax
        mov     $LHV_IN_MAGIC, %ecx
        xor     %r15d, %ecx
        cmp     %ecx, %eax
        je      6f
        L2FAIL  "IN from the LHV port: wrong value"
6:      test    $OPT_USER, %r14d
        jz      7f
        int     $0x80
        jmp     8f
7:      call    l2_msr_ops
8:      mov     $LHV_SPIN, %ecx
9:      dec     %ecx
        jnz     9b
        mov     $VMCALL_ITER, %eax
        mov     %r15, %rbx
        mov     0(%r13), %rcx                   # NMIs counted by l2_nmi
        vmcall
        mov     %r15, %rcx                      # the MTF steps run here
        xor     $LHV_ACK, %rcx
        cmp     %rcx, %rax
        je      l2_loop
        L2FAIL  "VMCALL: wrong answer"

# l2_msr_ops (CPL 0): the MSR part of an iteration. Clobbers RAX RBX RCX RDX.
l2_msr_ops:
        # PHYSBASE6 0x20C = (APIC ID + 1) << 28 | iteration << 12 | 6 (WB), performed by the host
        lea     1(%r12), %rbx
        shl     $28, %rbx
        mov     %r15, %rax
        shl     $12, %rax
        or      %rax, %rbx
        or      $6, %rbx
        mov     $0x20C, %ecx
        call    l2_wrmsr_rdmsr
        je      1f
        L2FAIL  "MTRR 0x20c read back differs"
        # PHYSMASK6 0x20D = 0xf00000000 | iteration << 12, V = 0 (the MTRR stays disabled)
1:      mov     %r15, %rbx
        shl     $12, %rbx
        movabs  $0xf00000000, %rax
        or      %rax, %rbx
        mov     $0x20D, %ecx
        call    l2_wrmsr_rdmsr
        je      2f
        L2FAIL  "MTRR 0x20d read back differs"
        # 0x20E and 0x403: the entry-loaded values with OPT_MSRLIST, else their reset value 0
2:      xor     %ebx, %ebx
        test    $OPT_MSRLIST, %r14d
        jz      3f
        mov     %r12, %rbx
        shl     $12, %rbx
        movabs  $G20E, %rax
        or      %rax, %rbx
3:      mov     $0x20E, %ecx
        call    l2_rdmsr
        cmp     %rbx, %rax
        je      4f
        L2FAIL  "MSR 0x20e differs from the entry-loaded value"
4:      xor     %ebx, %ebx
        test    $OPT_MSRLIST, %r14d
        jz      5f
        movabs  $G403, %rbx
        or      %r12, %rbx
5:      mov     $0x403, %ecx
        call    l2_rdmsr
        cmp     %rbx, %rax
        je      6f
        L2FAIL  "MSR 0x403 differs from the entry-loaded value"
        # 0x402: what this guest wrote last (or the initial value); then a new value
6:      mov     $0x402, %ecx
        call    l2_rdmsr
        cmp     8(%r13), %rax
        je      7f
        L2FAIL  "MSR 0x402 differs from the value written last"
7:      mov     %r15, %rbx
        shl     $32, %rbx
        or      %r12, %rbx
        movabs  $0x4c48560000000000, %rax
        xor     %rax, %rbx
        mov     %rbx, 8(%r13)
        mov     %rbx, %rax
        mov     %rbx, %rdx
        shr     $32, %rdx
        wrmsr
        ret

# ECX = MSR -> RAX = 64-bit value
l2_rdmsr:
        rdmsr
        shl     $32, %rdx
        mov     %eax, %eax
        or      %rdx, %rax
        ret
# ECX = MSR, RBX = value: WRMSR, RDMSR, ZF = read value equals RBX
l2_wrmsr_rdmsr:
        mov     %rbx, %rax
        mov     %rbx, %rdx
        shr     $32, %rdx
        wrmsr
        call    l2_rdmsr
        cmp     %rbx, %rax
        ret

# NMI handler: counts in the kernel page, found from RSP (the handler runs on the kernel page's
# stack: the current one at CPL 0, TSS.RSP0 from CPL 3).
l2_nmi:
        push    %rax
        mov     %rsp, %rax
        and     $~0xFFF, %rax
        incq    (%rax)
        pop     %rax
        iretq

l2_int80:
        push    %rax
        push    %rbx
        push    %rcx
        push    %rdx
        call    l2_msr_ops
        pop     %rdx
        pop     %rcx
        pop     %rbx
        pop     %rax
        iretq

# ---- the UG guest's start, copied to L2_TRAMP_ADDR: real mode -> protected -> long mode ----
        .code16
l2_tramp_start:
        movl    $VMCALL_REALMODE, %eax
        vmcall
        cmpl    $LHV_RM_ACK, %eax
        je      1f
        movl    $l2_msg_realmode, %ebx
        movl    $VMCALL_FAIL, %eax
        vmcall
1:      lgdtl   %cs:(l2_tramp_gdtr - l2_tramp_start)
        movl    $(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP), %eax
        movl    %eax, %cr0
        ljmpl   $L2_SEL_CODE32, $(L2_TRAMP_ADDR + (l2_tramp32 - l2_tramp_start))
        .code32
l2_tramp32:
        mov     $L2_SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        # SDM Vol.3A "Initializing IA-32e Mode": PAE, CR3, EFER.LME (a WRMSR the host
        # emulates), then CR0.PG. CR4 keeps VMXE: the guest owns CR4 and VMXE is fixed to 1.
        mov     $(CR4_PAE | CR4_VMXE), %eax
        mov     %eax, %cr4
        mov     $l2_pml4, %eax
        mov     %eax, %cr3
        mov     $MSR_EFER, %ecx
        xor     %edx, %edx
        mov     $EFER_LME, %eax
        wrmsr
        mov     $(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG), %eax
        mov     %eax, %cr0
        ljmp    $L2_SEL_CODE64, $l2_entry64
        .p2align 3
l2_tramp_gdtr:
        .word   L2_GDT_LIMIT
        .long   l2_gdt
l2_tramp_end:
        .code64

        .section .rodata
l2_msg_realmode:
        .asciz  "real-mode hello: wrong answer"

        .section .data
        .balign 8
# L2 GDT: descriptors with the accessed bit set (VM-entry checks want accessed code/data
# types, 26.3.1.2). The TSS descriptor is only a placeholder: TR comes from the VMCS.
l2_gdt:
        .quad   0
        .quad   0x00AF9B000000FFFF              # 0x08 64-bit code, DPL 0
        .quad   0x00CF93000000FFFF              # 0x10 data, DPL 0
        .quad   0x00CFF3000000FFFF              # 0x18 data, DPL 3
        .quad   0x00AFFB000000FFFF              # 0x20 64-bit code, DPL 3
        .quad   0x00CF9B000000FFFF              # 0x28 32-bit code, DPL 0
        .quad   0x00008B0000000067, 0           # 0x30 busy 64-bit TSS (placeholder)
        .word   0, 0, 0
l2_idtr:
        .word   0xFFF
        .quad   l2_idt
        .balign 8
lhv_opt:        .quad   0
lhv_iters:      .quad   LHV_DEFAULT_ITERS
lhv_eptp:       .quad   0
lhv_ncpus:      .long   0
lhv_done:       .long   0

        .balign 4096
# L2 page tables: 0-1 GiB identity, 2M pages, present, writable, user (SDM Vol.3A 4.5)
l2_pml4:
        .quad   l2_pdpt + 7
        .fill   511, 8, 0
l2_pdpt:
        .quad   l2_pd + 7
        .fill   511, 8, 0
l2_pd:
        .set    i, 0
        .rept   512
        .quad   (i << 21) | 0x87
        .set    i, i + 1
        .endr

        .section .bss
        .balign 4096
l2_idt:         .skip   4096
lhv_msr_bitmap: .skip   4096
ept_pml4:       .skip   4096
ept_pdpt:       .skip   4096
ept_pd:         .skip   4096
ept_pt:         .skip   4096 * (EPT_4K_LIMIT >> 21)
lhv_percpu:     .skip   PERCPU_SIZE * LHV_MAX_CPUS

        .section .text
