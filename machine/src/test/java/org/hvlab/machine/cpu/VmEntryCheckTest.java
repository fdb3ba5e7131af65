package org.hvlab.machine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** VMLAUNCH/VMRESUME checks that end in VMfail, in the SDM's order (26.1, 26.2.1, 26.2.2, 26.2.4; VMX-FACTS.md). */
class VmEntryCheckTest {
    static final long VMXON = 0x600000, VMCS = 0x601000, PTR = 0x610000;
    static final long CF = 1, ZF = 0x40, ARITH = 0x8D5;
    TestCpu t;
    Cpu c;
    Vmcs v;

    @BeforeEach
    void setUp() {
        t = new TestCpu();
        c = t.cpu;
        var m = t.machine.memory();
        m.write32(VMXON, 0x11e57ed0);
        m.write32(VMCS, 0x11e57ed0);
        c.cr4 |= Cpu.CR4_VMXE;
        m.write64(PTR, VMXON);
        m.write64(PTR + 8, VMCS);
        c.r[Cpu.RBX] = PTR;
        assertEquals(-1, t.exec(TestCpu.assemble("vmxon (%rbx)\nvmclear 8(%rbx)\nvmptrld 8(%rbx)")));
        v = c.vmx.current;
        validControlsAndHost(c.profile);
    }

    /** The minimum legal controls (the allowed-0 bits) and this CPU's 64-bit host state. */
    void validControlsAndHost(CpuProfile p) {
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
        v.set(0x6C16, 0x200000);
    }

    long launch(String insn) {
        c.setRflags(2);
        int f = t.exec(TestCpu.assemble(insn));
        if (f == CpuFault.UD) return -1; // passed every check modelled so far
        assertEquals(-1, f, insn);
        return c.rflags() & ARITH;
    }

    long error() {
        return v.get(0x4400);
    }

    @Test
    void validVmcsPassesTheVmfailChecks() {
        assertEquals(-1, launch("vmlaunch"), "reaches the guest-state checks (not modelled yet: #UD)");
    }

    @Test
    void launchState() {
        assertEquals(ZF, launch("vmresume"));
        assertEquals(5, error(), "VMRESUME with non-launched VMCS");
        v.launched = true;
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(4, error(), "VMLAUNCH with non-clear VMCS");
    }

    @Test
    void movSsBlockingComesBeforeLaunchState() {
        assertEquals(ZF, launch("mov %ss, %ax\nmov %ax, %ss\nvmresume"));
        assertEquals(26, error(), "VM entry with events blocked by MOV SS");
    }

    @Test
    void noCurrentVmcs() {
        assertEquals(-1, t.exec(TestCpu.assemble("vmclear 8(%rbx)")));
        c.setRflags(2);
        assertEquals(-1, t.exec(TestCpu.assemble("vmlaunch")));
        assertEquals(CF, c.rflags() & ARITH, "VMfailInvalid");
    }

    @Test
    void nmiControlDependencies() {
        v.set(0x4000, v.get(0x4000) | VmEntryChecks.PIN_VIRTUAL_NMIS);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "virtual NMIs require NMI exiting");
        v.set(0x4000, v.get(0x4000) & ~VmEntryChecks.PIN_VIRTUAL_NMIS);
        v.set(0x4002, v.get(0x4002) | VmEntryChecks.PROC_NMI_WINDOW);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "NMI-window exiting requires virtual NMIs");
        v.set(0x4000, v.get(0x4000) | VmEntryChecks.PIN_VIRTUAL_NMIS | VmEntryChecks.PIN_NMI_EXITING);
        assertEquals(-1, launch("vmlaunch"), "NMI exiting + virtual NMIs + NMI window is legal");
    }

    @Test
    void reservedControlBitsAndEntryInterruptionInfo() {
        v.set(0x4000, 0);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "a must-be-1 pin-based bit is 0");
        validControlsAndHost(c.profile);
        v.set(0x4016, 0x80000203L); // NMI type with vector 3
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error());
        v.set(0x4016, 0x80000302L); // hardware exception, vector 2, no error code: legal
        assertEquals(-1, launch("vmlaunch"));
        v.set(0x4016, 0x8000030EL); // #PF without deliver-error-code
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "#PF must deliver an error code");
        v.set(0x4016, 0x80000B0EL);
        assertEquals(-1, launch("vmlaunch"), "0x80000b0e is a well-formed #PF injection");
        v.set(0x4016, 0x80000403L); // software interrupt with instruction length 0
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "software events need an instruction length 1-15 on this profile");
    }

    @Test
    void msrListAddressesMustBe16ByteAligned() {
        v.set(0x4014, 2);
        v.set(0x200A, 0x700008);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error());
        v.set(0x200A, 0x700010);
        assertEquals(-1, launch("vmlaunch"));
    }

    @Test
    void hostState() {
        v.set(0x0C02, 0);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(8, error(), "host CS selector 0");
        v.set(0x0C02, 0x0B);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(8, error(), "host selector with RPL");
        v.set(0x0C02, 0x08);
        v.set(0x6C16, 0x8000_0000_0000_0000L);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(8, error(), "non-canonical host RIP");
        v.set(0x6C16, 0x200000);
        v.set(0x400C, v.get(0x400C) & ~VmEntryChecks.EXIT_HOST_64);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(8, error(), "a 64-bit host needs host address-space size");
    }

    @Test
    void the32BitProfileCannotEnterFromA64BitHost() throws Exception {
        CpuProfile i386 = CpuProfile.load("kvm-2022-i386");
        // its allowed-1 exit controls lack bit 9, so the only legal setting fails the host check
        v.set(0x400C, i386.vmx(0x48F) & 0xFFFFFFFFL);
        assertEquals(0, VmEntryChecks.controls(v, i386, 39));
        assertEquals(8, VmEntryChecks.hostState(v, i386, 39, true), "SDM 26.2.4: IA-32e host needs host address-space size");
        v.set(0x400C, v.get(0x400C) | VmEntryChecks.EXIT_HOST_64);
        assertEquals(7, VmEntryChecks.controls(v, i386, 39), "bit 9 is not allowed by kvm-2022-i386");
    }
}
