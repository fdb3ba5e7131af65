# vmxbasic.S - the smallest hvlab guest hypervisor: VMXON, one VMCS, a 64-bit guest that runs
# CPUID, VMCALL and HLT, and an exit handler that steps it past each exiting instruction.
#
# Runs on the bootstrap processor only (any CPU count), on the default CPU profile (kvm-2022:
# its exit controls allow "host address-space size"). Steps:
#   - IA32_FEATURE_CONTROL (0x3A): lock it with "VMXON outside SMX" if it is unlocked
#   - CR4.VMXE; VMXON with a 4 KiB-aligned region holding the revision id of IA32_VMX_BASIC
#   - VMCLEAR + VMPTRLD a VMCS; VMWRITE controls (the allowed-0 bits of the TRUE control MSRs
#     0x48D-0x490, plus HLT exiting, host address-space size, IA-32e mode guest), host state
#     (the current flat 64-bit world, its own stack, RIP = exit_handler) and guest state (the
#     same world: same CR0/CR3/CR4, GDT at 0x7000, TR 0x28; its own stack, RIP = guest_code)
#   - VMLAUNCH. The guest executes CPUID, VMCALL, HLT. For each exit the handler reads the exit
#     reason, qualification, instruction length and guest RIP, prints one line, advances the
#     guest RIP by the instruction length and VMRESUMEs; the third exit (HLT) ends the test.
# Output, exactly:
#   exit reason=10 len=2\n
#   exit reason=18 len=3\n
#   exit reason=12 len=1\n
#   vmxbasic: ok\n
# Exit status: 0.
# Failures print one line and exit with status 1:
#   vmx: INSN failed, error=0xNNNNNNNN        a VMX instruction set CF or ZF; NNNNNNNN is the
#                                             VM-instruction error (0x4400), 0x00000000 when
#                                             there is no current VMCS (VMfailInvalid)
#   vmx: entry failed reason=0xRRRRRRRR qual=0xQQQQQQQQQQQQQQQQ   (exit reason bit 31 set)
#   vmx: unexpected exit, wanted reason=N      exits came in another order
#   vmx: IA32_FEATURE_CONTROL locked without VMXON outside SMX
# Numbers: VMCS field encodings, SDM Vol.3D Appendix B; exit reasons Appendix C; VMX
# instruction flags, "Conventions" of the VMX instruction reference (docs/vmx-facts.md).

        .include "hvlab.inc"
        .include "serial.inc"

        .equ MSR_FEATURE_CONTROL,       0x3A
        .equ MSR_VMX_BASIC,             0x480
        .equ MSR_VMX_TRUE_PINBASED,     0x48D
        .equ MSR_VMX_TRUE_PROCBASED,    0x48E
        .equ MSR_VMX_TRUE_EXIT,         0x48F
        .equ MSR_VMX_TRUE_ENTRY,        0x490
        .equ CR4_VMXE,                  0x2000

        .equ PROC_HLT_EXITING,          1 << 7
        .equ EXIT_HOST_64,              1 << 9
        .equ ENTRY_IA32E_GUEST,         1 << 9

        .equ SEL_TR,                    0x28

# VMX_CHECK "name": after a VMX instruction; CF or ZF set (VMfailInvalid / VMfailValid) goes
# to vmx_fail with RSI = the instruction's name.
.macro VMX_CHECK name
        ja      .Lvmx_ok\@
        lea     .Lvmx_name\@(%rip), %rsi
        jmp     vmx_fail
        .pushsection .rodata
.Lvmx_name\@:
        .asciz  "\name"
        .popsection
.Lvmx_ok\@:
.endm

# VMW field, value: VMWRITE a register, memory operand or immediate to a VMCS field.
# Clobbers RAX and RDX.
.macro VMW field, value
        mov     $(\field), %edx
        mov     \value, %rax
        vmwrite %rax, %rdx
        VMX_CHECK "vmwrite"
.endm

# VMR field, reg: VMREAD a VMCS field into a 64-bit register (not RDX). Clobbers RDX.
.macro VMR field, reg
        mov     $(\field), %edx
        vmread  %rdx, \reg
        VMX_CHECK "vmread"
.endm

# CTLS field, msr, extra: VMWRITE (allowed-0 bits of a TRUE capability MSR) | extra.
.macro CTLS field, msr, extra
        mov     $(\msr), %ecx
        rdmsr                                   # EAX = allowed-0 settings (bits that must be 1)
        or      $(\extra), %eax                 # a 32-bit op: RAX = zero-extended control
        mov     $(\field), %edx
        vmwrite %rax, %rdx
        VMX_CHECK "vmwrite"
.endm

        .section .text
        .globl  _start
_start:
        # Entry state (docs/boot-protocol.md): 64-bit mode, CPL 0, RSP = 0x80000.

        # IA32_FEATURE_CONTROL must be locked with bit 2 (VMXON outside SMX) or VMXON #GPs
        # (SDM Vol.3C "Enabling and Entering VMX Operation").
        mov     $MSR_FEATURE_CONTROL, %ecx
        rdmsr
        test    $1, %eax
        jnz     1f
        or      $5, %eax                        # lock + VMXON outside SMX
        wrmsr
        jmp     2f
1:      test    $4, %eax
        jnz     2f
        PRINT   "vmx: IA32_FEATURE_CONTROL locked without VMXON outside SMX\n"
        EXIT    1
2:
        # Revision identifier: IA32_VMX_BASIC bits 30:0 (SDM Vol.3D Appendix A.1), written to
        # the first dword of the VMXON region and of the VMCS (bit 31 = 0: not a shadow VMCS).
        mov     $MSR_VMX_BASIC, %ecx
        rdmsr
        and     $0x7FFFFFFF, %eax
        mov     %eax, vmxon_region(%rip)
        mov     %eax, vmcs_region(%rip)

        mov     %cr4, %rax
        or      $CR4_VMXE, %rax
        mov     %rax, %cr4

        vmxon   vmxon_ptr(%rip)
        VMX_CHECK "vmxon"
        vmclear vmcs_ptr(%rip)
        VMX_CHECK "vmclear"
        vmptrld vmcs_ptr(%rip)
        VMX_CHECK "vmptrld"

        # ---- VM-execution, exit and entry controls (SDM Vol.3C 24.6-24.8, Vol.3D Appendix A.3-A.5) ----
        CTLS    0x4000, MSR_VMX_TRUE_PINBASED, 0
        CTLS    0x4002, MSR_VMX_TRUE_PROCBASED, PROC_HLT_EXITING
        CTLS    0x400C, MSR_VMX_TRUE_EXIT, EXIT_HOST_64
        CTLS    0x4012, MSR_VMX_TRUE_ENTRY, ENTRY_IA32E_GUEST
        VMW     0x4004, $0                      # exception bitmap
        VMW     0x400A, $0                      # CR3-target count
        VMW     0x400E, $0                      # VM-exit MSR-store count
        VMW     0x4010, $0                      # VM-exit MSR-load count
        VMW     0x4014, $0                      # VM-entry MSR-load count
        VMW     0x4016, $0                      # VM-entry interruption information: none

        # ---- host state (SDM Vol.3C 24.5) ----
        mov     %cr0, %rbx
        VMW     0x6C00, %rbx                    # host CR0
        mov     %cr3, %rbx
        VMW     0x6C02, %rbx                    # host CR3
        mov     %cr4, %rbx
        VMW     0x6C04, %rbx                    # host CR4 (VMXE set)
        VMW     0x0C00, $SEL_DATA               # host ES
        VMW     0x0C02, $SEL_CODE64             # host CS
        VMW     0x0C04, $SEL_DATA               # host SS
        VMW     0x0C06, $SEL_DATA               # host DS
        VMW     0x0C08, $SEL_DATA               # host FS
        VMW     0x0C0A, $SEL_DATA               # host GS
        VMW     0x0C0C, $SEL_TR                 # host TR: must not be 0 (SDM 26.2.3)
        VMW     0x6C06, $0                      # host FS base
        VMW     0x6C08, $0                      # host GS base
        VMW     0x6C0A, $0                      # host TR base
        VMW     0x6C0C, $BOOT_GDT_ADDR          # host GDTR base
        VMW     0x6C0E, $0                      # host IDTR base
        VMW     0x4C00, $0                      # host IA32_SYSENTER_CS
        VMW     0x6C10, $0                      # host IA32_SYSENTER_ESP
        VMW     0x6C12, $0                      # host IA32_SYSENTER_EIP
        lea     host_stack_top(%rip), %rbx
        VMW     0x6C14, %rbx                    # host RSP
        lea     exit_handler(%rip), %rbx
        VMW     0x6C16, %rbx                    # host RIP

        # ---- guest state (SDM Vol.3C 24.4): the host's own flat 64-bit world ----
        mov     %cr0, %rbx
        VMW     0x6800, %rbx                    # guest CR0
        mov     %cr3, %rbx
        VMW     0x6802, %rbx                    # guest CR3
        mov     %cr4, %rbx
        VMW     0x6804, %rbx                    # guest CR4
        VMW     0x681A, $0x400                  # guest DR7 (its reset value)

        # segment registers: selector, base, limit, access rights
        VMW     0x0802, $SEL_CODE64             # CS
        VMW     0x6808, $0
        VMW     0x4802, $0xFFFFFFFF
        VMW     0x4816, $0xA09B                 # present, DPL 0, code exec/read accessed, L, G
        .irp    f, 0, 4, 6, 8, 10               # ES SS DS FS GS: encodings 0x800 + 2*index
        VMW     (0x0800 + \f), $SEL_DATA
        VMW     (0x6806 + \f), $0
        VMW     (0x4800 + \f), $0xFFFFFFFF
        VMW     (0x4814 + \f), $0xC093          # present, DPL 0, data r/w accessed, D/B, G
        .endr
        VMW     0x080C, $0                      # LDTR: null, unusable
        VMW     0x6812, $0
        VMW     0x480C, $0
        VMW     0x4820, $0x10000
        VMW     0x080E, $SEL_TR                 # TR: a busy 64-bit TSS (type 11)
        VMW     0x6814, $0
        VMW     0x480E, $0x67
        VMW     0x4822, $0x8B
        VMW     0x6816, $BOOT_GDT_ADDR          # GDTR
        VMW     0x4810, $(BOOT_GDT_SIZE - 1)
        VMW     0x6818, $0                      # IDTR (the guest takes no exceptions)
        VMW     0x4812, $0

        lea     guest_stack_top(%rip), %rbx
        VMW     0x681C, %rbx                    # guest RSP
        lea     guest_code(%rip), %rbx
        VMW     0x681E, %rbx                    # guest RIP
        VMW     0x6820, $2                      # guest RFLAGS: only the reserved bit 1
        VMW     0x6822, $0                      # pending debug exceptions
        VMW     0x2800, $-1                     # VMCS link pointer: none
        VMW     0x2802, $0                      # guest IA32_DEBUGCTL
        VMW     0x482A, $0                      # guest IA32_SYSENTER_CS
        VMW     0x6824, $0                      # guest IA32_SYSENTER_ESP
        VMW     0x6826, $0                      # guest IA32_SYSENTER_EIP
        VMW     0x4824, $0                      # interruptibility state: no blocking
        VMW     0x4826, $0                      # activity state: active

        vmlaunch
        # Only a VMfail gets here; a successful launch or a failed entry (exit reason bit 31)
        # continues at exit_handler.
        VMX_CHECK "vmlaunch"
        PRINT   "vmx: vmlaunch fell through\n"
        EXIT    1

# ---- the guest: three instructions, each exits ----
guest_code:
        cpuid                                   # exit 10, unconditional
        vmcall                                  # exit 18, unconditional
        hlt                                     # exit 12 (HLT exiting)
        ud2                                     # never reached: the host stops at the HLT

# ---- the exit handler: host RIP, on host_stack_top, RFLAGS = 2 ----
exit_handler:
        VMR     0x4402, %r12                    # exit reason
        bt      $31, %r12
        jc      entry_failed
        VMR     0x6400, %r13                    # exit qualification
        VMR     0x440C, %r14                    # VM-exit instruction length
        VMR     0x681E, %r15                    # guest RIP (at the exiting instruction)

        PRINT   "exit reason="
        PRINT_DEC %r12
        PRINT   " len="
        PRINT_DEC %r14
        PRINT   "\n"

        # exits must come as CPUID, VMCALL, HLT
        mov     exit_count(%rip), %rbx
        lea     expected_reasons(%rip), %rcx
        movzbl  (%rcx,%rbx), %eax
        cmp     %rax, %r12
        jne     unexpected_exit
        inc     %rbx
        mov     %rbx, exit_count(%rip)
        cmp     $12, %r12
        je      done

        add     %r14, %r15                      # step past the exiting instruction
        VMW     0x681E, %r15
        vmresume
        VMX_CHECK "vmresume"
        PRINT   "vmx: vmresume fell through\n"
        EXIT    1

done:
        PRINT   "vmxbasic: ok\n"
        EXIT    0

unexpected_exit:
        PRINT   "vmx: unexpected exit, wanted reason="
        PRINT_DEC %rax
        PRINT   "\n"
        EXIT    1

entry_failed:
        VMR     0x6400, %r13
        PRINT   "vmx: entry failed reason="
        PRINT_HEX %r12, 8
        PRINT   " qual="
        PRINT_HEX %r13, 16
        PRINT   "\n"
        EXIT    1

# vmx_fail: RSI = name of the VMX instruction that set CF or ZF.
vmx_fail:
        PRINT   "vmx: "
        call    serial_puts
        PRINT   " failed, error="
        xor     %eax, %eax                      # stays 0 if there is no current VMCS
        mov     $0x4400, %edx                   # VM-instruction error
        vmread  %rdx, %rax
        PRINT_HEX %rax, 8
        PRINT   "\n"
        EXIT    1

        .section .rodata
expected_reasons:
        .byte   10, 18, 12

        .section .data
        .balign 8
vmxon_ptr:
        .quad   vmxon_region
vmcs_ptr:
        .quad   vmcs_region
exit_count:
        .quad   0

        .section .bss
        .balign 4096
vmxon_region:
        .skip   4096
vmcs_region:
        .skip   4096
        .balign 16
        .skip   4096
host_stack_top:
        .skip   4096
guest_stack_top:
