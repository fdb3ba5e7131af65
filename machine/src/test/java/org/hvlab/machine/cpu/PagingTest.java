package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** #PF error codes and CR2, A/D bits, NX, U/S, WP and TLB staleness (SDM Vol.3A 4.6-4.10). */
class PagingTest {
    static final long VA = 0x7F12_3456_7000L;
    static final long PA = 0x900000;

    private static long pte(TestCpu t, long va) {
        // walk the test's 4-level tables to the PTE address
        var mem = t.machine.memory();
        long table = 0x1000;
        for (int level = 4; level > 1; level--) {
            long e = mem.read64(table + ((va >>> (12 + 9 * (level - 1))) & 0x1FF) * 8);
            table = e & 0x000FFFFFFFFFF000L;
        }
        return table + ((va >>> 12) & 0x1FF) * 8;
    }

    @Test
    void notPresentReadAndWriteReportCr2AndErrorCode() {
        TestCpu t = new TestCpu();
        t.cpu.r[Cpu.RBX] = 0x7F00_0000_0000L + 0x123; // nothing mapped there
        assertEquals(CpuFault.PF, t.exec(TestCpu.assemble("mov (%rbx), %rax")));
        assertEquals(0, t.faultError);
        assertEquals(0x7F00_0000_0123L, t.cpu.cr2);
        assertEquals(TestCpu.CODE, t.faultRip, "a fault reports the faulting instruction");
        assertEquals(CpuFault.PF, t.exec(TestCpu.assemble("movb $1, (%rbx)")));
        assertEquals(2, t.faultError, "W/R set for a write");
    }

    @Test
    void accessedAndDirtyBitsAreSetByTheWalk() {
        TestCpu t = new TestCpu();
        t.map4k(VA, PA, true, true, false);
        long pteAddr = pte(t, VA);
        t.cpu.r[Cpu.RBX] = VA;
        assertEquals(-1, t.exec(TestCpu.assemble("mov (%rbx), %rax")));
        long e = t.machine.memory().read64(pteAddr);
        assertEquals(0x20, e & 0x60, "accessed, not dirty after a read");
        assertEquals(-1, t.exec(TestCpu.assemble("movq $5, (%rbx)")));
        e = t.machine.memory().read64(pteAddr);
        assertEquals(0x60, e & 0x60, "dirty after the first write");
        assertEquals(5, t.machine.memory().read64(PA));
    }

    @Test
    void writeProtectAppliesToSupervisorOnlyWithCr0Wp() {
        TestCpu t = new TestCpu();
        t.map4k(VA, PA, true, false, false);
        t.cpu.r[Cpu.RBX] = VA;
        assertEquals(CpuFault.PF, t.exec(TestCpu.assemble("movq $1, (%rbx)")));
        assertEquals(3, t.faultError, "present + write");
        t.cpu.cr0 &= ~Cpu.CR0_WP;
        t.cpu.flushTlb();
        assertEquals(-1, t.exec(TestCpu.assemble("movq $1, (%rbx)")), "CR0.WP=0 lets the supervisor write");
        assertEquals(1, t.machine.memory().read64(PA));
    }

    @Test
    void noExecuteFetchFaultsWithInstructionFetchBit() {
        TestCpu t = new TestCpu();
        t.cpu.efer |= Cpu.EFER_NXE;
        t.map4k(VA, PA, false, true, true);
        t.machine.memory().write8(PA, 0x90);
        int v = t.run(VA, VA + 1, 10);
        assertEquals(CpuFault.PF, v);
        assertEquals(0x11, t.faultError, "present + instruction fetch");
        assertEquals(VA, t.cpu.cr2);
    }

    @Test
    void userAccessToSupervisorPageFaultsAtCpl3() {
        TestCpu t = new TestCpu();
        t.map4k(VA, PA, false, true, false);
        t.cpu.seg[Segment.CS].set(0x2B, 0, 0xFFFFFFFFL, 0xA0FB);
        t.cpu.seg[Segment.SS].set(0x33, 0, 0xFFFFFFFFL, 0xC0F3);
        t.cpu.cpl = 3;
        t.cpu.modeChanged();
        t.cpu.r[Cpu.RBX] = VA;
        assertEquals(CpuFault.PF, t.exec(TestCpu.assemble("mov (%rbx), %rax")));
        assertEquals(5, t.faultError, "present + user");
    }

    @Test
    void staleTranslationIsUsedUntilInvlpg() {
        TestCpu t = new TestCpu();
        t.map4k(VA, PA, true, true, false);
        t.machine.memory().write64(PA, 111);
        t.machine.memory().write64(PA + 0x1000, 222);
        t.cpu.r[Cpu.RBX] = VA;
        assertEquals(-1, t.exec(TestCpu.assemble("mov (%rbx), %rax")));
        assertEquals(111, t.cpu.r[Cpu.RAX]);
        long pteAddr = pte(t, VA);
        t.machine.memory().write64(pteAddr, (PA + 0x1000) | 0x67);
        assertEquals(-1, t.exec(TestCpu.assemble("mov (%rbx), %rax")));
        assertEquals(111, t.cpu.r[Cpu.RAX], "the TLB still holds the old translation (SDM 4.10.4.4)");
        assertEquals(-1, t.exec(TestCpu.assemble("invlpg (%rbx)\nmov (%rbx), %rax")));
        assertEquals(222, t.cpu.r[Cpu.RAX]);
    }

    @Test
    void nonCanonicalAccessIsGpOrSs() {
        TestCpu t = new TestCpu();
        t.cpu.r[Cpu.RBX] = 0x8000_0000_0000_0000L;
        assertEquals(CpuFault.GP, t.exec(TestCpu.assemble("mov (%rbx), %rax")));
        t.cpu.r[Cpu.RBP] = 0x0000_8000_0000_0000L;
        assertEquals(CpuFault.SS, t.exec(TestCpu.assemble("mov (%rbp), %rax")), "RBP-based addressing uses SS");
    }

    @Test
    void selfModifyingCodeIsSeen() {
        TestCpu t = new TestCpu();
        // overwrite the immediate of the following instruction, then execute it
        byte[] code = TestCpu.assemble("movb $0x42, target+1(%rip)\ntarget: mov $0x11, %al\nnop");
        assertEquals(-1, t.exec(code));
        assertEquals(0x42, t.cpu.r[Cpu.RAX] & 0xFF);
        // run the same (now modified) bytes again from the cache: still the new value
        t.cpu.r[Cpu.RAX] = 0;
        assertEquals(-1, t.run(TestCpu.CODE + 7, TestCpu.CODE + code.length, 10));
        assertNotEquals(0x11, t.cpu.r[Cpu.RAX] & 0xFF);
    }

    @Test
    void oneGigabytePagesMapWithTheirOffset() {
        TestCpu t = new TestCpu();
        var mem = t.machine.memory();
        // PML4[1] (512 GiB) -> a PDPT whose entry 3 maps a 1 GiB page at physical 0 (PS=1)
        long pdpt = 0x3800000;
        for (int i = 0; i < 512; i++) mem.write64(pdpt + 8L * i, 0);
        mem.write64(0x1000 + 8, pdpt | 7);
        mem.write64(pdpt + 8 * 3, 0x0 | 0x87);
        long va = (1L << 39) + (3L << 30) + 0x0123_4560L;
        mem.write64(0x0123_4560L, 0xABCDEF);
        t.cpu.r[Cpu.RBX] = va;
        assertEquals(-1, t.exec(TestCpu.assemble("mov (%rbx), %rax")));
        assertEquals(0xABCDEF, t.cpu.r[Cpu.RAX]);
        // bits 29:13 of a 1 GiB PDPTE are reserved
        mem.write64(pdpt + 8 * 3, 0x2000 | 0x87);
        t.cpu.flushTlb();
        assertEquals(CpuFault.PF, t.exec(TestCpu.assemble("mov (%rbx), %rax")));
        assertEquals(0x9, t.faultError, "present + reserved bit");
    }
}
