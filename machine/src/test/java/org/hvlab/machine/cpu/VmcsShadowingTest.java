package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** VMCS shadowing (SDM Vol.3C 24.10, 30.3 VMREAD/VMWRITE in VMX non-root operation) and the PDPTE entry check (26.3.1.6). */
class VmcsShadowingTest {
    static final long GUEST = 0x520000, SHADOW = 0x602000, READ_BITMAP = 0x603000, WRITE_BITMAP = 0x604000;
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
        m.write32(SHADOW, c.profile.vmcsRevision() | 0x80000000); // a shadow VMCS: bit 31 of the revision
        for (long a = 0; a < 0x1000; a += 8) { m.write64(READ_BITMAP + a, 0); m.write64(WRITE_BITMAP + a, 0); }
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_ACTIVATE_SECONDARY);
        v.set(PROC_BASED_CONTROLS2, VmxControls.PROC2_VMCS_SHADOWING);
        v.set(VMREAD_BITMAP_ADDRESS, READ_BITMAP);
        v.set(VMWRITE_BITMAP_ADDRESS, WRITE_BITMAP);
        v.set(VMCS_LINK_POINTER, SHADOW);
    }

    long run() {
        return bed.run("vmlaunch");
    }

    @Test
    void vmreadAndVmwriteReachTheShadowVmcsWhereTheBitmapsAllow() {
        // guest: VMWRITE guest RIP (0x681E) := 0x4242 in the shadow, VMREAD it back into RAX, then CPUID
        t.load(GUEST, TestCpu.assemble("mov $0x681e, %rdx\nmov $0x4242, %rcx\nvmwrite %rcx, %rdx\npushfq\npop %rbx\n"
                + "vmread %rdx, %rax\ncpuid"));
        assertEquals(10, run());
        assertEquals(0x4242, c.r[Cpu.RAX]);
        assertEquals(0, c.r[Cpu.RBX] & 0x41, "VMWRITE succeeded (CF = ZF = 0)");
        assertEquals(GUEST + 22, v.get(GUEST_RIP), "the ordinary VMCS is untouched: guest RIP is the CPUID");
        assertEquals(0x4242, c.vmx.linked(m, SHADOW).get(GUEST_RIP), "the shadow VMCS holds the write");
    }

    @Test
    void aSetBitmapBitExits() {
        m.write8(WRITE_BITMAP + (0x681E >>> 3), (byte) (1 << (0x681E & 7)));
        t.load(GUEST, TestCpu.assemble("mov $0x681e, %rdx\nvmwrite %rcx, %rdx"));
        assertEquals(25, run(), "VMWRITE exits");
        t.load(GUEST, TestCpu.assemble("mov $0x10000, %rdx\nvmread %rdx, %rax"));
        v.set(GUEST_RIP, GUEST);
        t.load(TestCpu.CODE, TestCpu.assemble("vmresume"));
        c.rip = TestCpu.CODE;
        c.run(1);
        for (int i = 0; i < 10 && c.vmx.nonRoot; i++) c.run(1);
        assertEquals(23, v.get(EXIT_REASON), "an encoding above bit 14 always exits");
    }

    @Test
    void withoutShadowingVmreadExits() {
        v.set(PROC_BASED_CONTROLS2, 0);
        v.set(VMCS_LINK_POINTER, -1L); // a shadow VMCS in the link pointer needs "VMCS shadowing" (qualification 4)
        t.load(GUEST, TestCpu.assemble("vmread %rdx, %rax"));
        assertEquals(23, run());
    }

    @Test
    void paePdptesWithReservedBitsFailTheEntryWithQualification2() {
        // a 32-bit PAE guest whose PDPTE 1 sets reserved bit 5 (read through guest CR3 without EPT)
        long cr3 = 0x650000;
        m.write64(cr3, 0x651001);
        m.write64(cr3 + 8, 0x652001 | (1 << 5));
        v.set(PROC_BASED_CONTROLS2, 0);
        v.set(VMCS_LINK_POINTER, -1L);
        v.set(GUEST_CR3, cr3);
        v.set(ENTRY_CONTROLS, v.get(ENTRY_CONTROLS) & ~VmxControls.ENTRY_IA32E_MODE_GUEST);
        v.set(GUEST_EFER, 0);
        for (int s = 0; s < 6; s++) v.set(VmEntry.AR[s], s == Segment.CS ? 0xC09B : 0xC093);
        v.set(GUEST_CS_ACCESS_RIGHTS, 0xC09B);
        t.load(TestCpu.CODE, TestCpu.assemble("vmlaunch"));
        c.rip = TestCpu.CODE;
        c.run(1);
        assertFalse(c.vmx.nonRoot);
        assertEquals(0x80000021L, v.get(EXIT_REASON));
        assertEquals(2, v.get(EXIT_QUALIFICATION), "qualification 2: PDPTEs");
        m.write64(cr3 + 8, 0x652001);
        t.load(GUEST, TestCpu.assemble(".code32\ncpuid"));
        c.rip = TestCpu.CODE;
        c.run(1);
        assertTrue(c.vmx.nonRoot, "valid PDPTEs: entered, reason " + Long.toHexString(v.get(EXIT_REASON)));
    }
}
