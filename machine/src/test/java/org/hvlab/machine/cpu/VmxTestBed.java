package org.hvlab.machine.cpu;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.Vmcs;

/**
 * The set-up the VMX run tests share: a CPU in VMX root operation with a current VMCS that
 * enters a flat 64-bit guest (VmxFixture), a host that halts at host RIP, and helpers that
 * execute VMLAUNCH/VMRESUME and run the guest to its exit.
 */
final class VmxTestBed {
    static final long GUEST = 0x520000, HOST = VmxFixture.HOST_CODE;
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
        v = VmxFixture.enterVmxRoot(t);
        VmxFixture.validVmcs(c, v, guestRip);
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
