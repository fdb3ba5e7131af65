# msrscan.S - scan the MSRs of the CPU the way seed 003's scanner did ("Testing normal MSRs":
# lhv-dev, a 32-bit build, "use safe MSR to scan all MSRs") and print its table.
#
# Runs on the bootstrap processor only (any CPU count). For every MSR index in 0x0-0x1FFF and
# 0xC0000000-0xC0001FFF (the two ranges an MSR bitmap covers, SDM Vol.3C "MSR-Bitmap Address"):
#   - RDMSR; an index whose RDMSR faults (#GP) does not exist and prints nothing;
#   - for bit = 0..63: WRMSR value ^ flip(bit); if it does not fault, flip(bit) goes into "Bit
#     can write", and if RDMSR then reads back exactly the value written, into "Bit will
#     preserve"; then WRMSR the old value back whatever happened (it may fault too);
#   - print one row.
# A #GP handler skips a faulting RDMSR or WRMSR (both are 2 bytes: 0F 32, 0F 30) and records
# the fault; any other exception prints "msrscan: unexpected exception" and exits with status 3.
# Restoring right after every probe is what keeps the scan from breaking its own machine: it
# flips bits of IA32_APIC_BASE, EFER, SYSENTER, FS/GS base, PAT, the MTRRs and the TSC, none of
# which the scanner itself relies on between a probe and its restore (no paging, no APIC, no
# FS/GS, no TSC). One restore does fail: after bit 10 of IA32_APIC_BASE enabled x2APIC mode,
# writing the old xAPIC value back is an illegal x2APIC -> xAPIC transition (SDM Vol.3A 10.12.5)
# and faults; the probe of bit 11 (x2APIC -> disabled, then disabled -> xAPIC) restores it.
#
# flip(bit): what the seed's 32-bit scanner used. Its table shows it: in every row of every
# column, bits 63:31 are either all set or all clear, and bit 31 is never set alone - even for
# PAT and the fixed-range MTRRs, whose bytes 7:4 are as writable as bytes 3:0, and for
# PHYSBASE/PHYSMASK bit 31, which the seed's own MTRR tests wrote (0xccccc000, 0xbbbbb000).
# That is a 32-bit C "1 << bit" widened to 64 bits: SHL masks its count to 5 bits (SDM Vol.2
# SAL/SAR/SHL/SHR) and the int is sign-extended (CDQ). So bits 32-62 repeat the probes of bits
# 0-30, and bits 31 and 63 both flip bits 63:31 together. This guest does exactly that (SHL %cl,
# then CDQ). With the command line "wide" it flips one bit at a time instead (bit 32 + k flips
# EDX bit k), which shows the single-bit truth for bits 31-63.
#
# CPU mode: 32-bit protected mode without paging, like the seed's 32-bit build, so that EFER
# reads 0 and LME could be toggled if the CPU allowed it (SDM Vol.3A 9.8.5: LME may change only
# while paging is off). The boot protocol starts in 64-bit mode, so the guest leaves IA-32e mode
# first (SDM Vol.3A 9.8.5.4 "Switching Out of IA-32e Mode Operation"): far return to the boot
# GDT's 32-bit code segment (compatibility mode), clear CR0.PG (the CPU clears EFER.LMA), clear
# EFER.LME, clear CR4.PAE, load 32-bit data segments and a 32-bit IDT. EFER then reads 0.
#
# Output, exactly (no other line):
#   MSR        Value read         Bit can write      Bit will preserve  Comment\n
#   0xIIIIIIII 0xVVVVVVVVVVVVVVVV 0xWWWWWWWWWWWWWWWW 0xPPPPPPPPPPPPPPPP[ NAME]\n   per MSR
# NAME, the Comment column, names the MSRs the seed's table annotates: IA32_SYSENTER_CS/ESP/EIP
# (0x174-0x176) and IA32_MCG_STATUS (0x17A).
# Exit status: 0; 3 after an unexpected exception.

        .include "hvlab.inc"

        .equ EFER_LMA,          0x00000400
        .equ IDT32_GATE_INTR,   0x8E            # P=1, DPL=0, 32-bit interrupt gate

        .section .text
        .code64
        .globl  _start
_start:
        # Entry state (docs/boot-protocol.md): 64-bit mode, RSP = 0x80000, RDI = boot info (0x8000).
        # The command line "wide" selects one-bit-at-a-time flips.
        lea     BI_CMDLINE(%rdi), %rsi
        cmpl    $0x65646977, (%rsi)             # "wide", little endian
        jne     1f
        cmpb    $0, 4(%rsi)
        jne     1f
        movl    $1, scan_wide(%rip)
1:
        # Leave 64-bit mode: a far return to the 32-bit code segment 0x18 (everything is below
        # 4 GiB and identity-mapped, so the 32-bit code runs at the same addresses).
        pushq   $SEL_CODE32
        pushq   $compat32
        lretq

        .code32
compat32:
        # Compatibility mode. Turn paging off; the CPU clears EFER.LMA.
        mov     %cr0, %eax
        and     $~CR0_PG, %eax
        mov     %eax, %cr0
        jmp     1f                              # a branch right after, as the SDM asks
1:      mov     $MSR_EFER, %ecx
        rdmsr
        and     $~(EFER_LME | EFER_LMA), %eax
        wrmsr
        xor     %eax, %eax
        mov     %eax, %cr4
        mov     $SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $0x80000, %esp

        # IDT: vectors 0-31 -> unexpected_exception, 13 -> gp_handler.
        xor     %edi, %edi
2:      mov     $unexpected_exception, %eax
        cmp     $13, %edi
        jne     3f
        mov     $gp_handler, %eax
3:      mov     %ax, idt32(,%edi,8)             # offset 15:0
        movw    $SEL_CODE32, idt32+2(,%edi,8)
        movb    $0, idt32+4(,%edi,8)
        movb    $IDT32_GATE_INTR, idt32+5(,%edi,8)
        shr     $16, %eax
        mov     %ax, idt32+6(,%edi,8)           # offset 31:16
        inc     %edi
        cmp     $32, %edi
        jne     2b
        lidt    idt32_pointer

        mov     $header, %esi
        call    puts32
        mov     $0x00000000, %eax
        mov     $0x00002000, %edx
        call    scan_range
        mov     $0xC0000000, %eax
        mov     $0xC0002000, %edx
        call    scan_range
        EXIT    0

# scan_range: EAX = first index, EDX = index past the last.
scan_range:
        mov     %eax, cur_index
        mov     %edx, end_index
.Lnext_msr:
        mov     cur_index, %ecx
        cmp     end_index, %ecx
        je      .Lrange_done
        movl    $0, msr_fault
        rdmsr
        cmpl    $0, msr_fault
        jne     .Lskip_msr
        mov     %eax, old_lo
        mov     %edx, old_hi
        movl    $0, can_lo
        movl    $0, can_hi
        movl    $0, keep_lo
        movl    $0, keep_hi
        movl    $0, cur_bit
.Lnext_bit:
        # EDX:EAX = flip(cur_bit)
        mov     cur_bit, %ecx
        mov     $1, %eax
        cmpl    $0, scan_wide
        jne     .Lwide
        shl     %cl, %eax                       # count masked to 5 bits
        cdq                                     # sign-extend the int to 64 bits
        jmp     .Lhave_flip
.Lwide: xor     %edx, %edx
        cmp     $32, %ecx
        jb      1f
        xchg    %eax, %edx                      # bit 32 + k: EDX bit k
1:      shl     %cl, %eax
        shl     %cl, %edx
.Lhave_flip:
        mov     %eax, flip_lo
        mov     %edx, flip_hi
        xor     old_lo, %eax
        xor     old_hi, %edx
        mov     %eax, wr_lo
        mov     %edx, wr_hi
        mov     cur_index, %ecx
        movl    $0, msr_fault
        wrmsr
        cmpl    $0, msr_fault
        jne     .Lrestore
        mov     flip_lo, %eax
        or      %eax, can_lo
        mov     flip_hi, %eax
        or      %eax, can_hi
        mov     cur_index, %ecx
        rdmsr
        cmpl    $0, msr_fault
        jne     .Lrestore
        cmp     wr_lo, %eax
        jne     .Lrestore
        cmp     wr_hi, %edx
        jne     .Lrestore
        mov     flip_lo, %eax
        or      %eax, keep_lo
        mov     flip_hi, %eax
        or      %eax, keep_hi
.Lrestore:
        mov     cur_index, %ecx
        mov     old_lo, %eax
        mov     old_hi, %edx
        movl    $0, msr_fault
        wrmsr
        incl    cur_bit
        cmpl    $64, cur_bit
        jne     .Lnext_bit
        call    print_row
.Lskip_msr:
        incl    cur_index
        jmp     .Lnext_msr
.Lrange_done:
        ret

# print_row: "0xIIIIIIII 0xVVVV... 0xWWWW... 0xPPPP...[ NAME]\n" from the scan variables.
print_row:
        mov     cur_index, %eax
        call    put_0x
        call    put_hex32
        mov     old_hi, %edx
        mov     old_lo, %eax
        call    put_sp_hex64
        mov     can_hi, %edx
        mov     can_lo, %eax
        call    put_sp_hex64
        mov     keep_hi, %edx
        mov     keep_lo, %eax
        call    put_sp_hex64
        mov     $msr_names, %ebx
1:      mov     (%ebx), %eax
        test    %eax, %eax
        jz      3f
        cmp     cur_index, %eax
        je      2f
        add     $8, %ebx
        jmp     1b
2:      mov     $' ', %al
        call    putc32
        mov     4(%ebx), %esi
        call    puts32
3:      mov     $'\n', %al
        call    putc32
        ret

# put_sp_hex64: " 0x" and EDX:EAX as 16 hex digits.
put_sp_hex64:
        push    %eax
        mov     $' ', %al
        call    putc32
        pop     %eax
        push    %eax
        call    put_0x
        mov     %edx, %eax
        call    put_hex32
        pop     %eax
        call    put_hex32
        ret

put_0x:
        push    %eax
        mov     $'0', %al
        call    putc32
        mov     $'x', %al
        call    putc32
        pop     %eax
        ret

# put_hex32: EAX as 8 lower-case hex digits. Preserves every register.
put_hex32:
        push    %eax
        push    %ecx
        push    %edx
        mov     %eax, %edx
        mov     $8, %ecx
1:      rol     $4, %edx
        mov     %edx, %eax
        and     $0xF, %eax
        mov     hex_digits(%eax), %al
        call    putc32
        dec     %ecx
        jnz     1b
        pop     %edx
        pop     %ecx
        pop     %eax
        ret

# putc32: AL to COM1 once the transmitter holding register is empty. Preserves every register.
putc32:
        push    %eax
        push    %edx
        mov     %al, %ah
        mov     $COM1_LSR, %dx
1:      inb     %dx, %al
        test    $LSR_THRE, %al
        jnz     2f
        pause
        jmp     1b
2:      mov     %ah, %al
        mov     $COM1_DATA, %dx
        outb    %al, %dx
        pop     %edx
        pop     %eax
        ret

# puts32: the NUL-terminated string at ESI. Preserves every register.
puts32:
        push    %eax
        push    %esi
1:      movzbl  (%esi), %eax
        test    %al, %al
        jz      2f
        call    putc32
        inc     %esi
        jmp     1b
2:      pop     %esi
        pop     %eax
        ret

# #GP (vector 13, error code pushed): skip a faulting RDMSR/WRMSR and record the fault.
# Frame at entry (no privilege change): error code, EIP, CS, EFLAGS.
gp_handler:
        push    %eax
        mov     8(%esp), %eax                   # saved EIP
        cmpb    $0x0F, (%eax)
        jne     unexpected_exception
        cmpb    $0x30, 1(%eax)                  # WRMSR
        je      1f
        cmpb    $0x32, 1(%eax)                  # RDMSR
        jne     unexpected_exception
1:      addl    $2, 8(%esp)
        movl    $1, msr_fault
        pop     %eax
        add     $4, %esp                        # drop the error code
        iret

unexpected_exception:
        mov     $unexpected_msg, %esi
        call    puts32
        EXIT    3

        .section .rodata
header:
        .asciz  "MSR        Value read         Bit can write      Bit will preserve  Comment\n"
unexpected_msg:
        .asciz  "msrscan: unexpected exception\n"
hex_digits:
        .ascii  "0123456789abcdef"
name_sysenter_cs:
        .asciz  "IA32_SYSENTER_CS"
name_sysenter_esp:
        .asciz  "IA32_SYSENTER_ESP"
name_sysenter_eip:
        .asciz  "IA32_SYSENTER_EIP"
name_mcg_status:
        .asciz  "IA32_MCG_STATUS"
        .p2align 2
msr_names:                                      # (index, name) pairs, ended by index 0
        .long   0x174, name_sysenter_cs
        .long   0x175, name_sysenter_esp
        .long   0x176, name_sysenter_eip
        .long   0x17A, name_mcg_status
        .long   0, 0

        .section .data
        .p2align 3
idt32_pointer:
        .word   32 * 8 - 1
        .long   idt32
scan_wide:      .long 0
msr_fault:      .long 0
cur_index:      .long 0
end_index:      .long 0
cur_bit:        .long 0
old_lo:         .long 0
old_hi:         .long 0
can_lo:         .long 0
can_hi:         .long 0
keep_lo:        .long 0
keep_hi:        .long 0
flip_lo:        .long 0
flip_hi:        .long 0
wr_lo:          .long 0
wr_hi:          .long 0

        .section .bss
        .p2align 3
idt32:
        .skip   32 * 8
