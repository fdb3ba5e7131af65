# vmxmsrlist.S - the VM-entry MSR-load list: in order, up to the failing entry.
#
# One CPU, default profile (IA32_VMX_MISC = 0x20000065: bits 27:25 = 0, so the maximum list
# length is 512 x (0 + 1) = 512 entries, SDM Vol.3D Appendix A.6).
#
# Rules (SDM Vol.3C 26.4 "Loading MSRs", 26.7 "VM-Entry Failures During or After Loading Guest
# State"; docs/vmx-facts.md "MSR load/store lists"): entries are 16 bytes (u32 MSR index, u32
# reserved = 0, u64 value) loaded in order. An entry that cannot be loaded - FS_BASE or GS_BASE
# (26.4 forbids them), an MSR WRMSR would refuse, or one past the maximum list length - makes
# the entry fail with exit reason 0x80000022 (34 with bit 31) and the 1-based index of that
# entry as the exit qualification. The entries before it stay loaded: VM entry does not undo
# them. (The SDM calls a list longer than the maximum "undefined"; the model follows what
# hardware does per docs/vmx-facts.md: the 513th entry fails.)
#
# Output, exactly:
#   msr-load list, FS_BASE second: reason=0x80000022 qual=2
#   msr-load list, 513 entries: reason=0x80000022 qual=513
#   msr-load list [MTRR1, 0xdead, MTRR2]: reason=0x80000022 qual=2 mtrr1=0x0000000012345006 mtrr2=0x0000000000000006
#   vmxmsrlist: ok
# Exit status 0; differing values end in "vmxmsrlist: FAILED mismatches=N", status 1.

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "vmx.inc"

        .equ MSR_MTRR_PHYSBASE0, 0x200          # variable-range MTRR 0 base (MTRR1 here)
        .equ MSR_MTRR_PHYSBASE1, 0x202          # variable-range MTRR 1 base (MTRR2 here)
        .equ MSR_FS_BASE,       0xC0000100
        .equ MTRR1_VALUE,       0x12345006      # base 0x12345000, type 6 (write-back): valid
        .equ MTRR2_VALUE,       0x0ABCD006
        .equ MTRR2_BEFORE,      0x6             # base 0, write-back

        .section .text
        .globl  _start
_start:
        call    exc_install_stubs
        call    idt_load
        call    vmx_on

        # ---- [PHYSBASE0, FS_BASE]: FS_BASE may not be in the list ----
        lea     msr_list(%rip), %rdi
        movl    $MSR_MTRR_PHYSBASE0, 0(%rdi)
        movl    $0, 4(%rdi)
        movq    $MTRR1_VALUE, 8(%rdi)
        movl    $MSR_FS_BASE, 16(%rdi)
        movl    $0, 20(%rdi)
        movq    $0, 24(%rdi)
        mov     $2, %ebx
        call    launch_with_list
        CASE    "msr-load list, FS_BASE second"
        SHOW_REASON FAILED_MSR_LOAD
        SHOW_DEC qual, F_EXIT_QUAL, 2
        ENDL

        # ---- 513 valid entries: one more than the maximum ----
        lea     msr_list(%rip), %rdi
        mov     $513, %ecx
1:      movl    $MSR_MTRR_PHYSBASE1, 0(%rdi)
        movl    $0, 4(%rdi)
        movq    $MTRR2_VALUE, 8(%rdi)
        add     $16, %rdi
        dec     %ecx
        jnz     1b
        mov     $513, %ebx
        call    launch_with_list
        CASE    "msr-load list, 513 entries"
        SHOW_REASON FAILED_MSR_LOAD
        SHOW_DEC qual, F_EXIT_QUAL, 513
        ENDL

        # ---- [MTRR1, 0xdead, MTRR2]: MTRR1 loaded, MTRR2 not ----
        mov     $MSR_MTRR_PHYSBASE0, %ecx       # known values before the entry
        xor     %eax, %eax
        xor     %edx, %edx
        wrmsr
        mov     $MSR_MTRR_PHYSBASE1, %ecx
        mov     $MTRR2_BEFORE, %eax
        wrmsr
        lea     msr_list(%rip), %rdi
        movl    $MSR_MTRR_PHYSBASE0, 0(%rdi)
        movl    $0, 4(%rdi)
        movq    $MTRR1_VALUE, 8(%rdi)
        movl    $0xDEAD, 16(%rdi)               # no such MSR: WRMSR would #GP
        movl    $0, 20(%rdi)
        movq    $0, 24(%rdi)
        movl    $MSR_MTRR_PHYSBASE1, 32(%rdi)
        movl    $0, 36(%rdi)
        movq    $MTRR2_VALUE, 40(%rdi)
        mov     $3, %ebx
        call    launch_with_list
        mov     $MSR_MTRR_PHYSBASE0, %ecx
        rdmsr
        shl     $32, %rdx
        or      %rax, %rdx
        mov     %rdx, %r12
        mov     $MSR_MTRR_PHYSBASE1, %ecx
        rdmsr
        shl     $32, %rdx
        or      %rax, %rdx
        mov     %rdx, %r13
        CASE    "msr-load list [MTRR1, 0xdead, MTRR2]"
        SHOW_REASON FAILED_MSR_LOAD
        SHOW_DEC qual, F_EXIT_QUAL, 2
        SHOW_VALX mtrr1, %r12, MTRR1_VALUE, 16
        SHOW_VALX mtrr2, %r13, MTRR2_BEFORE, 16
        ENDL

        lea     name(%rip), %rsi
        jmp     vmx_finish

# launch_with_list: EBX = number of entries in msr_list. A fresh VMCS whose guest would just
# VMCALL, with that VM-entry MSR-load list; VMLAUNCH.
launch_with_list:
        lea     ml_guest(%rip), %rdi
        call    vmx_new_vmcs
        lea     msr_list(%rip), %rcx
        VMW     F_ENTRY_MSR_ADDR, %rcx
        VMW     F_ENTRY_MSR_COUNT, %rbx
        call    vmx_launch
        ret

ml_guest:
        vmcall
        ud2

        .section .rodata
name:   .asciz  "vmxmsrlist"

        .section .bss
        .balign 16                              # the list must be 16-byte aligned (26.2.1.3)
msr_list:
        .skip   16 * 520
