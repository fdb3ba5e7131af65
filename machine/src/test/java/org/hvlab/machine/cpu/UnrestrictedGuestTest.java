package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** "Unrestricted guest" (SDM Vol.3C 24.6.2, 26.3.1.1): a real-mode guest with CR0.PE = PG = 0 under EPT. */
class UnrestrictedGuestTest {
    static final long EPT_PML4 = 0x680000, EPT_PDPT = 0x681000, CODE16 = 0x52000;
    VmxTestBed bed;
    TestCpu t;
    Cpu c;
    Vmcs v;
    PhysicalMemory m;

    @BeforeEach
    void setUp() {
        bed = new VmxTestBed(org.hvlab.machine.vmx.CpuProfile.defaultProfile(), 0);
        t = bed.t;
        c = bed.c;
        m = bed.m;
        v = bed.v;
        m.write64(EPT_PML4, EPT_PDPT | 7);
        for (long i = 0; i < 4; i++) m.write64(EPT_PDPT + 8 * i, (i << 30) | 0x80 | (6 << 3) | 7);
        v.set(EPT_POINTER, EPT_PML4 | 6 | (3 << 3));
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_ACTIVATE_SECONDARY);
        v.set(PROC_BASED_CONTROLS2, VmxControls.PROC2_EPT | VmxControls.PROC2_UNRESTRICTED_GUEST);
        // real mode: CR0.PE = PG = 0 (NE and the other fixed bits stay), no IA-32e mode
        v.set(GUEST_CR0, Cpu.CR0_NE | Cpu.CR0_ET);
        v.set(ENTRY_CONTROLS, v.get(ENTRY_CONTROLS) & ~VmxControls.ENTRY_IA32E_MODE_GUEST);
        for (int s = 0; s < 6; s++) {
            int sel = s == Segment.CS ? (int) (CODE16 >>> 4) : 0;
            v.set(VmEntry.SEL[s], sel);
            v.set(VmEntry.BASE[s], (long) sel << 4);
            v.set(VmEntry.LIMIT[s], 0xFFFF);
            v.set(VmEntry.AR[s], s == Segment.CS ? 0x9B : 0x93);
        }
        v.set(GUEST_TR_SELECTOR, 0);
        v.set(GUEST_TR_BASE, 0);
        v.set(GUEST_TR_LIMIT, 0xFFFF);
        v.set(GUEST_TR_ACCESS_RIGHTS, 0x8B);
        v.set(GUEST_GDTR_BASE, 0);
        v.set(GUEST_GDTR_LIMIT, 0xFFFF);
        v.set(GUEST_IDTR_BASE, 0);
        v.set(GUEST_IDTR_LIMIT, 0x3FF);
        v.set(GUEST_RSP, 0x8000);
    }

    long run(String insn) {
        return bed.run(insn);
    }

    @Test
    void aRealModeGuestRunsAndExits() {
        t.load(CODE16, TestCpu.assemble(".code16\nmov $0x1234, %ax\nmov %ax, 0x100\ncpuid"));
        assertEquals(10, run("vmlaunch"));
        assertEquals(6, v.get(GUEST_RIP), "guest IP at the CPUID (16-bit code)");
        assertEquals(0x1234, m.read32(0x100) & 0xFFFF, "the store went to DS base 0 + 0x100 through the identity EPT");
        assertEquals(CODE16 >>> 4, v.get(GUEST_CS_SELECTOR), "CS selector saved");
        assertEquals(0, v.get(GUEST_CR0) & Cpu.CR0_PE);
        assertTrue(c.longModeActive(), "the host is back in 64-bit mode");
    }

    @Test
    void aRealModeGuestCanEnterProtectedModeItself() {
        // the guest sets CR0.PE and jumps to 32-bit code (a GDT the test places at 0x7000 with 0x18 = flat 32-bit code)
        v.set(GUEST_GDTR_BASE, 0x7000);
        v.set(GUEST_GDTR_LIMIT, 0x37);
        t.load(CODE16, TestCpu.assemble(".code16\nmov %cr0, %eax\nor $1, %eax\nmov %eax, %cr0\n"
                + "ljmpl $0x18, $0x52100\n.org 0x100\n.code32\nmov $0x55, %ebx\ncpuid"));
        assertEquals(10, run("vmlaunch"));
        assertEquals(1, v.get(GUEST_CR0) & Cpu.CR0_PE);
        assertEquals(0x18, v.get(GUEST_CS_SELECTOR));
        assertEquals(0x55, c.r[Cpu.RBX] & 0xFFFFFFFFL, "32-bit code ran");
    }

    @Test
    void aPagedGuestOutsideIa32eModeGetsEferLmeClear() {
        // Regression: with "load IA32_EFER" = 0, VM entry loads EFER.LMA from "IA-32e mode guest"
        // and, when the CR0 field has PG = 1, EFER.LME too (SDM Vol.3C 26.3.2.1). The host's LME = 1
        // used to survive into this 32-bit paged guest: LME = 1, PG = 1 yet LMA = 0.
        long pd = 0x690000;
        m.write64(pd, 0x83); // 4M page at 0: present, writable, PS
        v.set(GUEST_CR0, Cpu.CR0_PE | Cpu.CR0_NE | Cpu.CR0_ET | Cpu.CR0_PG);
        v.set(GUEST_CR3, pd);
        v.set(GUEST_CR4, 0x10 | 0x2000); // CR4.PSE, VMXE; no PAE: 32-bit paging
        for (int s = 0; s < 6; s++) {
            v.set(VmEntry.SEL[s], s == Segment.CS ? 0x18 : 0x10);
            v.set(VmEntry.BASE[s], 0);
            v.set(VmEntry.LIMIT[s], 0xFFFFFFFFL);
            v.set(VmEntry.AR[s], s == Segment.CS ? 0xC09B : 0xC093);
        }
        v.set(EXIT_CONTROLS, v.get(EXIT_CONTROLS) | VmEntry.EXIT_SAVE_EFER);
        v.set(GUEST_RIP, CODE16);
        t.load(CODE16, TestCpu.assemble(".code32\ncpuid"));
        assertEquals(10, run("vmlaunch"));
        assertEquals(0, v.get(GUEST_EFER) & (Cpu.EFER_LME | Cpu.EFER_LMA), "guest EFER.LME and LMA");
        assertTrue(c.longModeActive(), "the host is back in 64-bit mode");
    }

    @Test
    void withoutUnrestrictedGuestCr0PeClearFailsTheEntry() {
        v.set(PROC_BASED_CONTROLS2, VmxControls.PROC2_EPT);
        t.load(TestCpu.CODE, TestCpu.assemble("vmlaunch"));
        c.rip = TestCpu.CODE;
        c.run(1);
        assertEquals(0x80000021L, v.get(EXIT_REASON), "CR0.PE is a fixed-1 bit without unrestricted guest");
    }
}
