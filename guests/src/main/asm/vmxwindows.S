# vmxwindows.S - NMI-window and interrupt-window VM exits: when, relative to guest
# instructions, blocking state and event injection, the window exits happen.
#
# One CPU, default profile. Each case starts from a fresh VMCS (vmx.inc: a 64-bit guest in the
# host's own flat world), changes a few fields, VMLAUNCHes a small guest snippet and prints the
# exit it got. Every snippet ends in VMCALL, so a window exit that does not happen shows up as
# reason=18. Guest RIPs print as label+offset.
#
# Rules (SDM Vol.3C; docs/vmx-facts.md "NMI rules"):
#  - NMI-window exiting (primary bit 22, needs "virtual NMIs" pin bit 5, which needs "NMI
#    exiting" pin bit 3: 26.2.1.1): a VM exit before any instruction once there is no
#    virtual-NMI blocking and no MOV-SS blocking (25.2 "Other Causes of VM Exits"), right after
#    VM entry and after any injected event has been delivered (26.6.6 "
#    NMI-Window Exiting"); it wakes a processor that VM entry put into HLT (same section).
#    Whether STI blocking also holds it back is left to the processor (25.2), so no case here
#    depends on that.
#  - Interrupt-window exiting (primary bit 2): a VM exit before any instruction if RFLAGS.IF = 1
#    and there is no blocking by STI or MOV SS (25.2), also right after VM entry (26.6.5); it
#    wakes HLT. STI sets "blocking by STI" only when it is executed with IF = 0 (Table 24-3;
#    Vol.2 STI: "If IF = 0, maskable hardware interrupts remain inhibited on the instruction
#    boundary following an execution of STI"), so of STI; STI the second STI creates no new
#    shadow: the window opens right after the second STI. The shadow of one STI or MOV SS
#    covers exactly the boundary after that instruction (Table 24-3, Vol.3A 6.8.3).
#  - Priority: NMI-window exits rank above interrupt-window exits (25.2 / 26.6.5-6; VMX-FACTS
#    "Priority at an instruction boundary").
#  - Activity state saved by an exit from HLT: 1. An event that takes the processor out of an
#    inactive state by a VM exit returns it to the active state only after the exit completes
#    (27.1 "Architectural State Before a VM Exit"), and the exit saves the activity state the
#    processor had before it (27.3.4).
#
# Output, exactly (each line checks reason, qualification, RIP and more):
#   nmi-window no blocking: reason=8 qual=0 rip=nw_plain+0 intr=0x0
#   nmi-window mov-ss blocking: reason=8 qual=0 rip=nw_movss+1 intr=0x0
#   nmi-window after injected #DB: reason=8 qual=0 rip=guest_db+0 frame=40 entry-info=0x00000301
#   nmi-window blocked by nmi until iret: reason=8 qual=0 rip=nw_iret_done+0 intr=0x0
#   nmi-window from hlt: reason=8 qual=0 rip=nw_hlt+0 act=1
#   nmi-window before interrupt-window: reason=8 qual=0 rip=nw_both+0
#   interrupt-window cli sti nop: reason=7 qual=0 rip=iw_sti+3 intr=0x0
#   interrupt-window mov-ss blocking: reason=7 qual=0 rip=iw_movss+1
#   interrupt-window sti-shadow mov ss: reason=7 qual=0 rip=iw_ssx+7
#   interrupt-window sti sti: reason=7 qual=0 rip=iw_sti2+2
#   interrupt-window from hlt: reason=7 qual=0 rip=iw_hlt+0 act=1
#   interrupt-window sti hlt: reason=7 qual=0 rip=iw_stihlt+2 act=1
#   vmxwindows: ok
# Exit status 0; any differing value makes the last line "vmxwindows: FAILED mismatches=N"
# and the status 1. An unexpected exception (host or guest: they share the IDT) exits 9.

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "vmx.inc"

        .equ RFLAGS_IF,         0x202           # IF and the reserved bit 1

        .section .text
        .globl  _start
_start:
        call    exc_install_stubs
        SET_GATE 1, guest_db                    # the guest's #DB handler (injected below)
        call    idt_load
        call    vmx_on

# ---- NMI window; pin "NMI exiting" + "virtual NMIs", primary "NMI-window exiting" ----
.macro NMI_WINDOW_VMCS guest
        lea     \guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS
        VMOR    F_PROC, PROC_NMI_WINDOW
.endm

        # No blocking at all: the exit comes before the first guest instruction.
        NMI_WINDOW_VMCS nw_plain
        call    vmx_launch
        CASE    "nmi-window no blocking"
        SHOW_REASON EXIT_NMI_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP nw_plain, 0
        SHOW_HEX intr, F_GUEST_INTR, 0, 1
        ENDL

        # Blocking by MOV SS at entry holds the window back for exactly one instruction.
        NMI_WINDOW_VMCS nw_movss
        VMW     F_GUEST_INTR, $INTR_MOVSS
        call    vmx_launch
        CASE    "nmi-window mov-ss blocking"
        SHOW_REASON EXIT_NMI_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP nw_movss, 1
        SHOW_HEX intr, F_GUEST_INTR, 0, 1
        ENDL

        # An injected #DB (hardware exception, vector 1, no error code) is delivered first; the
        # exit follows before the handler's first instruction. The frame is 5 quadwords, and
        # the exit cleared the valid bit of the entry interruption information (27.2.3? no:
        # VMX-FACTS "Every VM exit clears the valid bit"; SDM 27.2 end / 24.8.3).
        NMI_WINDOW_VMCS nw_db
        VMW     F_ENTRY_INFO, $0x80000301
        call    vmx_launch
        CASE    "nmi-window after injected #DB"
        SHOW_REASON EXIT_NMI_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP guest_db, 0
        VMR     F_GUEST_RSP, %rbx
        lea     vmx_guest_stack_top(%rip), %rcx
        sub     %rbx, %rcx
        SHOW_VAL frame, %rcx, 40
        SHOW_HEX entry-info, F_ENTRY_INFO, 0x00000301, 8
        ENDL

        # Virtual-NMI blocking (interruptibility bit 3 with "virtual NMIs") holds the window
        # back until the guest executes IRET, which clears it when "NMI exiting" and "virtual
        # NMIs" are both 1 (25.3 "Changes to Instruction Behavior", IRET).
        NMI_WINDOW_VMCS nw_iret
        VMW     F_GUEST_INTR, $INTR_NMI
        call    vmx_launch
        CASE    "nmi-window blocked by nmi until iret"
        SHOW_REASON EXIT_NMI_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP nw_iret_done, 0
        SHOW_HEX intr, F_GUEST_INTR, 0, 1
        ENDL

        # VM entry into the HLT activity state: the window exit wakes it at once; the guest
        # executed nothing, RIP is unchanged and the saved activity state is HLT.
        NMI_WINDOW_VMCS nw_hlt
        VMW     F_GUEST_ACTIVITY, $1
        call    vmx_launch
        CASE    "nmi-window from hlt"
        SHOW_REASON EXIT_NMI_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP nw_hlt, 0
        SHOW_DEC act, F_GUEST_ACTIVITY, 1
        ENDL

        # Both windows open at once (IF = 1, no blocking): the NMI window has priority.
        NMI_WINDOW_VMCS nw_both
        VMOR    F_PROC, PROC_INT_WINDOW
        VMW     F_GUEST_RFLAGS, $RFLAGS_IF
        call    vmx_launch
        CASE    "nmi-window before interrupt-window"
        SHOW_REASON EXIT_NMI_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP nw_both, 0
        ENDL

# ---- interrupt window; primary "interrupt-window exiting" only ----
.macro INT_WINDOW_VMCS guest, rflags
        lea     \guest(%rip), %rdi
        call    vmx_new_vmcs
        VMOR    F_PROC, PROC_INT_WINDOW
        VMW     F_GUEST_RFLAGS, $(\rflags)
.endm

        # IF = 0 at entry; CLI; STI; NOP: the STI shadow covers the boundary before the NOP,
        # the window opens after it.
        INT_WINDOW_VMCS iw_sti, 2
        call    vmx_launch
        CASE    "interrupt-window cli sti nop"
        SHOW_REASON EXIT_INT_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP iw_sti, 3
        SHOW_HEX intr, F_GUEST_INTR, 0, 1
        ENDL

        # IF = 1 and blocking by MOV SS at entry: one instruction runs first.
        INT_WINDOW_VMCS iw_movss, RFLAGS_IF
        VMW     F_GUEST_INTR, $INTR_MOVSS
        call    vmx_launch
        CASE    "interrupt-window mov-ss blocking"
        SHOW_REASON EXIT_INT_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP iw_movss, 1
        ENDL

        # IF = 1, blocking by STI at entry (legal with IF = 1, 26.3.1.5); the first guest
        # instruction is a MOV to SS, whose own shadow then covers the boundary after it: the
        # window opens only after the NOP that follows (the 6-byte MOV + 1).
        INT_WINDOW_VMCS iw_ssx, RFLAGS_IF
        VMW     F_GUEST_INTR, $INTR_STI
        call    vmx_launch
        CASE    "interrupt-window sti-shadow mov ss"
        SHOW_REASON EXIT_INT_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP iw_ssx, (iw_ssx_after - iw_ssx)
        ENDL

        # IF = 0; STI; STI: the first sets IF and blocks the boundary after it; the second runs
        # with IF = 1 and blocks nothing, so the exit comes right after it.
        INT_WINDOW_VMCS iw_sti2, 2
        call    vmx_launch
        CASE    "interrupt-window sti sti"
        SHOW_REASON EXIT_INT_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP iw_sti2, 2
        ENDL

        # Entry into HLT with IF = 1: the window exit wakes it before any instruction.
        INT_WINDOW_VMCS iw_hlt, RFLAGS_IF
        VMW     F_GUEST_ACTIVITY, $1
        call    vmx_launch
        CASE    "interrupt-window from hlt"
        SHOW_REASON EXIT_INT_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP iw_hlt, 0
        SHOW_DEC act, F_GUEST_ACTIVITY, 1
        ENDL

        # IF = 0; STI; HLT: the HLT runs inside the STI shadow and halts; the window then opens
        # in the HLT state. RIP is after the HLT (it completed), the activity state is HLT.
        INT_WINDOW_VMCS iw_stihlt, 2
        call    vmx_launch
        CASE    "interrupt-window sti hlt"
        SHOW_REASON EXIT_INT_WINDOW
        SHOW_DEC qual, F_EXIT_QUAL, 0
        SHOW_RIP iw_stihlt, 2
        SHOW_DEC act, F_GUEST_ACTIVITY, 1
        ENDL

        lea     name(%rip), %rsi
        jmp     vmx_finish

# ---- guest snippets (run in VMX non-root operation, CPL 0, the same flat 64-bit world) ----
nw_plain:
        nop
        vmcall
        ud2
nw_movss:
        nop
        nop
        vmcall
        ud2
nw_db:
        nop
        vmcall
        ud2
guest_db:                                       # gate 1
        nop
        vmcall
        ud2
nw_iret:
        # IRETQ to the next instruction: a 64-bit frame SS, RSP, RFLAGS, CS, RIP.
        mov     %rsp, %rax
        pushq   $SEL_DATA
        push    %rax
        pushfq
        pushq   $SEL_CODE64
        lea     nw_iret_done(%rip), %rax
        push    %rax
        iretq
nw_iret_done:
        nop
        vmcall
        ud2
nw_hlt:
        nop
        vmcall
        ud2
nw_both:
        nop
        vmcall
        ud2
iw_sti:
        cli
        sti
        nop
        nop                                     # the exit comes before this one (iw_sti+3)
        vmcall
        ud2
iw_movss:
        nop
        nop
        vmcall
        ud2
iw_ssx:
        mov     ss_selector(%rip), %ss          # 8E /2 with a RIP-relative operand: 6 bytes
        nop
iw_ssx_after:
        nop
        vmcall
        ud2
iw_sti2:
        sti
        sti
        nop
        vmcall
        ud2
iw_hlt:
        nop
        vmcall
        ud2
iw_stihlt:
        sti
        hlt
        nop
        vmcall
        ud2

        .section .rodata
name:   .asciz  "vmxwindows"
        .balign 2
ss_selector:
        .word   SEL_DATA
