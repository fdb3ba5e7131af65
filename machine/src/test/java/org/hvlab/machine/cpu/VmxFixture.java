package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;

/** Shared set-up of VMX tests: VMX root operation with a current VMCS, and a VMCS that enters a flat 64-bit guest. */
final class VmxFixture {
    static final long VMXON = 0x600000, VMCS = 0x601000, PTR = 0x610000, HOST_CODE = 0x530000, HOST_STACK = 0x7F000;

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
}
