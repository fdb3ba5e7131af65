package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** VMLAUNCH/VMRESUME checks that end in VMfail, in the SDM's order (26.1, 26.2.1, 26.2.2, 26.2.4; docs/vmx-facts.md). */
class VmEntryCheckTest {
    static final long VMCS = VmxTestBed.VMCS;
    static final long CF = 1, ZF = 0x40, ARITH = 0x8D5;
    TestCpu t;
    Cpu c;
    Vmcs v;

    @BeforeEach
    void setUp() {
        VmxTestBed bed = new VmxTestBed(CpuProfile.defaultProfile(), 0x300000);
        t = bed.t;
        c = bed.c;
        v = bed.v;
        t.observerOn(); // these tests look at the faults VMX instructions raise
    }

    static final long HOST_CODE = VmxTestBed.HOST_CODE;

    /** Runs the code; -1 when VM entry passed every check (the guest was entered, or injection, not modelled yet, raised #UD). */
    long launch(String insn) {
        byte[] code = TestCpu.assemble(insn);
        t.load(TestCpu.CODE, code);
        c.rip = TestCpu.CODE;
        c.vmx.nonRoot = false;
        c.activity = Cpu.ACTIVE; // an earlier #UD without an IDT ended in shutdown
        c.stopRequested = false;
        c.setRflags(2);
        t.faultVector = -1;
        v.set(EXIT_REASON, 0xFFFF); // marker: any real exit overwrites it
        for (int i = 0; i < 10 && c.rip != TestCpu.CODE + code.length; i++) {
            c.run(1);
            long reason = v.get(EXIT_REASON);
            if (c.vmx.nonRoot || (reason != 0xFFFF && (reason & 0x80000000L) == 0)) { // entered (maybe exited again)
                c.vmx.nonRoot = false;
                v.launched = false; // the next attempt starts from a clear VMCS again
                return -1;
            }
            if (t.faultVector == CpuFault.UD) return -1;
            assertEquals(-1, t.faultVector, insn);
        }
        return c.rflags() & ARITH;
    }

    long error() {
        return v.get(VM_INSTRUCTION_ERROR);
    }

    /** The check the last entry failed, as "SECTION: sentence" (the failure names its check, issue 12 item 3). */
    String check() {
        org.hvlab.machine.vmx.EntryCheckFailure f = c.vmx.lastEntryFailure;
        return f == null ? "(none)" : f.section() + ": " + f.check();
    }

    @Test
    void validVmcsPassesTheVmfailChecks() {
        assertEquals(-1, launch("vmlaunch"), "passes every check and enters the guest");
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
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_VIRTUAL_NMIS);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "virtual NMIs require NMI exiting");
        assertEquals("26.2.1.1: virtual NMIs without NMI exiting", check());
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) & ~VmxControls.PIN_VIRTUAL_NMIS);
        v.set(PROC_BASED_CONTROLS, v.get(PROC_BASED_CONTROLS) | VmxControls.PROC_NMI_WINDOW);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "NMI-window exiting requires virtual NMIs");
        assertEquals("26.2.1.1: NMI-window exiting without virtual NMIs", check());
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_VIRTUAL_NMIS | VmxControls.PIN_NMI_EXITING);
        assertEquals(-1, launch("vmlaunch"), "NMI exiting + virtual NMIs + NMI window is legal");
        assertEquals("(none)", check());
    }

    @Test
    void reservedControlBitsAndEntryInterruptionInfo() {
        v.set(PIN_BASED_CONTROLS, 0);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "a must-be-1 pin-based bit is 0");
        VmxTestBed.validVmcs(c, v, 0x300000);
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000203L); // NMI type with vector 3
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error());
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000302L); // hardware exception, vector 2, no error code: legal
        assertEquals(-1, launch("vmlaunch"));
        v.set(ENTRY_INTERRUPTION_INFO, 0x8000030EL); // #PF without deliver-error-code
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "#PF must deliver an error code");
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000B0EL);
        assertEquals(-1, launch("vmlaunch"), "0x80000b0e is a well-formed #PF injection");
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000403L); // software interrupt with instruction length 0
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error(), "software events need an instruction length 1-15 on this profile");
    }

    @Test
    void msrListAddressesMustBe16ByteAligned() {
        v.set(ENTRY_MSR_LOAD_COUNT, 2);
        v.set(ENTRY_MSR_LOAD_ADDRESS, 0x700008);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(7, error());
        for (int i = 0; i < 2; i++) {
            t.machine.memory().write32(0x700010 + 16L * i, 0x277); // IA32_PAT, a loadable MSR
            t.machine.memory().write64(0x700018 + 16L * i, 0x0007040600070406L);
        }
        v.set(ENTRY_MSR_LOAD_ADDRESS, 0x700010);
        assertEquals(-1, launch("vmlaunch"));
    }

    /** A failed entry names its check on the timeline, which the report shows (issue 12 item 3). */
    @Test
    void aFailedEntryNamesItsCheckInTheTrace() {
        var trace = new org.hvlab.machine.trace.Trace(() -> 0L);
        c.bus.subscribe(trace::on);
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_VIRTUAL_NMIS);
        assertEquals(ZF, launch("vmlaunch"));
        var e = trace.events().stream().filter(x -> x.name().equals("VM entry failed")).findFirst().orElseThrow();
        assertEquals("VMfailValid(7) VM entry with invalid control field(s): SDM Vol.3C 26.2.1.1: virtual NMIs without NMI exiting", e.detail());
    }

    @Test
    void hostState() {
        v.set(HOST_CS_SELECTOR, 0);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(8, error(), "host CS selector 0");
        assertEquals("26.2.3: host CS or TR selector 0", check());
        v.set(HOST_CS_SELECTOR, 0x0B);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(8, error(), "host selector with RPL");
        assertEquals("26.2.3: a host selector with RPL or TI set", check());
        v.set(HOST_CS_SELECTOR, 0x08);
        v.set(HOST_RIP, 0x8000_0000_0000_0000L);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(8, error(), "non-canonical host RIP");
        assertEquals("26.2.4: host RIP not canonical", check());
        v.set(HOST_RIP, HOST_CODE);
        v.set(EXIT_CONTROLS, v.get(EXIT_CONTROLS) & ~VmxControls.EXIT_HOST_ADDRESS_SPACE_SIZE);
        assertEquals(ZF, launch("vmlaunch"));
        assertEquals(8, error(), "a 64-bit host needs host address-space size");
        assertEquals("26.2.4: IA-32e mode host without host address-space size", check());
    }

    @Test
    void the32BitProfileCannotEnterFromA64BitHost() throws Exception {
        CpuProfile i386 = CpuProfile.load("kvm-2022-i386");
        // its allowed-1 exit controls lack bit 9, so the only legal setting fails the host check
        v.set(EXIT_CONTROLS, i386.vmx(0x48F) & 0xFFFFFFFFL);
        assertNull(VmEntryChecks.controls(v, i386, 39));
        var host = VmEntryChecks.hostState(v, i386, 39, true);
        assertEquals(org.hvlab.machine.vmx.VmInstructionError.INVALID_HOST_STATE, host.error(), "SDM 26.2.4: IA-32e host needs host address-space size");
        assertEquals("IA-32e mode host without host address-space size", host.check());
        v.set(EXIT_CONTROLS, v.get(EXIT_CONTROLS) | VmxControls.EXIT_HOST_ADDRESS_SPACE_SIZE);
        var ctl = VmEntryChecks.controls(v, i386, 39);
        assertEquals(org.hvlab.machine.vmx.VmInstructionError.INVALID_CONTROL_FIELDS, ctl.error(), "bit 9 is not allowed by kvm-2022-i386");
        assertEquals("26.2.1.2", ctl.section());
        assertEquals("VMfailValid(7) VM entry with invalid control field(s): SDM Vol.3C 26.2.1.2: VM-exit controls outside what IA32_VMX_TRUE_EXIT_CTLS allows",
                ctl.render());
    }

    /** Runs VMLAUNCH alone; returns true if it was a failed entry (execution continues at host RIP). */
    boolean failedEntry() {
        t.load(TestCpu.CODE, TestCpu.assemble("vmlaunch"));
        t.load(HOST_CODE, TestCpu.assemble("hlt"));
        c.rip = TestCpu.CODE;
        c.setRflags(0x8D7);
        v.set(EXIT_REASON, 0);
        c.run(1);
        return (v.get(EXIT_REASON) & 0x80000000L) != 0; // a failed entry sets bit 31 of the exit reason
    }

    @Test
    void invalidGuestStateIsAFailedEntryToTheHost() {
        v.set(GUEST_CR0, c.cr0 & ~Cpu.CR0_NE); // guest CR0.NE is fixed to 1
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000202L);
        assertEquals(true, failedEntry());
        assertEquals(0x80000021L, v.get(EXIT_REASON), "exit reason: VM-entry failure, invalid guest state");
        assertEquals(0, v.get(EXIT_QUALIFICATION), "qualification");
        assertEquals("26.3.1.1: guest CR0 against IA32_VMX_CR0_FIXED0/FIXED1", check());
        assertEquals(0x80000202L, v.get(ENTRY_INTERRUPTION_INFO), "the entry interruption-information valid bit is left alone");
        assertEquals(false, v.launched, "launch state unchanged");
        assertEquals(0x7F000, c.r[Cpu.RSP], "host RSP");
        assertEquals(2, c.rflags(), "RFLAGS = 2 after loading host state");
        assertEquals(0x08, c.seg[Segment.CS].selector);
        assertEquals(0x400, c.dr[7]);
    }

    @Test
    void nmiInjectionRulesFromVmxFacts() {
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000202L);
        v.set(GUEST_RFLAGS, 0x202);
        v.set(GUEST_INTERRUPTIBILITY, 1); // blocking by STI
        assertEquals(true, failedEntry());
        assertEquals(3, v.get(EXIT_QUALIFICATION), "NMI injection under STI blocking: qualification 3 on this profile");
        assertEquals("26.3.1.5: NMI injection under blocking by STI (this profile refuses it)", check());
        v.set(GUEST_INTERRUPTIBILITY, 8); // blocking by NMI
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) | VmxControls.PIN_NMI_EXITING | VmxControls.PIN_VIRTUAL_NMIS);
        assertEquals(true, failedEntry(), "with virtual NMIs, injecting an NMI needs no virtual-NMI blocking");
        assertEquals("26.3.1.5: NMI injection with virtual NMIs while virtual-NMI blocking is set", check());
        assertEquals(0x80000021L, v.get(EXIT_REASON));
        v.set(PIN_BASED_CONTROLS, v.get(PIN_BASED_CONTROLS) & ~(VmxControls.PIN_NMI_EXITING | VmxControls.PIN_VIRTUAL_NMIS));
        assertEquals(false, failedEntry(), "without virtual NMIs there is no such check (seed 000's hole)");
    }

    @Test
    void activityAndInterruptibility() {
        v.set(GUEST_ACTIVITY_STATE, 3); // wait-for-SIPI: not in this profile's IA32_VMX_MISC bits 8:6
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.5: activity state 3 not supported (IA32_VMX_MISC)", check());
        v.set(GUEST_ACTIVITY_STATE, 1); // HLT with an STI shadow
        v.set(GUEST_RFLAGS, 0x202);
        v.set(GUEST_INTERRUPTIBILITY, 1);
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.5: blocking by STI or MOV SS in an activity state other than active", check());
        v.set(GUEST_INTERRUPTIBILITY, 3); // STI and MOV SS together
        v.set(GUEST_ACTIVITY_STATE, 0);
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.5: blocking by STI and by MOV SS together", check());
        v.set(GUEST_INTERRUPTIBILITY, 0);
        v.set(ENTRY_INTERRUPTION_INFO, 0x80000030L); // external interrupt with IF = 0
        v.set(GUEST_RFLAGS, 2);
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.4: external-interrupt injection with RFLAGS.IF clear", check());
    }

    @Test
    void linkPointerQualification() {
        v.set(VMCS_LINK_POINTER, 0x123);
        assertEquals(true, failedEntry());
        assertEquals(4, v.get(EXIT_QUALIFICATION));
        assertEquals("26.3.1.5: VMCS link pointer not 4-KByte aligned or beyond the physical-address width", check());
        v.set(VMCS_LINK_POINTER, 0x720000); // aligned, but no VMCS revision there
        assertEquals(true, failedEntry());
        assertEquals(4, v.get(EXIT_QUALIFICATION));
        assertTrue(check().startsWith("26.3.1.5: the VMCS the link pointer names has another revision identifier"), check());
        t.machine.memory().write32(0x720000, 0x11e57ed0);
        assertEquals(false, failedEntry(), "a link pointer naming an ordinary VMCS without shadowing is valid");
    }

    @Test
    void exitMsrLoadFailureIsAVmxAbort() {
        var m = t.machine.memory();
        m.write32(0x700000, 0xC0000100); // FS_BASE may not appear in an MSR-load list
        m.write64(0x700008, 0);
        v.set(EXIT_MSR_LOAD_ADDRESS, 0x700000);
        v.set(EXIT_MSR_LOAD_COUNT, 1);
        v.set(GUEST_CR0, 0); // fail the entry so the exit path runs
        failedEntry();
        assertEquals(Cpu.SHUTDOWN, c.activity);
        assertEquals(4, m.read32(VMCS + 4), "VMX-abort indicator 4: failure loading an MSR on VM exit");
    }

    void msrList(long... indexValue) {
        var m = t.machine.memory();
        for (int i = 0; i < indexValue.length / 2; i++) {
            m.write32(0x710000 + 16L * i, (int) indexValue[2 * i]);
            m.write32(0x710004 + 16L * i, 0);
            m.write64(0x710008 + 16L * i, indexValue[2 * i + 1]);
        }
        v.set(ENTRY_MSR_LOAD_ADDRESS, 0x710000);
        v.set(ENTRY_MSR_LOAD_COUNT, indexValue.length / 2);
    }

    @Test
    void entryMsrListLoadsUpToTheFailingEntry() {
        // seed 003: [MTRR1, 0xdead, MTRR2] -> hardware loads MTRR1 and fails on entry 2
        msrList(0x202, 0x0000000080000006L, 0xdead, 0, 0x204, 0x00000000C0000006L);
        assertEquals(true, failedEntry());
        assertEquals(0x80000022L, v.get(EXIT_REASON), "VM-entry failure during MSR loading");
        assertEquals(2, v.get(EXIT_QUALIFICATION), "qualification: 1-based index of the failing entry");
        assertEquals(0x80000006L, c.msrs.read(0x202), "the entry before it stays loaded");
        assertEquals(0, c.msrs.read(0x204), "the entry after it is not loaded");
    }

    @Test
    void fsBaseInAnEntryMsrListFails() {
        msrList(0x277, 0x0007040600070406L, 0xC0000100L, 0x1000);
        assertEquals(true, failedEntry());
        assertEquals(2, v.get(EXIT_QUALIFICATION), "FS_BASE may not be loaded from an MSR list");
    }

    @Test
    void aListLongerThanTheMaximumFailsAtTheFirstEntryPastIt() {
        // IA32_VMX_MISC[27:25] = 0 on this profile: at most 512 entries
        long[] l = new long[2 * 513];
        for (int i = 0; i < 513; i++) { l[2 * i] = 0x277; l[2 * i + 1] = 0x0007040600070406L; }
        msrList(l);
        v.set(ENTRY_MSR_LOAD_COUNT, 513);
        assertEquals(true, failedEntry());
        assertEquals(513, v.get(EXIT_QUALIFICATION));
    }

    @Test
    void segmentRegisterChecks() {
        v.set(GUEST_TR_ACCESS_RIGHTS, 0x89); // TR must be busy
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.2: TR type 9 is not a busy TSS (64-bit in IA-32e mode)", check());
        v.set(GUEST_TR_ACCESS_RIGHTS, 0x8B);
        v.set(GUEST_CS_ACCESS_RIGHTS, 0xA093); // CS as a data segment
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.2: CS type 3 is not an accessed code segment", check());
        v.set(GUEST_CS_ACCESS_RIGHTS, 0xE09B); // 64-bit CS with D/B set
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.2: CS with both L and D/B set in IA-32e mode", check());
        v.set(GUEST_CS_ACCESS_RIGHTS, 0xA09B);
        v.set(GUEST_SS_ACCESS_RIGHTS, 0xC0F3); // SS DPL 3 with CS DPL 0
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.2: non-conforming CS DPL differs from SS DPL", check());
        v.set(GUEST_SS_ACCESS_RIGHTS, 0xC093);
        v.set(GUEST_DS_ACCESS_RIGHTS, 0xC092); // DS not accessed
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.2: usable DS not accessed, or code that is not readable", check());
        v.set(GUEST_DS_ACCESS_RIGHTS, 0xC093);
        v.set(GUEST_GDTR_LIMIT, 0x10000); // GDTR limit above 16 bits
        assertEquals(true, failedEntry());
        assertEquals("26.3.1.3: guest GDTR or IDTR limit bits 31:16 set", check());
        v.set(GUEST_GDTR_LIMIT, 0x27);
        assertEquals(false, failedEntry(), "valid again");
    }
}
