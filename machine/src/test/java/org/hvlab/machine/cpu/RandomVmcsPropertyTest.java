package org.hvlab.machine.cpu;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmcsField;
import org.hvlab.machine.vmx.VmcsFields;

/**
 * A hostile guest hypervisor can put anything in a VMCS: VM entry must end in an architectural
 * result (VMfail, failed entry, entry followed by guest execution or exits, a fault), never a
 * Java exception (issue 3 "Bad input").
 */
class RandomVmcsPropertyTest {
    private static long mutated;

    @Property(tries = 1000)
    void vmEntryWithRandomVmcsIsArchitectural(@ForAll long seed) {
        TestCpu t = new TestCpu(); // a random guest may wreck anything, the page tables included
        t.observerOff();
        Cpu c = t.cpu;
        SplittableRandom rnd = new SplittableRandom(seed);
        var m = t.machine.memory();
        c.vmx.leave();
        c.activity = Cpu.ACTIVE;
        c.stopRequested = false;
        c.cr4 |= Cpu.CR4_VMXE;
        c.cr0 |= Cpu.CR0_NE;
        m.write32(0x600000, 0x11e57ed0);
        m.write32(0x601000, 0x11e57ed0);
        m.write64(0x610000, 0x600000);
        m.write64(0x610008, 0x601000);
        c.r[Cpu.RBX] = 0x610000;
        c.rip = TestCpu.CODE;
        t.load(TestCpu.CODE, TestCpu.assemble0());
        for (int i = 0; i < 3; i++) c.run(1); // vmxon, vmclear, vmptrld
        assertTrue(c.vmx.inVmxOperation);
        long launchRip = c.rip; // the VMLAUNCH
        Vmcs v = c.vmx.current;
        // random values; half the time start from something near-valid so entries get further
        for (VmcsField f : VmcsFields.all()) {
            long val = rnd.nextInt(4) == 0 ? 0 : rnd.nextLong();
            if (rnd.nextBoolean()) val &= rnd.nextBoolean() ? 0xFF : 0xFFFFFFFFL;
            v.set(f.encoding(), val);
        }
        if (rnd.nextBoolean()) {
            var p = c.profile;
            v.set(PIN_BASED_CONTROLS, (p.vmx(0x48D) & 0xFFFFFFFFL) | (rnd.nextLong() & (p.vmx(0x48D) >>> 32)));
            v.set(PROC_BASED_CONTROLS, (p.vmx(0x48E) & 0xFFFFFFFFL) | (rnd.nextLong() & (p.vmx(0x48E) >>> 32) & ~(1L << 31)));
            v.set(EXIT_CONTROLS, (p.vmx(0x48F) & 0xFFFFFFFFL) | (1 << 9));
            v.set(ENTRY_CONTROLS, (p.vmx(0x490) & 0xFFFFFFFFL) | (1 << 9));
            for (int enc : new int[] {0x400E, 0x4010, 0x4014, 0x400A}) v.set(enc, rnd.nextInt(3));
            v.set(HOST_CR0, c.cr0);
            v.set(HOST_CR4, c.cr4);
            v.set(HOST_CR3, 0x1000);
            v.set(HOST_CS_SELECTOR, 0x08);
            v.set(HOST_TR_SELECTOR, 0x28);
            for (int enc : new int[] {0x0C00, 0x0C04, 0x0C06, 0x0C08, 0x0C0A}) v.set(enc, 0x10);
            for (int enc : new int[] {0x6C06, 0x6C08, 0x6C0A, 0x6C0C, 0x6C0E, 0x6C10, 0x6C12}) v.set(enc, 0);
            v.set(HOST_RIP, TestCpu.CODE + 0x800);
            v.set(GUEST_CR0, c.cr0);
            v.set(GUEST_CR4, c.cr4);
            v.set(GUEST_RFLAGS, 2 | (rnd.nextLong() & 0x2D7));
            v.set(GUEST_RIP, 0x300000 + rnd.nextInt(0x1000));
            v.set(VMCS_LINK_POINTER, -1L);
            // addresses aligned, dependencies kept, nothing injected: the controls pass more often
            for (int enc : new int[] {0x2000, 0x2002, 0x2004, 0x2012}) v.set(enc, 0x640000 + 0x1000L * rnd.nextInt(4));
            for (int enc : new int[] {0x2006, 0x2008, 0x200A}) v.set(enc, 0x650000);
            long pin = v.get(PIN_BASED_CONTROLS);
            if ((pin & (1 << 5)) != 0) v.set(PIN_BASED_CONTROLS, pin | (1 << 3));
            if ((v.get(PIN_BASED_CONTROLS) & (1 << 5)) == 0) v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) & ~(1L << 22));
            if ((v.get(PIN_BASED_CONTROLS) & (1 << 6)) == 0) v.set(EXIT_CONTROLS, v.get(EXIT_CONTROLS) & ~(1L << 22));
            if (rnd.nextBoolean()) v.set(ENTRY_INTERRUPTION_INFO, 0);
            if (rnd.nextBoolean()) {
                for (int sg = 0; sg < 6; sg++) {
                    v.set(VmEntry.SEL[sg], c.seg[sg].selector);
                    v.set(VmEntry.BASE[sg], 0);
                    v.set(VmEntry.LIMIT[sg], c.seg[sg].limit);
                    v.set(VmEntry.AR[sg], c.seg[sg].attr);
                }
                v.set(GUEST_LDTR_ACCESS_RIGHTS, 0x10000);
                v.set(GUEST_TR_LIMIT, 0x67);
                v.set(GUEST_TR_ACCESS_RIGHTS, 0x8B);
                v.set(GUEST_TR_BASE, 0);
                v.set(GUEST_GDTR_LIMIT, 0x37);
                v.set(GUEST_IDTR_LIMIT, 0xFFF);
                v.set(GUEST_GDTR_BASE, 0x7000);
                v.set(GUEST_IDTR_BASE, 0);
                v.set(GUEST_CR3, 0x1000);
                v.set(GUEST_INTERRUPTIBILITY, 0);
                v.set(GUEST_ACTIVITY_STATE, 0);
                v.set(GUEST_SYSENTER_ESP, 0);
                v.set(GUEST_SYSENTER_EIP, 0);
                v.set(ENTRY_CONTROLS, v.get(ENTRY_CONTROLS) & ~((1L << 15) | (1L << 14) | (1L << 2)));
            }
            mutated++;
        }
        t.load(TestCpu.CODE + 0x800, new byte[] {(byte) 0xF4});
        byte[] junk = new byte[64];
        rnd.nextBytes(junk);
        t.load(0x300000, junk);
        c.rip = launchRip;
        v.set(EXIT_REASON, 0xFFFF);
        c.setRflags(2);
        c.run(1); // VMLAUNCH: any Java exception fails the property
        long reason = v.get(EXIT_REASON);
        long flags = c.rflags() & 0x41;
        if (c.vmx.nonRoot) entered++;
        else if (flags != 0) vmfail++;
        else if ((reason & 0x80000000L) != 0) failedEntry++;
        else if (reason != 0xFFFF) { entered++; exitedAtOnce++; }
        else faulted++;
        for (int i = 0; i < 40 && c.activity != Cpu.SHUTDOWN; i++) c.run(1); // guest code and exits, if entered
        assertTrue(c.vmx.inVmxOperation, "still in VMX operation");
    }

    private static long vmfail, failedEntry, entered, exitedAtOnce, faulted;

    @net.jqwik.api.lifecycle.AfterContainer
    static void everyKindOfOutcomeOccurred() {
        if (vmfail + failedEntry + entered + faulted == 0) return; // the property did not run (a filtered test run)
        System.out.printf("random VMCS: %d VMfail, %d failed entries, %d entries (%d exited at once), %d faults; %d near-valid%n",
                vmfail, failedEntry, entered, exitedAtOnce, faulted, mutated);
        assertTrue(vmfail > 0 && failedEntry > 0 && entered > 0, "the random VMCSs reach VMfail, failed entries and entries");
    }
}
