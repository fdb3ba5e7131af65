package org.hvlab.machine.apic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.cpu.CpuFault;
import org.hvlab.machine.sched.RoundRobin;
import org.junit.jupiter.api.Test;

/** xAPIC MMIO and x2APIC MSRs, IPI shorthands and destinations, priorities and EOI (SDM Vol.3A chapter 10). */
class LocalApicTest {
    final Machine m = new Machine(new MachineConfig(4, 64L << 20, 1000, new RoundRobin(10)), null);

    LocalApic apic(int i) {
        return m.cpu(i).apic;
    }

    void enable(int i) {
        apic(i).mmioWrite(0xFEE000F0L, 4, 0x1FF);
    }

    @Test
    void idAndVersionThroughMmio() {
        assertEquals(2L << 24, apic(2).mmioRead(0xFEE00020L, 4));
        assertEquals(0x00060014L, apic(0).mmioRead(0xFEE00030L, 4));
        assertEquals(0xFEE00900L, apic(0).apicBase(), "BSP flag on CPU 0");
        assertEquals(0xFEE00800L, apic(1).apicBase());
    }

    @Test
    void nmiIpiToAllExcludingSelf() {
        apic(1).mmioWrite(0xFEE00300L, 4, 0x000C4400);
        assertTrue(m.cpu(0).nmiPending);
        assertFalse(m.cpu(1).nmiPending);
        assertTrue(m.cpu(2).nmiPending && m.cpu(3).nmiPending);
    }

    @Test
    void fixedIpiPhysicalDestinationAndPriority() {
        enable(3);
        apic(0).mmioWrite(0xFEE00310L, 4, 3 << 24);
        apic(0).mmioWrite(0xFEE00300L, 4, 0x41);
        assertTrue(apic(3).hasPendingInterrupt());
        assertFalse(apic(2).hasPendingInterrupt());
        apic(3).setTpr(0x50);
        assertFalse(apic(3).hasPendingInterrupt(), "TPR class 5 masks vector 0x41");
        apic(3).setTpr(0);
        assertEquals(0x41, apic(3).acknowledge());
        assertEquals(1L << 1, apic(3).mmioRead(0xFEE00100L + 0x20, 4), "ISR bit 0x41");
        apic(0).mmioWrite(0xFEE00300L, 4, 0x42);
        assertFalse(apic(3).hasPendingInterrupt(), "0x42 is in the same priority class as the in-service 0x41");
        apic(3).mmioWrite(0xFEE000B0L, 4, 0); // EOI
        assertEquals(0x42, apic(3).acknowledge());
    }

    @Test
    void softwareDisabledApicDropsFixedButTakesNmi() {
        apic(0).mmioWrite(0xFEE00310L, 4, 1 << 24);
        apic(0).mmioWrite(0xFEE00300L, 4, 0x41);
        assertFalse(apic(1).hasPendingInterrupt());
        apic(0).mmioWrite(0xFEE00300L, 4, 0x400);
        assertTrue(m.cpu(1).nmiPending);
    }

    @Test
    void x2apicMsrsAndSelfIpi() {
        Cpu c = m.cpu(1);
        c.msrs.write(0x1B, 0xFEE00000L | (1 << 11) | (1 << 10));
        assertTrue(apic(1).x2apic());
        assertFalse(apic(1).mmioHit(0xFEE00000L), "the MMIO page is gone in x2APIC mode");
        assertEquals(1, c.msrs.read(0x802), "x2APIC ID is the full ID");
        assertEquals(0x2, c.msrs.read(0x80D), "logical ID: cluster 0 (ID[19:4]) in 31:16, bit ID[3:0] = 1");
        c.msrs.write(0x80F, 0x1FF);
        c.msrs.write(0x83F, 0x61); // SELF IPI
        assertEquals(0x61, apic(1).acknowledge());
        c.msrs.write(0x830, (2L << 32) | 0x400); // NMI to x2APIC ID 2
        assertTrue(m.cpu(2).nmiPending);
        assertThrows(CpuFault.class, () -> c.msrs.write(0x802, 5), "the ID is read-only");
        assertThrows(CpuFault.class, () -> m.cpu(0).msrs.read(0x802), "x2APIC MSRs need x2APIC mode");
    }

    @Test
    void initThenSipiStartsAnAp() {
        apic(0).mmioWrite(0xFEE00310L, 4, 2 << 24);
        apic(0).mmioWrite(0xFEE00300L, 4, 0x4500);
        apic(0).mmioWrite(0xFEE00300L, 4, 0x4612);
        Cpu c = m.cpu(2);
        assertTrue(c.runnable());
        c.run(1);
        assertEquals(0x1200, c.seg[1].selector, "CS = vector << 8");
        assertEquals(0x12000, c.seg[1].base);
        assertFalse(m.cpu(1).runnable(), "others still wait for SIPI");
    }
}
