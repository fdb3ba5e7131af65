# hello.S - the smallest hvlab guest: proves the image was loaded and entered, that COM1
# output works, and that the boot information block (docs/boot-protocol.md) is filled in.
#
# Runs on the bootstrap processor only (any CPU count). Output, exactly:
#   Hello from hvlab\n
#   cpus=N ram=0xHHHHHHHHHHHHHHHH\n      N = boot info CPU count in decimal, RAM size as 16 hex
#   cmdline=TEXT\n                         TEXT = the NUL-terminated command line at 0x8200
# e.g. `--cpus 4 --memory 256 --cmdline "a b"` prints
#   Hello from hvlab / cpus=4 ram=0x0000000010000000 / cmdline=a b
# Exit status: 0; 1 if the boot information has a wrong magic or version (after printing
# "hello: bad boot info magic=0x........ version=0x........").

        .include "hvlab.inc"
        .include "serial.inc"

        .section .text
        .globl  _start
_start:
        # Entry state (docs/boot-protocol.md): 64-bit mode, RSP = 0x80000, RDI = boot info (0x8000).
        mov     %rdi, %rbx                      # RBX = boot information, kept throughout

        PRINT   "Hello from hvlab\n"

        cmpl    $BOOT_INFO_MAGIC, BI_MAGIC(%rbx)
        jne     bad_boot_info
        cmpl    $1, BI_VERSION(%rbx)
        jne     bad_boot_info

        PRINT   "cpus="
        mov     BI_NCPUS(%rbx), %eax            # u32, zero-extended into RAX
        PRINT_DEC %rax
        PRINT   " ram="
        PRINT_HEX BI_RAM_SIZE(%rbx), 16
        PRINT   "\n"

        # The command line is NUL-terminated within 0xE00 bytes; never read past that even if
        # the terminator is missing.
        PRINT   "cmdline="
        lea     BI_CMDLINE(%rbx), %rsi
        mov     $(BI_CMDLINE_MAX - 1), %ecx
1:      movzbl  (%rsi), %eax
        test    %al, %al
        jz      2f
        call    serial_putc
        inc     %rsi
        dec     %ecx
        jnz     1b
2:      PRINT   "\n"
        EXIT    0

bad_boot_info:
        PRINT   "hello: bad boot info magic="
        mov     BI_MAGIC(%rbx), %eax
        PRINT_HEX %rax, 8
        PRINT   " version="
        mov     BI_VERSION(%rbx), %eax
        PRINT_HEX %rax, 8
        PRINT   "\n"
        EXIT    1
