# exceptions.S - exception delivery in 64-bit mode: a 64-bit IDT, a TSS with IST stacks, and
# six exceptions provoked on purpose, each checked from what its handler recorded.
#
# Runs on the bootstrap processor only. In order:
#   #DE  DIV by zero; fault: the saved RIP is the DIV. The handler resumes after it by
#        rewriting the saved RIP (include/exc.inc).
#   #UD  UD2; fault, saved RIP = the UD2.
#   #GP  load through the non-canonical address 0x8000000000000000; error code 0.
#   #PF  clear P in the 2 MiB PDE mapping 0xC00000-0xDFFFFF (above the image), INVLPG, then
#        read 0xC01238 (expect CR2 = that address, error code 0: not present, read,
#        supervisor) and write 0xC0ABC0 (error code 2: W/R set); then restore the PDE.
#   #BP  INT3 through a gate with IST = 1: the frame must lie in the IST1 stack; INT3 is a
#        trap, so the saved RIP is the instruction after it.
#   #DF  #DE with its IDT gate marked not present: delivering #DE raises #NP, and a
#        contributory exception while delivering a contributory one is a double fault (SDM
#        Vol.3A, interrupt chapter, "Interrupt 8-Double Fault Exception", table "Conditions for
#        Generating a Double Fault"). The #DF gate uses IST2; the handler must run there, get
#        error code 0, and exactly one exception is recorded (no #NP handler ran). Since a
#        #DF's saved CS:RIP is undefined, recovery replaces the saved RIP and RSP with a known
#        label and stack.
# Output, exactly (RIP values are the addresses of de_insn and ud_insn in this build):
#   #DE ok rip=0x<16 hex digits>
#   #UD ok rip=0x<16 hex digits>
#   #GP ok err=0x0000
#   #PF ok cr2=0x0000000000c01238 err=0x0000
#   #PF ok cr2=0x0000000000c0abc0 err=0x0002
#   #BP ok ist
#   #DF ok err=0x0000
#   exceptions: all ok
# Exit status 0. On a failed check it prints
#   <test> FAILED count=N vector=0xVV err=0xEEEE rip=0x... cr2=0x... frame=0x...
# (what the handler recorded; count = exceptions taken by the test) and exits with
# 1 #DE, 2 #UD, 3 #GP, 4 #PF read, 5 #PF write, 6 #BP, 7 #DF, 8 #PF set-up;
# an exception no test expected exits 9 (include/exc.inc).

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "tss.inc"
        .include "exc.inc"

        .equ NONCANONICAL_ADDR, 0x8000000000000000
        .equ PF_REGION,         0xC00000        # 2 MiB aligned, above the image
        .equ PF_READ_ADDR,      0xC01238
        .equ PF_WRITE_ADDR,     0xC0ABC0
        .equ PTE_P,             0x01
        .equ PDE_PS,            0x80
        .equ PF_ERR_WRITE,      0x02            # #PF error code bit 1 (W/R)

        .section .text
        .globl  _start
_start:
        call    tss_setup
        call    exc_install_stubs
        SET_GATE 3, exc_stub_3, 1               # #BP on IST1
        SET_GATE 8, exc_stub_8, 2               # #DF on IST2
        call    idt_load

        call    test_de
        call    test_ud
        call    test_gp
        call    test_pf
        call    test_bp
        call    test_df

        PRINT   "exceptions: all ok\n"
        EXIT    0

# ARM resume: clear the records and tell exc_common where the provoked exception resumes.
.macro ARM resume
        push    %rax
        movq    $-1, exc_vector(%rip)
        movq    $-1, exc_error(%rip)
        movq    $0, exc_rip(%rip)
        movq    $0, exc_count(%rip)
        lea     \resume(%rip), %rax
        mov     %rax, exc_resume_rip(%rip)
        pop     %rax
.endm

# FAIL_IF_NE name, status: unless ZF is set, report the records for test `name` and exit.
.macro FAIL_IF_NE name, status
        je      .Lcheck_ok\@
        lea     .Lcheck_name\@(%rip), %rsi
        mov     $(\status), %eax
        jmp     test_failed
        .pushsection .rodata
.Lcheck_name\@:
        .asciz  "\name"
        .popsection
.Lcheck_ok\@:
.endm

# expect: ZF = 1 iff exactly one exception was taken, with vector ECX, saved RIP RDX and error
# code R8 (0 for vectors without one: the stub pushes 0). Preserves general registers.
expect:
        cmpq    $1, exc_count(%rip)
        jne     1f
        cmp     exc_vector(%rip), %rcx
        jne     1f
        cmp     exc_rip(%rip), %rdx
        jne     1f
        cmp     exc_error(%rip), %r8
1:      ret

# in_stack: ZF = 1 iff exc_frame lies in [RDX, R8).
in_stack:
        push    %rax
        mov     exc_frame(%rip), %rax
        cmp     %rdx, %rax
        jb      1f
        cmp     %r8, %rax
        jae     1f
        cmp     %eax, %eax                      # in range: set ZF
        jmp     2f
1:      or      $1, %eax                        # out of range: clear ZF (result non-zero)
2:      pop     %rax
        ret

# test_failed: RSI = test name, EAX = exit status.
test_failed:
        mov     %eax, %ebx
        call    serial_puts
        PRINT   " FAILED count="
        PRINT_DEC exc_count(%rip)
        PRINT   " vector="
        PRINT_HEX exc_vector(%rip), 2
        PRINT   " err="
        PRINT_HEX exc_error(%rip), 4
        PRINT   " rip="
        PRINT_HEX exc_rip(%rip), 16
        PRINT   " cr2="
        PRINT_HEX exc_cr2(%rip), 16
        PRINT   " frame="
        PRINT_HEX exc_frame(%rip), 16
        PRINT   "\n"
        mov     %ebx, %eax
        outl    %eax, $DEBUG_EXIT_PORT
        HALT_FOREVER

# ---- #DE: vector 0, fault ----
test_de:
        ARM     de_resume
        xor     %edx, %edx
        mov     $1, %eax
        xor     %ecx, %ecx
de_insn:
        divl    %ecx                            # EDX:EAX / 0
de_resume:
        mov     $0, %ecx
        lea     de_insn(%rip), %rdx
        xor     %r8d, %r8d
        call    expect
        FAIL_IF_NE "#DE", 1
        PRINT   "#DE ok rip="
        PRINT_HEX exc_rip(%rip), 16
        PRINT   "\n"
        ret

# ---- #UD: vector 6, fault ----
test_ud:
        ARM     ud_resume
ud_insn:
        ud2
ud_resume:
        mov     $6, %ecx
        lea     ud_insn(%rip), %rdx
        xor     %r8d, %r8d
        call    expect
        FAIL_IF_NE "#UD", 2
        PRINT   "#UD ok rip="
        PRINT_HEX exc_rip(%rip), 16
        PRINT   "\n"
        ret

# ---- #GP: vector 13, fault, error code 0 for a non-canonical (non-stack) reference ----
test_gp:
        ARM     gp_resume
        movabs  $NONCANONICAL_ADDR, %rax
gp_insn:
        mov     (%rax), %rax
gp_resume:
        mov     $13, %ecx
        lea     gp_insn(%rip), %rdx
        xor     %r8d, %r8d
        call    expect
        FAIL_IF_NE "#GP", 3
        PRINT   "#GP ok err="
        PRINT_HEX exc_error(%rip), 4
        PRINT   "\n"
        ret

# ---- #PF: vector 14, fault; CR2 = linear address; error code P=0, W/R, U/S=0 ----
test_pf:
        push    %rbx
        push    %r15
        mov     $PF_REGION, %edi
        call    pde_address
        mov     %rax, %r15                      # R15 = the PDE (page tables are identity-mapped)
        mov     (%r15), %rax
        and     $(PTE_P | PDE_PS), %eax
        cmp     $(PTE_P | PDE_PS), %eax
        je      1f
        PRINT   "#PF set-up FAILED: 0xc00000 is not mapped by a present 2 MiB page\n"
        EXIT    8
1:      andq    $~PTE_P, (%r15)
        # A changed translation may still be cached in the TLB; INVLPG of any address in the
        # 2 MiB page drops it (SDM Vol.3A, paging chapter, "Invalidation of TLBs and
        # Paging-Structure Caches").
        mov     $PF_REGION, %eax
        invlpg  (%rax)

        ARM     pf_read_resume
        mov     $PF_READ_ADDR, %ebx
pf_read_insn:
        mov     (%rbx), %rcx
pf_read_resume:
        mov     $14, %ecx
        lea     pf_read_insn(%rip), %rdx
        xor     %r8d, %r8d
        call    expect
        jne     2f
        cmp     exc_cr2(%rip), %rbx
2:      FAIL_IF_NE "#PF read", 4
        PRINT   "#PF ok cr2="
        PRINT_HEX exc_cr2(%rip), 16
        PRINT   " err="
        PRINT_HEX exc_error(%rip), 4
        PRINT   "\n"

        ARM     pf_write_resume
        mov     $PF_WRITE_ADDR, %ebx
pf_write_insn:
        movq    $0, (%rbx)
pf_write_resume:
        mov     $14, %ecx
        lea     pf_write_insn(%rip), %rdx
        mov     $PF_ERR_WRITE, %r8d
        call    expect
        jne     3f
        cmp     exc_cr2(%rip), %rbx
3:      FAIL_IF_NE "#PF write", 5
        PRINT   "#PF ok cr2="
        PRINT_HEX exc_cr2(%rip), 16
        PRINT   " err="
        PRINT_HEX exc_error(%rip), 4
        PRINT   "\n"

        orq     $PTE_P, (%r15)                  # map the region again
        mov     $PF_REGION, %eax
        invlpg  (%rax)
        pop     %r15
        pop     %rbx
        ret

# pde_address: RDI = linear address; RAX = address of the page-directory entry that maps it,
# found by walking the 4-level tables from CR3 (SDM "IA-32e Paging", Vol.3A 4.5): PML4 index bits 47:39,
# PDPT index 38:30, PD index 29:21. Entries hold the next table's address in bits 51:12.
pde_address:
        push    %rcx
        push    %rdx
        movabs  $0x000FFFFFFFFFF000, %rdx
        mov     %cr3, %rax
        and     %rdx, %rax                      # PML4
        mov     %rdi, %rcx
        shr     $39, %rcx
        and     $511, %ecx
        mov     (%rax,%rcx,8), %rax
        and     %rdx, %rax                      # PDPT
        mov     %rdi, %rcx
        shr     $30, %rcx
        and     $511, %ecx
        mov     (%rax,%rcx,8), %rax
        and     %rdx, %rax                      # page directory
        mov     %rdi, %rcx
        shr     $21, %rcx
        and     $511, %ecx
        lea     (%rax,%rcx,8), %rax
        pop     %rdx
        pop     %rcx
        ret

# ---- #BP: vector 3, trap, delivered on IST1 ----
test_bp:
        ARM     bp_resume
        int3
bp_resume:
        mov     $3, %ecx
        lea     bp_resume(%rip), %rdx           # a trap saves the RIP after the instruction
        xor     %r8d, %r8d
        call    expect
        jne     1f
        lea     ist1_stack(%rip), %rdx
        lea     ist1_stack_top(%rip), %r8
        call    in_stack
1:      FAIL_IF_NE "#BP", 6
        PRINT   "#BP ok ist\n"
        ret

# ---- #DF: vector 8, abort, error code 0, delivered on IST2 ----
test_df:
        xor     %edi, %edi
        xor     %esi, %esi
        call    idt_set_present                 # #DE gate: not present
        ARM     df_resume
        mov     %rsp, exc_resume_rsp(%rip)      # RSP at the DIV = RSP to resume with
        xor     %edx, %edx
        mov     $1, %eax
        xor     %ecx, %ecx
df_insn:
        divl    %ecx
        # Not reached: the #DF recovery goes to df_resume. Should DIV not fault at all,
        # exc_count stays 0 and the check below reports it.
df_resume:
        xor     %edi, %edi
        mov     $1, %esi
        call    idt_set_present                 # #DE gate: present again
        cmpq    $1, exc_count(%rip)
        jne     1f
        cmpq    $8, exc_vector(%rip)
        jne     1f
        cmpq    $0, exc_error(%rip)
        jne     1f
        lea     ist2_stack(%rip), %rdx
        lea     ist2_stack_top(%rip), %r8
        call    in_stack
1:      FAIL_IF_NE "#DF", 7
        PRINT   "#DF ok err="
        PRINT_HEX exc_error(%rip), 4
        PRINT   "\n"
        ret
