package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** 32-bit paging (4 KiB and 4 MiB pages) and PAE paging (SDM Vol.3A 4.3, 4.4). */
class LegacyPagingTest {
    static TestCpu protectedMode(long cr3, long cr4) {
        TestCpu t = new TestCpu();
        Cpu c = t.cpu;
        c.efer = 0;
        c.cr4 = cr4;
        c.cr3 = cr3;
        c.cr0 = Cpu.CR0_PE | Cpu.CR0_ET | Cpu.CR0_PG | Cpu.CR0_WP;
        c.seg[Segment.CS].set(0x18, 0, 0xFFFFFFFFL, 0xC09B);
        for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS}) c.seg[s].set(0x10, 0, 0xFFFFFFFFL, 0xC093);
        c.modeChanged();
        c.flushTlb();
        return t;
    }

    @Test
    void thirtyTwoBitPagingWith4KAnd4MPages() {
        long pd = 0x600000, pt = 0x601000;
        TestCpu t = protectedMode(pd, Cpu.CR4_PSE);
        var m = t.machine.memory();
        m.write32(pd, 0x00000083);                 // 0-4 MiB: one 4 MiB page, identity (code lives at 2 MiB)
        m.write32(pd + 4 * 0x100, (int) (pt | 3));  // 0x40000000: a page table
        m.write32(pt + 4 * 5, 0x00905003);         // 0x40005000 -> 0x905000, writable, not yet accessed
        m.write32(0x905010, 0xCAFE);
        byte[] code = TestCpu.assemble(".code32\nmov 0x40005010, %eax\nmovl $7, 0x40005014");
        t.load(TestCpu.CODE, code);
        assertEquals(-1, t.run(TestCpu.CODE, TestCpu.CODE + code.length, 10));
        assertEquals(0xCAFE, t.cpu.r[Cpu.RAX]);
        assertEquals(7, m.read32(0x905014));
        assertEquals(0x60, m.read32(pt + 4 * 5) & 0x60, "accessed and dirty in the 4-byte PTE");
        t.cpu.r[Cpu.RBX] = 0x40006000L;
        assertEquals(CpuFault.PF, t.exec(TestCpu.assemble(".code32\nmov (%ebx), %eax")));
        assertEquals(0x40006000L, t.cpu.cr2);
    }

    @Test
    void paePagingWith2MPagesAndNx() {
        long pdpt = 0x600000, pd = 0x601000;
        TestCpu t = protectedMode(pdpt, Cpu.CR4_PAE);
        var m = t.machine.memory();
        m.write64(pdpt, pd | 1);
        m.write64(pd, 0x83);                            // 0-2 MiB
        m.write64(pd + 8, 0x200083);                    // 2-4 MiB: code
        m.write64(pd + 8 * 10, 0x800083);               // 20 MiB -> 8 MiB
        m.write32(0x800040, 0xBEEF);
        byte[] code = TestCpu.assemble(".code32\nmov 0x1400040, %eax");
        t.load(TestCpu.CODE, code);
        assertEquals(-1, t.run(TestCpu.CODE, TestCpu.CODE + code.length, 10));
        assertEquals(0xBEEF, t.cpu.r[Cpu.RAX]);
        // NX bit without EFER.NXE is a reserved bit: #PF with RSVD
        m.write64(pd + 8 * 10, 0x800083 | (1L << 63));
        t.cpu.flushTlb();
        assertEquals(CpuFault.PF, t.exec(code));
        assertEquals(0x9, t.faultError, "present + reserved bit");
    }
}
