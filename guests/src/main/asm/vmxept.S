# vmxept.S - extended page tables and VPID, checked case by case from a guest hypervisor: EPT
# violations and misconfigurations with their exit information, EPT accessed/dirty flags,
# remapping guest-physical pages with and without INVEPT, INVEPT/INVVPID failures, an EPT
# violation during delivery of an injected event, and linear mappings with and without VPID.
#
# One CPU, default profile (IA32_VMX_EPT_VPID_CAP = 0x00000f0106334041: execute-only pages,
# 4-level walks, WB paging structures, 2-MByte and 1-GByte pages, A/D flags, INVEPT single- and
# all-context, INVVPID types 0-3). Every case runs a 64-bit guest from a fresh VMCS (vmx.inc)
# whose CR3 is G_PML4 below.
#
# Memory (boot protocol: 0x9000-0x6FFFF is free for the guest, so every address printed is fixed):
#   EPT (EPTP 0x4001E: WB, 4-level walk, SDM Vol.3C 24.6.11): PML4 0x40000 -> PDPT 0x41000,
#   whose entry 0 -> PD 0x42000 and entries 1-3 are 1-GByte pages; PD entry 0 -> PT 0x43000
#   (4-KByte pages for 0-2 MiB), entries 1-511 are 2-MByte pages. Identity, RWX, memory type 6.
#   A second EPT (EPTP 0x4401E): PML4 0x44000 -> PDPT 0x45000 of four 1-GByte pages.
#   Guest page tables: G_PML4 0x30000, entry 0 = the boot PDPT (identity 0-4 GiB with 2-MByte
#   pages), entry 1 -> 0x31000 -> 0x32000 -> PT 0x33000, whose entry 0 maps linear
#   0x8000000000 to 0x20000 (or 0x21000).
#   Test pages: 0x20000 read-only in EPT (holds 0x11111111), 0x21000 (0x22222222), 0x22000
#   not executable in EPT, 0x23000 not present, 0x24000 (0x44444444) and 0x25000
#   (0x55555555) for remapping, 0x26000/0x27000 for A/D flags, 0x28000 a hidden guest IDT,
#   0x29000 for misconfigured entries, 0x2A000 written through a 4-KByte EPT page.
#
# Rules (SDM Vol.3C; "qual" shows the defined bits 8:7 and 5:0 of the exit qualification:
# bit 6 is undefined without "mode-based execute control", bits 11:9 without advanced EPT
# exit information (EPT_VPID_CAP bit 22 = 0), Table 27-7):
#  - EPT violation (27.2.1, 28.2.3.2), exit 48: qualification bit 0 read, 1 write, 2 fetch,
#    bits 5:3 the AND of the R/W/X bits of the EPT entries walked (0 when one was not
#    present), bit 7 guest-linear address valid, bit 8 1 = access to the translated address,
#    0 = access to a guest paging-structure entry. Guest-physical address (0x2400) and guest
#    linear address (0x640A) are saved (27.2.1); RIP is that of the faulting instruction, which
#    did not complete (a write that violates does not land).
#    With EPT A/D flags on, accesses to guest paging-structure entries count as writes and
#    such a violation sets bits 0 and 1 (Table 27-7, 28.2.3.2). Execute-only entries are
#    legal when EPT_VPID_CAP bit 0 says so (28.2.3.1); a read from one is a violation.
#  - EPT misconfiguration (28.2.3.1), exit 49 with the guest-physical address: bits 2:0 = 010b
#    (write without read), memory type 2, 3 or 7 in a leaf, reserved bits (20:12 of a 2-MByte
#    page, 29:12 of a 1-GByte page). The walk of the guest paging structures translates their
#    guest-physical addresses first, so a bad entry mapping everything shows the guest PML4
#    entry's address.
#  - EPTP bit 6 (28.2.4): the processor sets bit 8 (accessed) in every EPT entry it uses and
#    bit 9 (dirty) in the leaf of a written guest-physical address.
#  - Guest-physical mappings are cached per EP4TA and invalidated only by INVEPT (28.3.1,
#    28.3.3.1); the SDM allows a processor to keep using them after the EPT changes, and the
#    model keeps them until INVEPT (so a hypervisor that forgets INVEPT is observable).
#  - INVEPT/INVVPID (30.3): an unsupported type, an invalid EPTP (page-walk length 5) for
#    single-context, VPID 0 for single-context, or a non-canonical address for
#    individual-address is VMfailValid 28.
#  - An EPT violation while delivering an injected event (27.2.3) saves IDT-vectoring
#    information (0x4408) = the event; RIP stays at the instruction it was injected before.
#  - VPID (28.3.3.1): with "enable VPID" = 0 every VM entry and exit invalidates VPID 0's
#    linear mappings, so a change to the guest page tables is seen after re-entry; with VPID
#    the guest's mappings survive exits and entries until INVVPID (individual-address,
#    single-context, all-context), so the guest keeps reading through the old PTE.
#
# Output, exactly:
#   ept 4K/2M/1G identity map: reason=18 rip=idm_vmcall+0 m4k=0x600d0001 m2m=0x600d0002
#   ept 1G pages only: reason=18 rip=idm_vmcall+0 m4k=0x600d0001 m2m=0x600d0002
#   ept write to read-only page: reason=48 qual=0x1aa gpa=0x00020000 gla=0x00020000 rip=ro_write+0 mem=0x11111111
#   ept fetch from non-executable page: reason=48 qual=0x19c gpa=0x00022000 gla=0x00022000 rip=0x00022000
#   ept read of not-present page: reason=48 qual=0x181 gpa=0x00023000 gla=0x00023000 rip=np_read+0
#   ept guest page table in hidden page: reason=48 qual=0x081 gpa=0x00033000 gla=0x8000000000 rip=hid_read+0
#   ept guest page table in hidden page, a/d flags on: reason=48 qual=0x083 gpa=0x00033000 gla=0x8000000000 rip=hid_read+0
#   ept read of execute-only page: reason=48 qual=0x1a1 gpa=0x00029000 gla=0x00029000 rip=mc_read+0
#   ept misconfig write-only: reason=49 gpa=0x00029000 rip=mc_read+0
#   ept misconfig write+execute: reason=49 gpa=0x00029000 rip=mc_read+0
#   ept misconfig memory type 2: reason=49 gpa=0x00029000 rip=mc_read+0
#   ept misconfig memory type 3: reason=49 gpa=0x00029000 rip=mc_read+0
#   ept misconfig memory type 7: reason=49 gpa=0x00029000 rip=mc_read+0
#   ept misconfig 2M page reserved bit 12: reason=49 gpa=0x00400000 rip=mc2m_read+0
#   ept misconfig 1G page reserved bit 12: reason=49 gpa=0x00030000 rip=idm_guest+0
#   ept a/d flags: reason=18 written=0x0000000000026337 read=0x0000000000027137 pde=0x0000000000043107
#   ept remap 0x24000 to 0x25000, invept: reason=18 read=0x55555555
#   ept remap back, no invept: reason=18 read=0x55555555
#   ept after invept single-context: reason=18 read=0x44444444
#   ept remap again, no invept: reason=18 read=0x44444444
#   ept after invept all-context: reason=18 read=0x55555555
#   invept type 0: VMfailValid error=28
#   invept single-context, page-walk length 5: VMfailValid error=28
#   invvpid single-context, vpid 0: VMfailValid error=28
#   invvpid individual-address, non-canonical: VMfailValid error=28
#   ept violation delivering injected #DB: reason=48 qual=0x181 gpa=0x00028010 gla=0x00028010 idt-vectoring=0x80000301 rip=iv_guest+0
#   no vpid: reason=18 read=0x11111111
#   no vpid, pte changed: reason=18 read=0x22222222
#   vpid 1: reason=18 read=0x11111111
#   vpid 1, pte changed: reason=18 read=0x11111111
#   vpid 1, invvpid individual-address: reason=18 read=0x22222222
#   vpid 1, pte changed: reason=18 read=0x22222222
#   vpid 1, invvpid single-context: reason=18 read=0x11111111
#   vpid 1, pte changed: reason=18 read=0x11111111
#   vpid 1, invvpid all-context: reason=18 read=0x22222222
#   vmxept: ok
# Exit status 0; differing values end in "vmxept: FAILED mismatches=N", status 1.

        .include "hvlab.inc"
        .include "serial.inc"
        .include "idt.inc"
        .include "exc.inc"
        .include "vmx.inc"

        .equ EPT_PML4,  0x40000
        .equ EPT_PDPT,  0x41000
        .equ EPT_PD,    0x42000
        .equ EPT_PT,    0x43000
        .equ EPT1G_PML4, 0x44000
        .equ EPT1G_PDPT, 0x45000
        .equ EPTP,      EPT_PML4 | 0x1E         # memory type 6 (WB), page-walk length - 1 = 3
        .equ EPTP_1G,   EPT1G_PML4 | 0x1E
        .equ EPTP_AD,   EPTP | 0x40             # bit 6: accessed and dirty flags
        .equ EPT_RWX,   7
        .equ EPT_WB,    6 << 3
        .equ EPT_LARGE, 0x80
        .equ G_PML4,    0x30000
        .equ G_PDPT,    0x31000
        .equ G_PD,      0x32000
        .equ G_PT,      0x33000
        .equ G_LINEAR,  0x8000000000            # PML4 index 1: walks G_PDPT, G_PD, G_PT
        .equ PTE_FLAGS, 0x63                    # P RW A D
        .equ PAGE_RO,   0x20000
        .equ PAGE_B,    0x21000
        .equ PAGE_NX,   0x22000
        .equ PAGE_NP,   0x23000
        .equ PAGE_REMAP, 0x24000
        .equ PAGE_REMAP2, 0x25000
        .equ PAGE_DIRTY, 0x26000
        .equ PAGE_READ, 0x27000
        .equ PAGE_IDT,  0x28000
        .equ PAGE_MC,   0x29000
        .equ PAGE_4K,   0x2A000
        .equ ADDR_2M,   0x400000

# SHOW_QUAL want: the EPT-violation qualification, defined bits only (see the header).
.macro SHOW_QUAL want
        push    %r12
        VMR     F_EXIT_QUAL, %r12
        and     $0x1BF, %r12
        SHOW_VALX qual, %r12, \want, 3
        pop     %r12
.endm

# SHOW_READ want: the 32-bit value the guest loaded into EAX before its VMCALL.
.macro SHOW_READ want
        SHOW_VALX read, vmx_guest_rax(%rip), \want, 8
.endm

# PTE gpa, entry: set the EPT PT entry (0-2 MiB) that maps gpa.
.macro PTE gpa, entry
        movq    $(\entry), EPT_PT + ((\gpa) >> 12) * 8
.endm

# INVEPT_OP type, desc / INVVPID_OP type, desc: execute with a descriptor in .data.
.macro INVEPT_OP type, desc
        mov     $(\type), %eax
        lea     \desc(%rip), %rsi
        invept  (%rsi), %rax
        VMX_RESULT
.endm
.macro INVVPID_OP type, desc
        mov     $(\type), %eax
        lea     \desc(%rip), %rsi
        invvpid (%rsi), %rax
        VMX_RESULT
.endm

        .section .text
        .globl  _start
_start:
        call    exc_install_stubs
        call    idt_load
        call    vmx_on
        call    build_tables

        # ---- a guest that runs: 4K (0x2A000), 2M (0x400000) and 1G (PDPT entries 1-3) ----
        lea     idm_guest(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept 4K/2M/1G identity map"
        SHOW_REASON EXIT_VMCALL
        SHOW_RIP idm_vmcall, 0
        SHOW_VALX m4k, PAGE_4K, 0x600d0001, 8
        SHOW_VALX m2m, ADDR_2M, 0x600d0002, 8
        ENDL
        movq    $0, PAGE_4K
        movq    $0, ADDR_2M
        lea     idm_guest(%rip), %rdi
        mov     $EPTP_1G, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept 1G pages only"
        SHOW_REASON EXIT_VMCALL
        SHOW_RIP idm_vmcall, 0
        SHOW_VALX m4k, PAGE_4K, 0x600d0001, 8
        SHOW_VALX m2m, ADDR_2M, 0x600d0002, 8
        ENDL

        # ---- EPT violations ----
        lea     ro_write(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept write to read-only page"
        SHOW_REASON EXIT_EPT_VIOLATION
        SHOW_QUAL 0x1AA                         # write, R and X allowed, linear valid, final
        SHOW_HEX gpa, F_GUEST_PHYS, PAGE_RO, 8
        SHOW_HEX gla, F_GUEST_LINEAR, PAGE_RO, 8
        SHOW_RIP ro_write, 0
        SHOW_VALX mem, PAGE_RO, 0x11111111, 8
        ENDL

        lea     nx_guest(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept fetch from non-executable page"
        SHOW_REASON EXIT_EPT_VIOLATION
        SHOW_QUAL 0x19C                         # fetch, R and W allowed, linear valid, final
        SHOW_HEX gpa, F_GUEST_PHYS, PAGE_NX, 8
        SHOW_HEX gla, F_GUEST_LINEAR, PAGE_NX, 8
        SHOW_HEX rip, F_GUEST_RIP, PAGE_NX, 8
        ENDL

        lea     np_read(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept read of not-present page"
        SHOW_REASON EXIT_EPT_VIOLATION
        SHOW_QUAL 0x181                         # read, nothing allowed, linear valid, final
        SHOW_HEX gpa, F_GUEST_PHYS, PAGE_NP, 8
        SHOW_HEX gla, F_GUEST_LINEAR, PAGE_NP, 8
        SHOW_RIP np_read, 0
        ENDL

        PTE     G_PT, 0                         # hide the guest's page table
        call    ept_flush
        lea     hid_read(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept guest page table in hidden page"
        SHOW_REASON EXIT_EPT_VIOLATION
        SHOW_QUAL 0x081                         # read of a paging-structure entry: bit 8 = 0
        SHOW_HEX gpa, F_GUEST_PHYS, G_PT, 8
        SHOW_HEX gla, F_GUEST_LINEAR, G_LINEAR, 10
        SHOW_RIP hid_read, 0
        ENDL
        lea     hid_read(%rip), %rdi
        mov     $EPTP_AD, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept guest page table in hidden page, a/d flags on"
        SHOW_REASON EXIT_EPT_VIOLATION
        SHOW_QUAL 0x083                         # paging-structure access counts as read + write
        SHOW_HEX gpa, F_GUEST_PHYS, G_PT, 8
        SHOW_HEX gla, F_GUEST_LINEAR, G_LINEAR, 10
        SHOW_RIP hid_read, 0
        ENDL
        PTE     G_PT, G_PT | EPT_RWX | EPT_WB
        PTE     PAGE_MC, PAGE_MC | 4 | EPT_WB   # execute-only (EPT_VPID_CAP bit 0)
        call    ept_flush
        lea     mc_read(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept read of execute-only page"
        SHOW_REASON EXIT_EPT_VIOLATION
        SHOW_QUAL 0x1A1                         # read, only X allowed, linear valid, final
        SHOW_HEX gpa, F_GUEST_PHYS, PAGE_MC, 8
        SHOW_HEX gla, F_GUEST_LINEAR, PAGE_MC, 8
        SHOW_RIP mc_read, 0
        ENDL

        # ---- EPT misconfigurations ----
        .irp    entry, 2, 6, 0x17, 0x1F, 0x3F
        PTE     PAGE_MC, PAGE_MC | \entry
        call    ept_flush
        lea     mc_read(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        call    vmx_launch
        .if     \entry == 2
        CASE    "ept misconfig write-only"
        .elseif \entry == 6
        CASE    "ept misconfig write+execute"
        .elseif \entry == 0x17
        CASE    "ept misconfig memory type 2"
        .elseif \entry == 0x1F
        CASE    "ept misconfig memory type 3"
        .else
        CASE    "ept misconfig memory type 7"
        .endif
        SHOW_REASON EXIT_EPT_MISCONFIG
        SHOW_HEX gpa, F_GUEST_PHYS, PAGE_MC, 8
        SHOW_RIP mc_read, 0
        ENDL
        .endr
        PTE     PAGE_MC, PAGE_MC | EPT_RWX | EPT_WB
        orq     $0x1000, EPT_PD + 2 * 8         # the 2-MByte page at 0x400000: bit 12 reserved
        call    ept_flush
        lea     mc2m_read(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept misconfig 2M page reserved bit 12"
        SHOW_REASON EXIT_EPT_MISCONFIG
        SHOW_HEX gpa, F_GUEST_PHYS, ADDR_2M, 8
        SHOW_RIP mc2m_read, 0
        ENDL
        andq    $~0x1000, EPT_PD + 2 * 8
        orq     $0x1000, EPT1G_PDPT             # the 1-GByte page at 0: bit 12 reserved
        call    ept_flush
        lea     idm_guest(%rip), %rdi
        mov     $EPTP_1G, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept misconfig 1G page reserved bit 12"
        SHOW_REASON EXIT_EPT_MISCONFIG
        SHOW_HEX gpa, F_GUEST_PHYS, G_PML4, 8   # the first access: the guest PML4 entry
        SHOW_RIP idm_guest, 0
        ENDL
        andq    $~0x1000, EPT1G_PDPT
        call    ept_flush

        # ---- EPT accessed and dirty flags ----
        lea     ad_guest(%rip), %rdi
        mov     $EPTP_AD, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept a/d flags"
        SHOW_REASON EXIT_VMCALL
        SHOW_VALX written, EPT_PT+(PAGE_DIRTY>>12)*8, PAGE_DIRTY | 0x337, 16
        SHOW_VALX read, EPT_PT+(PAGE_READ>>12)*8, PAGE_READ | 0x137, 16
        SHOW_VALX pde, EPT_PD, EPT_PT | 0x107, 16
        ENDL
        call    build_tables                    # clear the flags again
        call    ept_flush

        # ---- remapping a guest-physical page; INVEPT ----
        PTE     PAGE_REMAP, PAGE_REMAP2 | EPT_RWX | EPT_WB
        call    ept_flush
        lea     st_guest(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        call    vmx_launch
        CASE    "ept remap 0x24000 to 0x25000, invept"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x55555555
        ENDL
        PTE     PAGE_REMAP, PAGE_REMAP | EPT_RWX | EPT_WB
        call    st_again
        CASE    "ept remap back, no invept"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x55555555
        ENDL
        INVEPT_OP 1, desc_eptp
        VMX_CHECK "invept"
        call    st_again
        CASE    "ept after invept single-context"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x44444444
        ENDL
        PTE     PAGE_REMAP, PAGE_REMAP2 | EPT_RWX | EPT_WB
        call    st_again
        CASE    "ept remap again, no invept"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x44444444
        ENDL
        INVEPT_OP 2, desc_zero
        VMX_CHECK "invept"
        call    st_again
        CASE    "ept after invept all-context"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x55555555
        ENDL
        PTE     PAGE_REMAP, PAGE_REMAP | EPT_RWX | EPT_WB
        call    ept_flush

        # ---- INVEPT / INVVPID operands (30.3; error 28) ----
        INVEPT_OP 0, desc_eptp
        CASE    "invept type 0"
        SHOW_VMFAIL VMERR_INV_OPERAND
        ENDL
        INVEPT_OP 1, desc_eptp_len5
        CASE    "invept single-context, page-walk length 5"
        SHOW_VMFAIL VMERR_INV_OPERAND
        ENDL
        INVVPID_OP 1, desc_zero
        CASE    "invvpid single-context, vpid 0"
        SHOW_VMFAIL VMERR_INV_OPERAND
        ENDL
        INVVPID_OP 0, desc_noncanonical
        CASE    "invvpid individual-address, non-canonical"
        SHOW_VMFAIL VMERR_INV_OPERAND
        ENDL

        # ---- EPT violation during delivery of an injected event ----
        lea     iv_guest(%rip), %rdi
        mov     $EPTP, %esi
        call    ept_vmcs
        VMW     0x6818, $PAGE_IDT               # guest IDTR base: a page EPT does not map
        VMW     F_ENTRY_INFO, $0x80000301       # inject #DB (hardware exception, vector 1)
        call    vmx_launch
        CASE    "ept violation delivering injected #DB"
        SHOW_REASON EXIT_EPT_VIOLATION
        SHOW_QUAL 0x181                         # read of IDT entry 1: a linear address, final
        SHOW_HEX gpa, F_GUEST_PHYS, PAGE_IDT + 16, 8
        SHOW_HEX gla, F_GUEST_LINEAR, PAGE_IDT + 16, 8
        SHOW_HEX idt-vectoring, F_IDT_VECTORING, 0x80000301, 8
        SHOW_RIP iv_guest, 0
        ENDL

        # ---- VPID (no EPT): guest linear G_LINEAR -> 0x20000, then 0x21000 ----
        xor     %esi, %esi
        call    vpid_vmcs
        call    vmx_launch
        CASE    "no vpid"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x11111111
        ENDL
        movq    $(PAGE_B | PTE_FLAGS), G_PT
        call    vp_again
        CASE    "no vpid, pte changed"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x22222222
        ENDL

        movq    $(PAGE_RO | PTE_FLAGS), G_PT
        mov     $1, %esi
        call    vpid_vmcs
        call    vmx_launch
        CASE    "vpid 1"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x11111111
        ENDL
        movq    $(PAGE_B | PTE_FLAGS), G_PT
        call    vp_again
        CASE    "vpid 1, pte changed"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x11111111
        ENDL
        INVVPID_OP 0, desc_vpid1_addr
        VMX_CHECK "invvpid"
        call    vp_again
        CASE    "vpid 1, invvpid individual-address"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x22222222
        ENDL
        movq    $(PAGE_RO | PTE_FLAGS), G_PT
        call    vp_again
        CASE    "vpid 1, pte changed"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x22222222
        ENDL
        INVVPID_OP 1, desc_vpid1_addr
        VMX_CHECK "invvpid"
        call    vp_again
        CASE    "vpid 1, invvpid single-context"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x11111111
        ENDL
        movq    $(PAGE_B | PTE_FLAGS), G_PT
        call    vp_again
        CASE    "vpid 1, pte changed"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x11111111
        ENDL
        INVVPID_OP 2, desc_zero
        VMX_CHECK "invvpid"
        call    vp_again
        CASE    "vpid 1, invvpid all-context"
        SHOW_REASON EXIT_VMCALL
        SHOW_READ 0x22222222
        ENDL

        lea     name(%rip), %rsi
        jmp     vmx_finish

# build_tables: the EPT identity maps, the guest page tables and the test pages (see header).
build_tables:
        mov     $EPT_PML4, %edi                 # zero 0x40000-0x45FFF
        mov     $(6 * 512), %ecx
        xor     %eax, %eax
        rep stosq
        mov     $G_PML4, %edi                   # and 0x30000-0x33FFF
        mov     $(4 * 512), %ecx
        rep stosq
        movq    $(EPT_PDPT | EPT_RWX), EPT_PML4
        movq    $(EPT_PD | EPT_RWX), EPT_PDPT
        mov     $1, %ecx                        # PDPT entries 1-3: 1-GByte pages
1:      mov     %rcx, %rax
        shl     $30, %rax
        or      $(EPT_LARGE | EPT_WB | EPT_RWX), %rax
        mov     %rax, EPT_PDPT(,%rcx,8)
        inc     %ecx
        cmp     $4, %ecx
        jb      1b
        movq    $(EPT_PT | EPT_RWX), EPT_PD
        mov     $1, %ecx                        # PD entries 1-511: 2-MByte pages
2:      mov     %rcx, %rax
        shl     $21, %rax
        or      $(EPT_LARGE | EPT_WB | EPT_RWX), %rax
        mov     %rax, EPT_PD(,%rcx,8)
        inc     %ecx
        cmp     $512, %ecx
        jb      2b
        xor     %ecx, %ecx                      # PT: 4-KByte pages for 0-2 MiB
3:      mov     %rcx, %rax
        shl     $12, %rax
        or      $(EPT_WB | EPT_RWX), %rax
        mov     %rax, EPT_PT(,%rcx,8)
        inc     %ecx
        cmp     $512, %ecx
        jb      3b
        PTE     PAGE_RO, PAGE_RO | 5 | EPT_WB   # R and X
        PTE     PAGE_NX, PAGE_NX | 3 | EPT_WB   # R and W
        PTE     PAGE_NP, 0
        PTE     PAGE_IDT, 0
        movq    $(EPT1G_PDPT | EPT_RWX), EPT1G_PML4
        xor     %ecx, %ecx
4:      mov     %rcx, %rax
        shl     $30, %rax
        or      $(EPT_LARGE | EPT_WB | EPT_RWX), %rax
        mov     %rax, EPT1G_PDPT(,%rcx,8)
        inc     %ecx
        cmp     $4, %ecx
        jb      4b
        # guest page tables: the boot PDPT for 0-512 GiB, G_LINEAR -> PAGE_RO
        movq    $(0x2000 | 0x23), G_PML4
        movq    $(G_PDPT | 0x23), G_PML4 + 8
        movq    $(G_PD | 0x23), G_PDPT
        movq    $(G_PT | 0x23), G_PD
        movq    $(PAGE_RO | PTE_FLAGS), G_PT
        # test pages
        movq    $0, PAGE_4K
        movq    $0, ADDR_2M
        movq    $0x11111111, PAGE_RO
        movq    $0x22222222, PAGE_B
        movl    $0xC1010F, PAGE_NX              # VMCALL (never fetched)
        movq    $0x44444444, PAGE_REMAP
        movq    $0x55555555, PAGE_REMAP2
        ret

# ept_flush: INVEPT all-context after the EPT changed (28.3.3.1).
ept_flush:
        mov     $2, %eax
        lea     desc_zero(%rip), %rsi
        invept  (%rsi), %rax
        VMX_CHECK "invept"
        ret

# ept_vmcs: RDI = guest RIP, ESI = EPTP: a fresh VMCS with EPT on and guest CR3 = G_PML4.
ept_vmcs:
        push    %rsi
        call    vmx_new_vmcs
        pop     %rsi
        VMOR    F_PROC, PROC_SECONDARY
        VMW     F_PROC2, $PROC2_EPT
        VMW     F_EPTP, %rsi
        VMW     F_GUEST_CR3, $G_PML4
        ret

# vpid_vmcs: ESI = VPID (0: "enable VPID" off); guest vp_guest, CR3 = G_PML4, no EPT.
vpid_vmcs:
        push    %rsi
        lea     vp_guest(%rip), %rdi
        call    vmx_new_vmcs
        VMW     F_GUEST_CR3, $G_PML4
        pop     %rsi
        test    %esi, %esi
        jz      1f
        VMOR    F_PROC, PROC_SECONDARY
        VMW     F_PROC2, $PROC2_VPID
        VMW     F_VPID, %rsi
1:      ret

# st_again / vp_again: run st_guest / vp_guest again in the current VMCS (VMRESUME).
st_again:
        lea     st_guest(%rip), %rdi
        jmp     1f
vp_again:
        lea     vp_guest(%rip), %rdi
1:      VMW     F_GUEST_RIP, %rdi
        jmp     vmx_resume

# ---- guests ----
idm_guest:
        movl    $0x600d0001, PAGE_4K
        movl    $0x600d0002, ADDR_2M
idm_vmcall:
        vmcall
        ud2
ro_write:
        movl    $0x12345678, PAGE_RO
        vmcall
        ud2
nx_guest:
        mov     $PAGE_NX, %eax
        jmp     *%rax
np_read:
        mov     PAGE_NP, %eax
        vmcall
        ud2
hid_read:
        movabs  G_LINEAR, %eax
        vmcall
        ud2
mc_read:
        mov     PAGE_MC, %eax
        vmcall
        ud2
mc2m_read:
        mov     ADDR_2M, %eax
        vmcall
        ud2
ad_guest:
        movl    $1, PAGE_DIRTY
        mov     PAGE_READ, %eax
        vmcall
        ud2
st_guest:
        mov     PAGE_REMAP, %eax
        vmcall
        ud2
iv_guest:
        vmcall
        ud2
vp_guest:
        movabs  G_LINEAR, %eax
        vmcall
        ud2

        .section .rodata
name:   .asciz  "vmxept"

        .section .data
        .balign 16
desc_zero:              .quad   0, 0
desc_eptp:              .quad   EPTP, 0
desc_eptp_len5:         .quad   EPT_PML4 | 6 | (4 << 3), 0
desc_vpid1_addr:        .quad   1, G_LINEAR
desc_noncanonical:      .quad   1, 0x0000800000000000
