package org.hvlab.machine.cpu;

import static org.hvlab.machine.vmx.VmcsFields.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.vmx.VmxControls;
import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.Vmcs;

/**
 * The one VMX test fixture: a CPU in VMX root operation with a current VMCS ({@link #enterVmxRoot})
 * that enters a flat 64-bit guest ({@link #validVmcs}), a host that halts at host RIP, and
 * helpers that execute VMLAUNCH/VMRESUME and run the guest to its exit.
 */
final class VmxTestBed {
    static final long GUEST = 0x520000;
    static final long VMXON = 0x600000, VMCS = 0x601000, PTR = 0x610000, HOST_CODE = 0x530000, HOST_STACK = 0x7F000;

    /** VMXON, VMCLEAR and VMPTRLD from assembled code; RBX points at the two region pointers. */
    static Vmcs enterVmxRoot(TestCpu t) {
        Cpu c = t.cpu;
        var m = t.machine.memory();
        int revision = c.profile.vmcsRevision();
        m.write32(VMXON, revision);
        m.write32(VMCS, revision);
        c.cr4 |= Cpu.CR4_VMXE;
        m.write64(PTR, VMXON);
        m.write64(PTR + 8, VMCS);
        c.r[Cpu.RBX] = PTR;
        assertEquals(-1, t.exec(TestCpu.assemble("vmxon (%rbx)\nvmclear 8(%rbx)\nvmptrld 8(%rbx)")));
        return c.vmx.current;
    }

    /**
     * The minimum legal controls (the allowed-0 bits of the TRUE capability MSRs), this CPU's
     * 64-bit host state, and a guest in the same flat 64-bit world at {@code guestRip}.
     */
    static void validVmcs(Cpu c, Vmcs v, long guestRip) {
        CpuProfile p = c.profile;
        v.set(PIN_BASED_CONTROLS, p.vmx(0x48D) & 0xFFFFFFFFL);
        v.set(PROC_BASED_CONTROLS, p.vmx(0x48E) & 0xFFFFFFFFL);
        v.set(EXIT_CONTROLS, (p.vmx(0x48F) & 0xFFFFFFFFL) | VmxControls.EXIT_HOST_ADDRESS_SPACE_SIZE);
        v.set(ENTRY_CONTROLS, (p.vmx(0x490) & 0xFFFFFFFFL) | VmxControls.ENTRY_IA32E_MODE_GUEST);
        v.set(HOST_CR0, c.cr0);
        v.set(HOST_CR4, c.cr4);
        v.set(HOST_CR3, c.cr3);
        v.set(HOST_CS_SELECTOR, 0x08);
        v.set(HOST_SS_SELECTOR, 0x10);
        v.set(HOST_TR_SELECTOR, 0x28);
        v.set(HOST_RIP, HOST_CODE);
        v.set(HOST_RSP, HOST_STACK);
        v.set(GUEST_CR0, c.cr0);
        v.set(GUEST_CR4, c.cr4);
        v.set(GUEST_CR3, c.cr3);
        for (int s = 0; s < 6; s++) {
            v.set(VmEntry.SEL[s], c.seg[s].selector);
            v.set(VmEntry.BASE[s], c.seg[s].base);
            v.set(VmEntry.LIMIT[s], c.seg[s].limit);
            v.set(VmEntry.AR[s], c.seg[s].attr);
        }
        v.set(GUEST_LDTR_ACCESS_RIGHTS, 0x10000); // LDTR unusable
        v.set(GUEST_TR_LIMIT, 0x67);    // TR: a busy 64-bit TSS
        v.set(GUEST_TR_ACCESS_RIGHTS, 0x8B);
        v.set(GUEST_GDTR_LIMIT, c.gdtrLimit);
        v.set(GUEST_GDTR_BASE, c.gdtrBase);
        v.set(GUEST_RIP, guestRip);
        v.set(GUEST_RSP, 0x90000);
        v.set(GUEST_RFLAGS, 2);
        v.set(VMCS_LINK_POINTER, -1L);
    }

    static final long HOST = HOST_CODE;
    final TestCpu t;
    final Cpu c;
    final Vmcs v;
    final PhysicalMemory m;

    VmxTestBed() {
        this(CpuProfile.defaultProfile(), GUEST);
    }

    VmxTestBed(CpuProfile profile, long guestRip) {
        t = new TestCpu(profile);
        c = t.cpu;
        m = t.machine.memory();
        v = enterVmxRoot(t);
        validVmcs(c, v, guestRip);
        t.load(HOST, TestCpu.assemble("hlt"));
        t.observerOff();
    }

    /** Executes {@code insn} (VMLAUNCH or VMRESUME) from TestCpu.CODE: one step. */
    void enter(String insn) {
        t.load(TestCpu.CODE, TestCpu.assemble(insn));
        c.rip = TestCpu.CODE;
        c.activity = Cpu.ACTIVE;
        c.run(1);
    }

    /**
     * Enters and runs the guest until it exits (at most {@code steps} steps); returns the exit
     * reason. An instruction exit stops at host RIP; a boundary exit (windows, MTF, timer) is
     * followed in the same step by the host's HLT, one byte further.
     */
    long run(String insn, int steps) {
        enter(insn);
        // entered; or entered and already exited (an injected event's delivery can exit at once)
        boolean exitedAtOnce = (c.rip == HOST || c.rip == HOST + 1) && (v.get(EXIT_REASON) & 0x80000000L) == 0;
        assertTrue(c.vmx.nonRoot || exitedAtOnce, "entered: reason 0x" + Long.toHexString(v.get(EXIT_REASON)) + " qualification " + v.get(EXIT_QUALIFICATION));
        for (int i = 0; i < steps && c.vmx.nonRoot; i++) c.run(1);
        assertFalse(c.vmx.nonRoot, "the guest exited; it is at rip=0x" + Long.toHexString(c.rip) + " activity " + c.activity);
        assertTrue(c.rip == HOST || c.rip == HOST + 1, "at host RIP");
        return v.get(EXIT_REASON);
    }

    long run(String insn) {
        return run(insn, 1000);
    }
}
