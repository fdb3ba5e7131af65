# vmxentry.S - VMLAUNCH/VMRESUME outcomes: VMfailValid errors, failed entries (exit reason
# 0x80000021) from the guest non-register-state checks, and what exits and failed entries do
# to the entry interruption-information field and the launch state.
#
# One CPU, default profile. Each case uses a fresh VMCS (vmx.inc), launch state "clear".
#
# Rules (SDM Vol.3C; docs/vmx-facts.md "Order of VMLAUNCH/VMRESUME checks"):
#  - VMLAUNCH/VMRESUME right after MOV SS (events blocked by MOV SS): VMfailValid 26; launch
#    state "launched": VMLAUNCH fails with 4; "clear": VMRESUME fails with 5 (26.1, 30.4).
#  - 26.3.1.5 (guest non-register state), failures are exit 0x80000021 with qualification 0
#    (26.7): blocking by STI and by MOV SS not both; blocking by STI needs RFLAGS.IF = 1;
#    injecting an NMI with "virtual NMIs" = 1 needs no virtual-NMI blocking (bit 3); injecting
#    an external interrupt needs RFLAGS.IF = 1 (26.3.1.4); injecting an NMI needs no MOV-SS
#    blocking; a non-active activity state needs no STI/MOV-SS blocking; in the HLT state only
#    external interrupts, NMI, #DB, #MC and the MTF pseudo-event may be injected.
#  - An invalid VMCS link pointer (not all ones, and misaligned, or naming a region without the
#    VMCS revision identifier) is exit 0x80000021 with qualification 4 (26.3.1.5, 26.7).
#  - Every VM exit clears the valid bit of the VM-entry interruption information (24.8.3);
#    a failed entry writes only the exit reason and qualification (26.7, 27.2): guest state,
#    the launch state and that valid bit stay as they were.
#
# Output, exactly:
#   vmlaunch after mov ss: VMfailValid error=26
#   vmresume with launch state clear: VMfailValid error=5
#   vmlaunch with launch state launched: VMfailValid error=4
#   sti and mov-ss blocking: reason=0x80000021 qual=0
#   sti blocking with IF=0: reason=0x80000021 qual=0
#   inject nmi, virtual nmis, blocked by nmi: reason=0x80000021 qual=0
#   inject external interrupt with IF=0: reason=0x80000021 qual=0
#   inject nmi with mov-ss blocking: reason=0x80000021 qual=0
#   hlt activity with sti blocking: reason=0x80000021 qual=0
#   hlt activity, inject #UD: reason=0x80000021 qual=0
#   hlt activity, inject #DB: reason=18 qual=0 rip=guest_db+0
#   link pointer misaligned: reason=0x80000021 qual=4
#   link pointer without revision id: reason=0x80000021 qual=4
#   exit clears entry info valid bit: reason=18 qual=0 rip=guest_db+0 entry-info=0x00000301
#   failed entry keeps entry info: reason=0x80000021 qual=0 rip=en_guest+0 entry-info=0x80000301
#   vmresume after that failed entry: VMfailValid error=5
#   vmxentry: ok
# Exit status 0; differing values end in "vmxentry: FAILED mismatches=N", status 1.

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "vmx.inc"

        .equ RFLAGS_IF,         0x202

        .section .text
        .globl  _start
_start:
        call    exc_install_stubs
        SET_GATE 1, guest_db
        call    idt_load
        call    vmx_on

        # ---- VMLAUNCH in the shadow of MOV SS ----
        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        call    launch_after_mov_ss
        CASE    "vmlaunch after mov ss"
        SHOW_VMFAIL 26
        ENDL

        # ---- launch state ----
        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        call    vmx_resume
        CASE    "vmresume with launch state clear"
        SHOW_VMFAIL 5
        ENDL
        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        call    vmx_launch                      # the guest VMCALLs: now "launched"
        call    vmx_launch
        CASE    "vmlaunch with launch state launched"
        SHOW_VMFAIL 4
        ENDL

        # ---- guest non-register state ----
        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_GUEST_RFLAGS, $RFLAGS_IF
        VMW     F_GUEST_INTR, $(INTR_STI | INTR_MOVSS)
        call    vmx_launch
        CASE    "sti and mov-ss blocking"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 0
        ENDL

        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_GUEST_INTR, $INTR_STI         # RFLAGS stays 2: IF = 0
        call    vmx_launch
        CASE    "sti blocking with IF=0"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 0
        ENDL

        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS
        VMW     F_GUEST_INTR, $INTR_NMI
        VMW     F_ENTRY_INFO, $0x80000202
        call    vmx_launch
        CASE    "inject nmi, virtual nmis, blocked by nmi"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 0
        ENDL

        # ---- event injection against RFLAGS, blocking and the activity state (26.3.1.4-5) ----
        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_ENTRY_INFO, $0x80000020       # external interrupt 0x20; RFLAGS.IF = 0
        call    vmx_launch
        CASE    "inject external interrupt with IF=0"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 0
        ENDL

        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_GUEST_INTR, $INTR_MOVSS
        VMW     F_ENTRY_INFO, $0x80000202       # NMI, "virtual NMIs" = 0
        call    vmx_launch
        CASE    "inject nmi with mov-ss blocking"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 0
        ENDL

        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_GUEST_RFLAGS, $RFLAGS_IF
        VMW     F_GUEST_INTR, $INTR_STI
        VMW     F_GUEST_ACTIVITY, $1
        call    vmx_launch
        CASE    "hlt activity with sti blocking"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 0
        ENDL

        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_GUEST_ACTIVITY, $1
        VMW     F_ENTRY_INFO, $0x80000306       # #UD may not be injected into HLT
        call    vmx_launch
        CASE    "hlt activity, inject #UD"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 0
        ENDL

        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_GUEST_ACTIVITY, $1
        VMW     F_ENTRY_INFO, $0x80000301       # #DB may; it is delivered, its handler VMCALLs
        call    vmx_launch
        CASE    "hlt activity, inject #DB"
        SHOW_REASON EXIT_VMCALL
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP guest_db, 0
        ENDL

        # ---- VMCS link pointer ----
        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        lea     link_region+0x10(%rip), %rbx    # bits 11:0 not 0
        VMW     F_LINK_POINTER, %rbx
        call    vmx_launch
        CASE    "link pointer misaligned"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 4
        ENDL

        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        lea     link_region(%rip), %rbx         # aligned, but its first dword is 0
        VMW     F_LINK_POINTER, %rbx
        call    vmx_launch
        CASE    "link pointer without revision id"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 4
        ENDL

        # ---- the entry interruption valid bit ----
        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_ENTRY_INFO, $0x80000301       # inject #DB; its handler VMCALLs
        call    vmx_launch
        CASE    "exit clears entry info valid bit"
        SHOW_REASON EXIT_VMCALL
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP guest_db, 0
        SHOW_HEX entry-info, F_ENTRY_INFO, 0x00000301, 8
        ENDL

        lea     en_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_ENTRY_INFO, $0x80000301
        VMW     F_GUEST_RFLAGS, $RFLAGS_IF
        VMW     F_GUEST_INTR, $(INTR_STI | INTR_MOVSS)
        call    vmx_launch
        CASE    "failed entry keeps entry info"
        SHOW_REASON FAILED_GUEST_STATE
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP en_guest, 0
        SHOW_HEX entry-info, F_ENTRY_INFO, 0x80000301, 8
        ENDL
        call    vmx_resume
        CASE    "vmresume after that failed entry"
        SHOW_VMFAIL 5
        ENDL

        lea     name(%rip), %rsi
        jmp     vmx_finish

# launch_after_mov_ss: VMLAUNCH as the instruction right after a MOV to SS (blocking by
# MOV SS in the host); sets vmx_result like vmx_launch. A successful entry would go through
# vmx_exit_point, which returns for vmx_launch - so this routine enters through the same frame.
launch_after_mov_ss:
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     $F_HOST_RSP, %edx
        vmwrite %rsp, %rdx
        VMX_CHECK "vmwrite"
        movq    $0, vmx_result(%rip)
        mov     $SEL_DATA, %eax
        mov     %eax, %ss
        vmlaunch
        movq    $1, vmx_result(%rip)            # MOV to memory leaves the flags alone
        jc      1f
        movq    $2, vmx_result(%rip)
1:      jmp     vmx_return

en_guest:
        vmcall
        ud2
guest_db:                                       # gate 1
        vmcall
        ud2

        .section .rodata
name:   .asciz  "vmxentry"

        .section .bss
        .balign 4096
link_region:
        .skip   4096
