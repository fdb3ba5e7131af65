# memprobe.S - print the boot memory map, then touch reserved memory above 1 MiB.
#
# Why: a hypervisor that reserves memory for itself reports it to the guest as a type-2 entry
# of the memory map and keeps it out of the guest's reach (docs/boot-protocol.md "Boot information";
# XMHF: its memory is absent from EPT01, docs/xmhf-facts.md "memprot"). A guest that ignores the map
# and touches that memory must not be able to read or change it; under XMHF the access is an
# EPT violation (SDM Vol.3C, VMX support for address translation, "EPT Violations", 28.2.3.2) and XMHF halts.
#
# Runs on the bootstrap processor only (any CPU count). Steps:
#   1. One line per memory-map entry (boot information + 32, 24 bytes each: u64 base, u64
#      length, u32 type):  memmap: base=0x<16 digits> length=0x<16 digits> type=T
#   2. The first type-2 entry whose base is at least 1 MiB and inside RAM (below the RAM size
#      of the boot information) is the target; its base is the address A. If there is none:
#      "memprobe: no reserved memory above 1 MiB", exit 0.
#   3. Without the command-line word "write": "memprobe: reading 0x<A>", read the qword at A,
#      "memprobe: read 0x<value>". With "write": "memprobe: writing 0x<A>", write PATTERN there,
#      "memprobe: reading 0x<A>", read it back; it must be PATTERN (else "memprobe: read back
#      0x<value>, expected 0x<PATTERN>", exit 1). The write comes first so that the first access
#      a hypervisor sees is the write: its memory must then still be unchanged afterwards.
#   4. "memprobe: access completed", exit 0.
# Each line is printed before its access, so a run that ends at the access shows which one.
# PATTERN = 0x65626f72706d656d, the bytes "memprobe".
# An unexpected exception (e.g. #PF, #GP) exits 9 (exc.inc).

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "cmdline.inc"

        .equ PATTERN,           0x65626f72706d656d
        .equ MMAP_ENTRY,        24
        .equ MMAP_MAX,          16
        .equ TYPE_RESERVED,     2
        .equ ONE_MIB,           0x100000

        .section .text
        .globl  _start
_start:
        mov     %rdi, %rbx                      # RBX = boot information
        call    exc_install_stubs
        call    idt_load

        # ---- 1. the memory map; R12 = the target (0: none yet)
        xor     %r12d, %r12d
        mov     BI_MMAP_COUNT(%rbx), %r13d
        cmp     $MMAP_MAX, %r13d
        jbe     1f
        mov     $MMAP_MAX, %r13d                # the protocol allows at most 16
1:      lea     BI_MMAP(%rbx), %r14             # R14 = entry
        xor     %r15d, %r15d                    # R15 = index
2:      cmp     %r13d, %r15d
        jae     4f
        PRINT   "memmap: base="
        PRINT_HEX 0(%r14), 16
        PRINT   " length="
        PRINT_HEX 8(%r14), 16
        PRINT   " type="
        mov     16(%r14), %eax
        PRINT_DEC %rax
        PRINT   "\n"
        test    %r12, %r12
        jnz     3f
        cmpl    $TYPE_RESERVED, 16(%r14)
        jne     3f
        mov     0(%r14), %rax
        cmp     $ONE_MIB, %rax
        jb      3f
        cmp     BI_RAM_SIZE(%rbx), %rax
        jae     3f
        mov     %rax, %r12                      # reserved, above 1 MiB, inside RAM
3:      add     $MMAP_ENTRY, %r14
        inc     %r15d
        jmp     2b

        # ---- 2. a target?
4:      test    %r12, %r12
        jnz     5f
        PRINT   "memprobe: no reserved memory above 1 MiB\n"
        EXIT    0

        # ---- 3. the accesses
5:      lea     key_write(%rip), %rsi
        call    cmdline_word
        test    %eax, %eax
        jz      6f
        PRINT   "memprobe: writing "
        PRINT_HEX %r12, 16
        PRINT   "\n"
        mov     $PATTERN, %rax
probe_write:
        mov     %rax, (%r12)
        PRINT   "memprobe: reading "
        PRINT_HEX %r12, 16
        PRINT   "\n"
        mov     (%r12), %rax
        mov     $PATTERN, %rdx
        cmp     %rdx, %rax
        je      7f
        PRINT   "memprobe: read back "
        PRINT_HEX %rax, 16
        PRINT   ", expected "
        PRINT_HEX %rdx, 16
        PRINT   "\n"
        EXIT    1

6:      PRINT   "memprobe: reading "
        PRINT_HEX %r12, 16
        PRINT   "\n"
probe_read:
        mov     (%r12), %rax
        PRINT   "memprobe: read "
        PRINT_HEX %rax, 16
        PRINT   "\n"

        # ---- 4.
7:      PRINT   "memprobe: access completed\n"
        EXIT    0

        .section .rodata
key_write:
        .asciz  "write"
