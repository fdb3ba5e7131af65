# vmxmisc.S - monitor trap flag, VMX-preemption timer, VMCS shadowing, unrestricted guest and
# the PAE PDPTE check, case by case from a guest hypervisor.
#
# One CPU, default profile (IA32_VMX_MISC[4:0] = 5: the preemption timer counts down once
# every time bit 5 of the TSC changes; hvlab's TSC advances by one per retired instruction).
# Every case starts from a fresh VMCS (vmx.inc).
#
# Rules (SDM Vol.3C):
#  - Monitor trap flag (25.5.2): with the control set, an MTF VM exit (37) follows every guest
#    instruction that completes (RIP = the next instruction); an instruction that itself exits
#    (VMCALL) exits for its own reason; a fault delivered through the guest IDT is followed by
#    an MTF exit before the handler's first instruction; an injected vectored event likewise.
#    Injecting a "pending MTF VM exit" (type 7, vector 0; 26.5.2) exits before the first guest
#    instruction even with the control 0.
#  - VMX-preemption timer (25.5.1): a value of 0 exits (52) before the first instruction; a
#    value N exits when bit 5 of the TSC has changed N times since VM entry, i.e. after
#    32 * N - (TSC at entry mod 32) retired instructions - the guest reads the TSC with its
#    first instruction and "insns-vs-sdm" is the difference from that count (0 expected). With
#    "save VMX-preemption timer value" (exit control 22) a timer exit saves 0 (27.3.4); without
#    it the field keeps its value. The timer exit wakes HLT: RIP after the HLT, activity state
#    HLT (1) saved (27.3.4).
#  - VMCS shadowing (25.1.3, 24.10): with "VMCS shadowing" = 1, guest VMREAD/VMWRITE of a field
#    whose bit (encoding bits 14:0) is 0 in the VMREAD/VMWRITE bitmap read/write the shadow
#    VMCS named by the VMCS link pointer (its revision has bit 31 set) and VMsucceed; a bit of 1
#    exits (23 VMREAD, 25 VMWRITE); an encoding with any of bits 63:15 set always exits.
#    Without shadowing, VMREAD in the guest exits.
#  - Unrestricted guest (24.6.2 secondary bit 7, 26.3.1.1): with EPT, CR0.PE = PG = 0 is a
#    legal guest: a real-mode guest runs 16-bit code, exits on CPUID (10) with its CS:IP, and
#    may set CR0.PE and far-jump to a 32-bit code segment itself.
#  - PDPTEs (26.3.1.6, 26.7): a PAE guest (CR0.PG = CR4.PAE = 1, not IA-32e) without EPT has
#    its PDPTEs loaded from guest CR3 at entry; a present PDPTE with a reserved bit (bit 5)
#    fails the entry: exit 0x80000021, qualification 2.
#
# Output, exactly:
#   mtf step 1: reason=37 rip=mtf_guest+1 count=0
#   mtf step 2: reason=37 rip=mtf_guest+7 count=1
#   mtf step 3: reason=37 rip=mtf_guest+8 count=1
#   mtf, vmcall exits for itself: reason=18 rip=mtf_guest+8
#   mtf after #UD delivered to the guest: reason=37 rip=guest_ud+0
#   mtf after injected #DB: reason=37 rip=guest_db+0
#   pending mtf injected, control 0: reason=37 rip=mtf_guest+0 count=0
#   preemption timer 0: reason=52 rip=pt_guest+0
#   preemption timer 3, counting loop: reason=52 insns-vs-sdm=0 saved=0
#   preemption timer 3, no save control: reason=52 value=3
#   preemption timer with hlt: reason=52 rip=hlt_guest+1 act=1
#   shadow vmread: reason=18 rax=0x00005a5a flags=0x0
#   shadow vmwrite: reason=18 shadow-rsp=0x00007777
#   vmread bitmap bit set: reason=23 rip=sh_read+5
#   vmwrite bitmap bit set: reason=25 rip=sh_write+12
#   vmread encoding bit 16: reason=23 rip=sh_high+5
#   vmread without shadowing: reason=23 rip=sh_read+5
#   real-mode guest cpuid: reason=10 rip=0x0003 cs=0x1000 cr0.pe=0 rax=0x00001234
#   real-mode guest enters protected mode: reason=10 rip=0x0001001d cs=0x0018 cr0.pe=1 ebx=0x00000055
#   pae guest, pdpte reserved bit 5: reason=0x80000021 qual=2
#   pae guest, valid pdptes: reason=10 rip=pae_guest+0
#   vmxmisc: ok
# Exit status 0; differing values end in "vmxmisc: FAILED mismatches=N", status 1.

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "vmx.inc"

        .equ EXIT_SAVE_PREEMPTION_BIT, EXIT_SAVE_PREEMPTION
        .equ EPT1G_PML4, 0x44000
        .equ EPT1G_PDPT, 0x45000
        .equ EPTP_1G,   EPT1G_PML4 | 0x1E       # WB, 4-level walk
        .equ RM_BASE,   0x10000                 # the real-mode guest: CS = 0x1000
        .equ PAE_PDPT,  0x34000
        .equ PAE_PD,    0x35000

        .section .text
        .globl  _start
_start:
        call    exc_install_stubs
        SET_GATE 1, guest_db
        SET_GATE 6, guest_ud
        call    idt_load
        call    vmx_on

        # ---- monitor trap flag ----
        movq    $0, mtf_count(%rip)
        lea     mtf_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PROC, PROC_MTF
        call    vmx_launch
        CASE    "mtf step 1"
        SHOW_REASON EXIT_MTF
        SHOW_RIP mtf_guest, 1
        SHOW_VAL count, mtf_count(%rip), 0
        ENDL
        call    vmx_resume
        CASE    "mtf step 2"
        SHOW_REASON EXIT_MTF
        SHOW_RIP mtf_guest, 7
        SHOW_VAL count, mtf_count(%rip), 1
        ENDL
        call    vmx_resume
        CASE    "mtf step 3"
        SHOW_REASON EXIT_MTF
        SHOW_RIP mtf_guest, 8
        SHOW_VAL count, mtf_count(%rip), 1
        ENDL
        call    vmx_resume
        CASE    "mtf, vmcall exits for itself"
        SHOW_REASON EXIT_VMCALL
        SHOW_RIP mtf_guest, 8
        ENDL

        lea     mtf_ud(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PROC, PROC_MTF
        call    vmx_launch
        CASE    "mtf after #UD delivered to the guest"
        SHOW_REASON EXIT_MTF
        SHOW_RIP guest_ud, 0
        ENDL

        lea     mtf_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PROC, PROC_MTF
        VMW     F_ENTRY_INFO, $0x80000301       # #DB, hardware exception
        call    vmx_launch
        CASE    "mtf after injected #DB"
        SHOW_REASON EXIT_MTF
        SHOW_RIP guest_db, 0
        ENDL

        movq    $0, mtf_count(%rip)
        lea     mtf_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_ENTRY_INFO, $0x80000700       # type 7 "other event", vector 0: pending MTF
        call    vmx_launch
        CASE    "pending mtf injected, control 0"
        SHOW_REASON EXIT_MTF
        SHOW_RIP mtf_guest, 0
        SHOW_VAL count, mtf_count(%rip), 0
        ENDL

        # ---- VMX-preemption timer ----
        lea     pt_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_PREEMPTION_TIMER
        VMW     F_PREEMPTION, $0
        call    vmx_launch
        CASE    "preemption timer 0"
        SHOW_REASON EXIT_PREEMPTION
        SHOW_RIP pt_guest, 0
        ENDL

        lea     pt_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_PREEMPTION_TIMER
        VMOR    F_EXIT_CTLS, EXIT_SAVE_PREEMPTION
        VMW     F_PREEMPTION, $3
        call    vmx_launch
        CASE    "preemption timer 3, counting loop"
        SHOW_REASON EXIT_PREEMPTION
        call    pt_instructions                 # RAX = retired - expected
        SHOW_VAL insns-vs-sdm, %rax, 0
        SHOW_DEC saved, F_PREEMPTION, 0
        ENDL

        lea     pt_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_PREEMPTION_TIMER
        VMW     F_PREEMPTION, $3
        call    vmx_launch
        CASE    "preemption timer 3, no save control"
        SHOW_REASON EXIT_PREEMPTION
        SHOW_DEC value, F_PREEMPTION, 3
        ENDL

        lea     hlt_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_PREEMPTION_TIMER
        VMW     F_PREEMPTION, $1000
        call    vmx_launch
        CASE    "preemption timer with hlt"
        SHOW_REASON EXIT_PREEMPTION
        SHOW_RIP hlt_guest, 1
        SHOW_DEC act, F_GUEST_ACTIVITY, 1
        ENDL

        # ---- VMCS shadowing ----
        mov     vmx_vmcs_region(%rip), %eax     # the revision identifier vmx_on wrote
        or      $0x80000000, %eax               # bit 31: shadow VMCS (24.2)
        mov     %eax, shadow_vmcs(%rip)
        vmclear shadow_ptr(%rip)
        VMX_CHECK "vmclear"
        vmptrld shadow_ptr(%rip)
        VMX_CHECK "vmptrld"
        VMW     F_GUEST_RSP, $0x5A5A            # what the guest's VMREAD will find
        lea     sh_read(%rip), %rdi
        call    shadow_vmcs_setup
        call    vmx_launch
        CASE    "shadow vmread"
        SHOW_REASON EXIT_VMCALL
        SHOW_VALX rax, vmx_guest_rax(%rip), 0x5A5A, 8
        push    %r12
        mov     vmx_guest_rbx(%rip), %r12
        and     $0x8D5, %r12                    # CF PF AF ZF SF OF: VMsucceed clears them
        SHOW_VALX flags, %r12, 0, 1
        pop     %r12
        ENDL

        lea     sh_write(%rip), %rdi
        call    shadow_vmcs_setup
        call    vmx_launch
        CASE    "shadow vmwrite"
        SHOW_REASON EXIT_VMCALL
        push    %r12
        vmptrld shadow_ptr(%rip)
        VMX_CHECK "vmptrld"
        VMR     F_GUEST_RSP, %r12
        vmptrld vmx_vmcs_ptr(%rip)
        VMX_CHECK "vmptrld"
        SHOW_VALX shadow-rsp, %r12, 0x7777, 8
        pop     %r12
        ENDL

        lea     sh_read(%rip), %rdi
        call    shadow_vmcs_setup
        movb    $(1 << (F_GUEST_RSP & 7)), vmread_bitmap + (F_GUEST_RSP >> 3)(%rip)
        call    vmx_launch
        movb    $0, vmread_bitmap + (F_GUEST_RSP >> 3)(%rip)
        CASE    "vmread bitmap bit set"
        SHOW_REASON EXIT_VMREAD
        SHOW_RIP sh_read, 5
        ENDL

        lea     sh_write(%rip), %rdi
        call    shadow_vmcs_setup
        movb    $(1 << (F_GUEST_RSP & 7)), vmwrite_bitmap + (F_GUEST_RSP >> 3)(%rip)
        call    vmx_launch
        movb    $0, vmwrite_bitmap + (F_GUEST_RSP >> 3)(%rip)
        CASE    "vmwrite bitmap bit set"
        SHOW_REASON EXIT_VMWRITE
        SHOW_RIP sh_write, 12
        ENDL

        lea     sh_high(%rip), %rdi
        call    shadow_vmcs_setup
        call    vmx_launch
        CASE    "vmread encoding bit 16"
        SHOW_REASON EXIT_VMREAD
        SHOW_RIP sh_high, 5
        ENDL

        lea     sh_read(%rip), %rdi
        call    vmx_new_vmcs                    # no shadowing, link pointer all ones
        call    vmx_launch
        CASE    "vmread without shadowing"
        SHOW_REASON EXIT_VMREAD
        SHOW_RIP sh_read, 5
        ENDL

        # ---- unrestricted guest: real mode under EPT ----
        call    build_ept_1g
        lea     rm_start(%rip), %rsi
        mov     $RM_BASE, %edi
        mov     $(rm_end - rm_start), %ecx
        rep movsb
        xor     %edi, %edi
        call    real_mode_vmcs
        call    vmx_launch
        CASE    "real-mode guest cpuid"
        SHOW_REASON EXIT_CPUID
        SHOW_HEX rip, F_GUEST_RIP, (rm_cpuid - rm_start), 4
        SHOW_HEX cs, F_GUEST_CS, (RM_BASE >> 4), 4
        call    guest_pe
        SHOW_VAL cr0.pe, %rax, 0
        SHOW_VALX rax, vmx_guest_rax(%rip), 0x1234, 8
        ENDL

        mov     $(rm_pm - rm_start), %edi
        call    real_mode_vmcs
        call    vmx_launch
        CASE    "real-mode guest enters protected mode"
        SHOW_REASON EXIT_CPUID
        SHOW_HEX rip, F_GUEST_RIP, (RM_BASE + rm_pm32_cpuid - rm_start), 8
        SHOW_HEX cs, F_GUEST_CS, SEL_CODE32, 4
        call    guest_pe
        SHOW_VAL cr0.pe, %rax, 1
        push    %r12
        mov     vmx_guest_rbx(%rip), %r12
        mov     %r12d, %r12d                    # upper halves are undefined after 32-bit code
        SHOW_VALX ebx, %r12, 0x55, 8
        pop     %r12
        ENDL

        # ---- PAE guest PDPTEs (no EPT: loaded from guest CR3) ----
        mov     $PAE_PDPT, %edi
        mov     $1024, %ecx                     # zero the PDPT and PD pages
        xor     %eax, %eax
        rep stosq
        xor     %ecx, %ecx
1:      mov     %rcx, %rax
        shl     $21, %rax
        or      $0x83, %rax                     # P RW PS
        mov     %rax, PAE_PD(,%rcx,8)
        inc     %ecx
        cmp     $512, %ecx
        jb      1b
        movq    $(PAE_PD | 1 | 0x20), PAE_PDPT  # present, reserved bit 5 set
        call    pae_vmcs
        call    vmx_launch
        CASE    "pae guest, pdpte reserved bit 5"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 2
        ENDL
        movq    $(PAE_PD | 1), PAE_PDPT
        call    pae_vmcs
        call    vmx_launch
        CASE    "pae guest, valid pdptes"
        SHOW_REASON EXIT_CPUID
        SHOW_RIP pae_guest, 0
        ENDL

        lea     name(%rip), %rsi
        jmp     vmx_finish

# pt_instructions: after the counting-loop timer exit, RAX = instructions the guest retired
# minus 32 * 3 - (TSC at entry mod 32). The guest retired RDTSC, MOV, XOR, then alternately
# INC and JMP: RCX INCs, and RCX JMPs if it stopped at the INC, RCX - 1 if at the JMP.
pt_instructions:
        push    %rbx
        push    %rcx
        push    %rdx
        mov     vmx_guest_rcx(%rip), %rbx
        lea     (%rbx,%rbx), %rbx               # 2 * RCX
        add     $3, %rbx
        mov     $F_GUEST_RIP, %edx
        vmread  %rdx, %rax
        lea     pt_jmp(%rip), %rcx
        cmp     %rcx, %rax
        jne     1f
        dec     %rbx
1:      mov     pt_tsc(%rip), %rax
        and     $31, %eax
        mov     $96, %ecx
        sub     %rax, %rcx                      # expected count
        mov     %rbx, %rax
        sub     %rcx, %rax
        pop     %rdx
        pop     %rcx
        pop     %rbx
        ret

# guest_pe: RAX = guest CR0.PE.
guest_pe:
        push    %rdx
        mov     $F_GUEST_CR0, %edx
        vmread  %rdx, %rax
        and     $1, %eax
        pop     %rdx
        ret

# shadow_vmcs_setup: RDI = guest RIP; a fresh VMCS with "VMCS shadowing", the bitmaps and the
# shadow VMCS in the link pointer.
shadow_vmcs_setup:
        call    vmx_new_vmcs
        VMOR    F_PROC, PROC_SECONDARY
        VMW     F_PROC2, $PROC2_SHADOWING
        lea     vmread_bitmap(%rip), %rbx
        VMW     F_VMREAD_BITMAP, %rbx
        lea     vmwrite_bitmap(%rip), %rbx
        VMW     F_VMWRITE_BITMAP, %rbx
        lea     shadow_vmcs(%rip), %rbx
        VMW     F_LINK_POINTER, %rbx
        ret

# build_ept_1g: identity EPT of four 1-GByte pages, RWX, WB.
build_ept_1g:
        mov     $EPT1G_PML4, %edi
        mov     $1024, %ecx
        xor     %eax, %eax
        rep stosq
        movq    $(EPT1G_PDPT | 7), EPT1G_PML4
        xor     %ecx, %ecx
1:      mov     %rcx, %rax
        shl     $30, %rax
        or      $0xB7, %rax                     # large, WB, RWX
        mov     %rax, EPT1G_PDPT(,%rcx,8)
        inc     %ecx
        cmp     $4, %ecx
        jb      1b
        ret

# real_mode_vmcs: EDI = guest IP in CS 0x1000; a real-mode guest (26.3.1.2 for unrestricted
# guests: CS type 11, data segments type 3, SS.DPL 0, limits 0xFFFF, base = selector * 16).
real_mode_vmcs:
        call    vmx_new_vmcs
        VMOR    F_PROC, PROC_SECONDARY
        VMW     F_PROC2, $(PROC2_EPT | PROC2_UNRESTRICTED)
        VMW     F_EPTP, $EPTP_1G
        VMW     F_GUEST_CR0, $(CR0_NE | CR0_ET) # PE = PG = 0
        VMR     F_ENTRY_CTLS, %rax
        and     $~ENTRY_IA32E_GUEST, %eax
        mov     $F_ENTRY_CTLS, %edx
        vmwrite %rax, %rdx
        VMX_CHECK "vmwrite"
        .irp    f, 0, 4, 6, 8, 10               # ES SS DS FS GS
        VMW     (0x0800 + \f), $0
        VMW     (0x6806 + \f), $0
        VMW     (0x4800 + \f), $0xFFFF
        VMW     (0x4814 + \f), $0x93
        .endr
        VMW     F_GUEST_CS, $(RM_BASE >> 4)
        VMW     0x6808, $RM_BASE
        VMW     0x4802, $0xFFFF
        VMW     0x4816, $0x9B
        VMW     0x080E, $0                      # TR: busy 32-bit TSS at 0
        VMW     0x6814, $0
        VMW     0x480E, $0xFFFF
        VMW     0x4822, $0x8B
        VMW     0x6818, $0                      # IDTR: the real-mode vector table
        VMW     0x4812, $0x3FF
        VMW     F_GUEST_RSP, $0xFFF0
        VMW     F_GUEST_RIP, %rdi
        ret

# pae_vmcs: a 32-bit PAE guest at pae_guest with CR3 = PAE_PDPT (no EPT).
pae_vmcs:
        lea     pae_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMR     F_ENTRY_CTLS, %rax
        and     $~ENTRY_IA32E_GUEST, %eax
        mov     $F_ENTRY_CTLS, %edx
        vmwrite %rax, %rdx
        VMX_CHECK "vmwrite"
        VMW     F_GUEST_CR3, $PAE_PDPT
        VMW     F_GUEST_CS, $SEL_CODE32
        VMW     0x4816, $0xC09B                 # 32-bit code, L = 0
        ret

# ---- guests ----
mtf_guest:
        nop                                     # +0
        incl    mtf_count(%rip)                 # +1, 6 bytes
        nop                                     # +7
        vmcall                                  # +8
        ud2
mtf_ud:
        ud2
guest_ud:                                       # gate 6
        vmcall
        ud2
guest_db:                                       # gate 1
        vmcall
        ud2
pt_guest:
        rdtsc                                   # first instruction: the TSC at entry
        mov     %eax, pt_tsc(%rip)
        xor     %ecx, %ecx
pt_inc: inc     %rcx
pt_jmp: jmp     pt_inc
hlt_guest:
        hlt
        vmcall
        ud2
sh_read:
        mov     $F_GUEST_RSP, %edx              # 5 bytes
        vmread  %rdx, %rax
        pushfq
        pop     %rbx
        vmcall
        ud2
sh_write:
        mov     $F_GUEST_RSP, %edx              # 5 bytes
        mov     $0x7777, %rcx                   # 7 bytes
        vmwrite %rcx, %rdx
        vmcall
        ud2
sh_high:
        mov     $0x10000, %edx                  # bit 16: beyond bits 14:0 of the bitmaps
        vmread  %rdx, %rax
        vmcall
        ud2
pae_guest:
        .code32
        cpuid
        ud2
        .code64

# The real-mode guest, copied to RM_BASE (CS = 0x1000, IP = offset from rm_start).
rm_start:
        .code16
        mov     $0x1234, %ax
rm_cpuid:
        cpuid
        hlt
rm_pm:
        mov     %cr0, %eax
        or      $CR0_PE, %eax
        mov     %eax, %cr0
        ljmpl   $SEL_CODE32, $(RM_BASE + rm_pm32 - rm_start)
        .code32
rm_pm32:
        mov     $0x55, %ebx
rm_pm32_cpuid:
        cpuid
        hlt
        .code64
rm_end:

        .section .rodata
name:   .asciz  "vmxmisc"

        .section .data
        .balign 8
shadow_ptr:     .quad   shadow_vmcs

        .section .bss
        .balign 8
mtf_count:      .skip   8
pt_tsc:         .skip   8
        .balign 4096
shadow_vmcs:    .skip   4096
vmread_bitmap:  .skip   4096
vmwrite_bitmap: .skip   4096
