package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * EPT (SDM Vol.3C 28.2), the tagged TLBs of VPID and EPT (28.3) and the exits they cause:
 * violations with their qualification (27.2.1 Table 27-7), misconfigurations, accessed and
 * dirty flags, stale translations without INVEPT/INVVPID.
 */
class EptTest {
    static final long GUEST = 0x520000, HOST = VmxTestBed.HOST_CODE;
    static final long EPT_PML4 = 0x680000, EPT_PDPT = 0x681000, EPT_PD = 0x682000, EPT_PT = 0x683000;
    /** A guest-physical page the tests restrict or remap, and another physical page. */
    static final long PAGE = 0x700000, OTHER = 0x900000;
    static final int RWX = 7, WB = 6 << 3;

    VmxTestBed bed;
    TestCpu t;
    Cpu c;
    Vmcs v;
    PhysicalMemory m;

    @BeforeEach
    void setUp() {
        bed = new VmxTestBed();
        t = bed.t;
        c = bed.c;
        m = bed.m;
        v = bed.v;
        // identity EPT: 1-GByte pages for 0-4 GiB, except the first GiB in 2-MByte pages and
        // the 2 MiB around PAGE in 4-KByte pages
        m.write64(EPT_PML4, EPT_PDPT | RWX);
        for (long i = 0; i < 4; i++) m.write64(EPT_PDPT + 8 * i, (i << 30) | 0x80 | WB | RWX);
        m.write64(EPT_PDPT, EPT_PD | RWX);
        for (long j = 0; j < 512; j++) m.write64(EPT_PD + 8 * j, (j << 21) | 0x80 | WB | RWX);
        long pdIndex = PAGE >>> 21;
        m.write64(EPT_PD + 8 * pdIndex, EPT_PT | RWX);
        for (long k = 0; k < 512; k++) m.write64(EPT_PT + 8 * k, ((pdIndex << 21) + (k << 12)) | WB | RWX);
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_ACTIVATE_SECONDARY);
        v.set(PROC_BASED_CONTROLS2, VmxControls.PROC2_EPT);
        v.set(EPT_POINTER, EPT_PML4 | 6 | (3 << 3)); // WB, 4-level walk
    }

    long pte(long gpa) {
        return EPT_PT + 8 * ((gpa >>> 12) & 0x1FF);
    }

    long run(String insn) {
        return bed.run(insn);
    }

    void skipInstruction() {
        v.set(GUEST_RIP, v.get(GUEST_RIP) + v.get(EXIT_INSTRUCTION_LENGTH));
    }

    @Test
    void identityEptRunsTheGuest() {
        t.load(GUEST, TestCpu.assemble("movq $0x1234, 0x700010\nmov 0x700010, %rax\ncpuid"));
        assertEquals(10, run("vmlaunch"));
        assertEquals(0x1234, m.read64(PAGE + 0x10));
    }

    @Test
    void writeToAReadOnlyPageIsAnEptViolationWithItsQualification() {
        m.write64(pte(PAGE), PAGE | WB | 5); // read + execute
        t.load(GUEST, TestCpu.assemble("mov 0x700008, %rax\nmovq $7, 0x700008\ncpuid"));
        m.write64(PAGE + 8, 0x55);
        assertEquals(48, run("vmlaunch"));
        // write (bit 1), readable (3), executable (5), linear address valid (7), final access (8)
        assertEquals(0x2 | 0x8 | 0x20 | 0x80 | 0x100, v.get(EXIT_QUALIFICATION));
        assertEquals(PAGE + 8, v.get(GUEST_PHYSICAL_ADDRESS), "guest-physical address");
        assertEquals(PAGE + 8, v.get(GUEST_LINEAR_ADDRESS), "guest linear address");
        assertEquals(GUEST + 8, v.get(GUEST_RIP), "RIP at the faulting MOV (the read before it ran)");
        assertEquals(0x55, c.r[Cpu.RAX]);
        assertEquals(0x55, m.read64(PAGE + 8), "no write landed");
        // the hypervisor grants write access; the guest retries and continues (no INVEPT needed
        // for a permission that was missing: faulting translations are not cached)
        m.write64(pte(PAGE), PAGE | WB | RWX);
        assertEquals(10, run("vmresume"));
        assertEquals(7, m.read64(PAGE + 8));
    }

    @Test
    void notPresentReadAndFetchQualifications() {
        m.write64(pte(PAGE), 0);
        t.load(GUEST, TestCpu.assemble("mov 0x700100, %rax"));
        assertEquals(48, run("vmlaunch"));
        assertEquals(0x1 | 0x80 | 0x100, v.get(EXIT_QUALIFICATION), "read, nothing permitted, linear valid, final");
        m.write64(pte(PAGE), PAGE | WB | 3); // read/write, not executable
        t.load(GUEST, TestCpu.assemble("jmp *%rbx"));
        v.set(GUEST_RIP, GUEST);
        c.r[Cpu.RBX] = PAGE + 0x20;
        assertEquals(48, run("vmresume"));
        assertEquals(0x4 | 0x8 | 0x10 | 0x80 | 0x100, v.get(EXIT_QUALIFICATION), "fetch, readable and writable");
        assertEquals(PAGE + 0x20, v.get(GUEST_RIP), "RIP at the target that could not be fetched");
    }

    @Test
    void guestPagingStructureAccessReportsLinearValidButNotFinal() {
        // the guest maps linear 0x10000000000 through a page table in PAGE, which EPT hides
        long linear = 0x100_0000_0000L;
        t.map4k(linear, 0x710000, false, true, false);
        long pml4e = m.read64(0x1000 + 8 * ((linear >>> 39) & 0x1FF));
        long pdpt = pml4e & 0xFFFFFFFFF000L;
        long pd = m.read64(pdpt + 8 * ((linear >>> 30) & 0x1FF)) & 0xFFFFFFFFF000L;
        long pt = m.read64(pd + 8 * ((linear >>> 21) & 0x1FF)) & 0xFFFFFFFFF000L;
        // move the guest's page table into PAGE, then hide PAGE from the guest
        for (int i = 0; i < 512; i++) m.write64(PAGE + 8L * i, m.read64(pt + 8L * i));
        m.write64(pd + 8 * ((linear >>> 21) & 0x1FF), PAGE | 7);
        m.write64(pte(PAGE), 0);
        c.r[Cpu.RBX] = linear;
        t.load(GUEST, TestCpu.assemble("mov (%rbx), %rax"));
        assertEquals(48, run("vmlaunch"));
        assertEquals(0x1 | 0x80, v.get(EXIT_QUALIFICATION), "a read of a paging-structure entry: bit 8 clear");
        assertEquals(PAGE + 8 * ((linear >>> 12) & 0x1FF), v.get(GUEST_PHYSICAL_ADDRESS), "the PTE's guest-physical address");
        assertEquals(linear, v.get(GUEST_LINEAR_ADDRESS));
    }

    @Test
    void misconfigurationsWriteOnlyAndReservedMemoryType() {
        m.write64(pte(PAGE), PAGE | WB | 2); // write-only
        t.load(GUEST, TestCpu.assemble("mov 0x700000, %rax"));
        assertEquals(49, run("vmlaunch"));
        assertEquals(PAGE, v.get(GUEST_PHYSICAL_ADDRESS));
        m.write64(pte(PAGE), PAGE | (2 << 3) | RWX); // memory type 2 is reserved
        v.set(GUEST_RIP, GUEST);
        assertEquals(49, run("vmresume"));
        m.write64(pte(PAGE), PAGE | (6 << 3) | 0x40 | RWX); // WB with "ignore PAT": fine
        v.set(GUEST_RIP, GUEST);
        t.load(GUEST, TestCpu.assemble("mov 0x700000, %rax\ncpuid"));
        assertEquals(10, run("vmresume"));
        assertEquals(6, c.ept.memoryType(PAGE));
    }

    @Test
    void reservedBitsInALargePageAreAMisconfiguration() {
        m.write64(EPT_PD + 8 * 4, (4L << 21) | (1 << 12) | 0x80 | WB | RWX); // 2-MByte page with bit 12 set
        t.load(GUEST, TestCpu.assemble("mov 0x800000, %rax"));
        assertEquals(49, run("vmlaunch"));
        assertEquals(0x800000, v.get(GUEST_PHYSICAL_ADDRESS));
    }

    @Test
    void eptRemapsAGuestPhysicalPage() {
        m.write64(pte(PAGE), OTHER | WB | RWX);
        m.write64(OTHER + 0x40, 0xABCD);
        m.write64(PAGE + 0x40, 0x1111);
        t.load(GUEST, TestCpu.assemble("mov 0x700040, %rax\nmovq $0x77, 0x700048\ncpuid"));
        assertEquals(10, run("vmlaunch"));
        assertEquals(0xABCD, c.r[Cpu.RAX], "the guest read the physical page EPT maps");
        assertEquals(0x77, m.read64(OTHER + 0x48));
        assertEquals(0, m.read64(PAGE + 0x48));
    }

    @Test
    void accessedAndDirtyFlagsWhenEnabledInTheEptp() {
        v.set(EPT_POINTER, EPT_PML4 | 6 | (3 << 3) | (1 << 6));
        t.load(GUEST, TestCpu.assemble("mov 0x700000, %rax\nmovq $1, 0x701000\ncpuid"));
        assertEquals(10, run("vmlaunch"));
        assertEquals(0x100, m.read64(pte(PAGE)) & 0x300, "read: accessed only");
        assertEquals(0x300, m.read64(pte(PAGE + 0x1000)) & 0x300, "written: accessed and dirty");
        assertEquals(0x100, m.read64(EPT_PML4) & 0x100, "accessed on the way");
    }

    @Test
    void withoutInveptTheGuestKeepsUsingTheOldTranslation() {
        m.write64(PAGE, 0xAAAA);
        m.write64(OTHER, 0xBBBB);
        t.load(GUEST, TestCpu.assemble("mov 0x700000, %rax\ncpuid"));
        assertEquals(10, run("vmlaunch"));
        assertEquals(0xAAAA, c.r[Cpu.RAX]);
        // remap without INVEPT: the guest-physical mapping survives the entry (VPID is off,
        // so the entry drops linear/combined mappings, but not guest-physical ones, 28.3.3.1)
        m.write64(pte(PAGE), OTHER | WB | RWX);
        v.set(GUEST_RIP, GUEST);
        assertEquals(10, run("vmresume"));
        assertEquals(0xAAAA, c.r[Cpu.RAX], "stale guest-physical mapping");
        // INVEPT single-context for this EPTP
        m.write64(VmxTestBed.PTR + 0x100, v.get(EPT_POINTER));
        m.write64(VmxTestBed.PTR + 0x108, 0);
        c.r[Cpu.RBX] = VmxTestBed.PTR + 0x100;
        c.r[Cpu.RCX] = 1;
        assertEquals(-1, t.exec(TestCpu.assemble("invept (%rbx), %rcx")));
        assertEquals(0, c.rflags() & 0x41, "VMsucceed");
        v.set(GUEST_RIP, GUEST);
        assertEquals(10, run("vmresume"));
        assertEquals(0xBBBB, c.r[Cpu.RAX], "after INVEPT the new mapping is used");
    }

    @Test
    void withVpidLinearMappingsSurviveExitsUntilInvvpid() {
        v.set(PROC_BASED_CONTROLS2, 0); // no EPT: linear mappings only
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_ACTIVATE_SECONDARY);
        long linear = 0x100_0000_0000L;
        t.map4k(linear, PAGE, false, true, false);
        m.write64(PAGE, 0xAAAA);
        m.write64(OTHER, 0xBBBB);
        c.r[Cpu.RBX] = linear;
        t.load(GUEST, TestCpu.assemble("mov (%rbx), %rax\ncpuid"));
        long ptePointer = guestPte(linear);

        // without VPID every entry invalidates VPID 0's mappings: the new PTE is seen
        assertEquals(10, run("vmlaunch"));
        m.write64(ptePointer, OTHER | 3);
        v.set(GUEST_RIP, GUEST);
        assertEquals(10, run("vmresume"));
        assertEquals(0xBBBB, c.r[Cpu.RAX]);

        // with VPID 1 the guest's mappings are kept across exit and entry
        v.set(PROC_BASED_CONTROLS2, VmxControls.PROC2_VPID);
        v.set(VPID, 1);
        v.set(GUEST_RIP, GUEST);
        assertEquals(10, run("vmresume"));
        m.write64(ptePointer, PAGE | 3);
        v.set(GUEST_RIP, GUEST);
        assertEquals(10, run("vmresume"));
        assertEquals(0xBBBB, c.r[Cpu.RAX], "stale linear mapping of VPID 1");

        // INVVPID individual-address for VPID 1
        m.write64(VmxTestBed.PTR + 0x100, 1);
        m.write64(VmxTestBed.PTR + 0x108, linear);
        c.r[Cpu.RDX] = VmxTestBed.PTR + 0x100;
        c.r[Cpu.RCX] = 0;
        assertEquals(-1, t.exec(TestCpu.assemble("invvpid (%rdx), %rcx")));
        assertEquals(0, c.rflags() & 0x41, "VMsucceed");
        v.set(GUEST_RIP, GUEST);
        c.r[Cpu.RBX] = linear;
        assertEquals(10, run("vmresume"));
        assertEquals(0xAAAA, c.r[Cpu.RAX], "INVVPID dropped the stale translation");
    }

    private long guestPte(long linear) {
        long table = 0x1000;
        for (int level = 4; level > 1; level--) {
            long e = m.read64(table + 8 * ((linear >>> (12 + 9 * (level - 1))) & 0x1FF));
            table = e & 0xFFFFFFFFF000L;
        }
        return table + 8 * ((linear >>> 12) & 0x1FF);
    }

    @Test
    void eptViolationDuringInjectedEventDeliveryReportsIdtVectoring() {
        // the guest's stack page is read-only in EPT: delivering the injected #UD cannot push its frame
        long stackPage = 0x8F000;
        m.write64(EPT_PD, EPT_PT + 0x1000 | RWX);
        for (long k = 0; k < 512; k++) m.write64(EPT_PT + 0x1000 + 8 * k, (k << 12) | WB | RWX);
        m.write64(EPT_PT + 0x1000 + 8 * (stackPage >>> 12), stackPage | WB | 5);
        m.write64(0x540000 + 6 * 16, (0x548000L & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((0x548000L & 0xFFFF0000L) << 32));
        v.set(GUEST_IDTR_BASE, 0x540000);
        v.set(GUEST_IDTR_LIMIT, 0xFFF);
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000306L);
        t.load(GUEST, TestCpu.assemble("nop"));
        assertEquals(48, run("vmlaunch"));
        assertEquals(0x80000306L, v.get(IDT_VECTORING_INFO), "IDT-vectoring information: the #UD being delivered");
        assertEquals(0x2 | 0x8 | 0x20 | 0x80 | 0x100, v.get(EXIT_QUALIFICATION) & ~0x1000L);
        assertEquals(GUEST, v.get(GUEST_RIP));
        assertEquals(0x90000 - 8, v.get(GUEST_PHYSICAL_ADDRESS), "the first frame slot (SS)");
    }
}
