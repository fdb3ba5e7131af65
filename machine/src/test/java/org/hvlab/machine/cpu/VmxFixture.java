package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;

/** Shared set-up of VMX tests: VMX root operation with a current VMCS, and a VMCS that enters a flat 64-bit guest. */
final class VmxFixture {
    static final long VMXON = 0x600000, VMCS = 0x601000, PTR = 0x610000, HOST_RIP = 0x530000, HOST_RSP = 0x7F000;

    private VmxFixture() {}

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
        v.set(0x4000, p.vmx(0x48D) & 0xFFFFFFFFL);
        v.set(0x4002, p.vmx(0x48E) & 0xFFFFFFFFL);
        v.set(0x400C, (p.vmx(0x48F) & 0xFFFFFFFFL) | VmEntryChecks.EXIT_HOST_64);
        v.set(0x4012, (p.vmx(0x490) & 0xFFFFFFFFL) | VmEntryChecks.ENTRY_IA32E_GUEST);
        v.set(0x6C00, c.cr0);
        v.set(0x6C04, c.cr4);
        v.set(0x6C02, c.cr3);
        v.set(0x0C02, 0x08);
        v.set(0x0C04, 0x10);
        v.set(0x0C0C, 0x28);
        v.set(0x6C16, HOST_RIP);
        v.set(0x6C14, HOST_RSP);
        v.set(0x6800, c.cr0);
        v.set(0x6804, c.cr4);
        v.set(0x6802, c.cr3);
        for (int s = 0; s < 6; s++) {
            v.set(VmEntry.SEL[s], c.seg[s].selector);
            v.set(VmEntry.BASE[s], c.seg[s].base);
            v.set(VmEntry.LIMIT[s], c.seg[s].limit);
            v.set(VmEntry.AR[s], c.seg[s].attr);
        }
        v.set(0x4820, 0x10000); // LDTR unusable
        v.set(0x480E, 0x67);    // TR: a busy 64-bit TSS
        v.set(0x4822, 0x8B);
        v.set(0x4810, c.gdtrLimit);
        v.set(0x6816, c.gdtrBase);
        v.set(0x681E, guestRip);
        v.set(0x681C, 0x90000);
        v.set(0x6820, 2);
        v.set(0x2800, -1L);
    }
}
