package org.hvlab.machine.cpu;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.vmx.CpuProfile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMCALL: faults and VM-instruction results (SDM Vol.3C 30). */
class VmxInstructionTest {
    static final long VMXON = 0x600000, VMCS_A = 0x601000, VMCS_B = 0x602000, PTR = 0x610000;
    static final long CF = 1, ZF = 0x40, ARITH = 0x8D5;
    static final int REVISION = 0x11e57ed0;
    TestCpu t;
    Cpu c;

    @BeforeEach
    void setUp() {
        t = new TestCpu();
        c = t.cpu;
        var m = t.machine.memory();
        m.write32(VMXON, REVISION);
        m.write32(VMCS_A, REVISION);
        m.write32(VMCS_B, REVISION);
    }

    /** Runs one VMX instruction with its pointer operand at PTR; returns the arithmetic flags. */
    long vmx(String insn, long pointer) {
        t.machine.memory().write64(PTR, pointer);
        c.r[Cpu.RBX] = PTR;
        c.setRflags(2 | ARITH);
        assertEquals(-1, t.exec(TestCpu.assemble(insn + " (%rbx)")), insn);
        return c.rflags() & ARITH;
    }

    long error() {
        return c.vmx.current.get(VM_INSTRUCTION_ERROR);
    }

    void enterVmx() {
        c.cr4 |= Cpu.CR4_VMXE;
        assertEquals(0, vmx("vmxon", VMXON));
    }

    @Test
    void cpuidAndCapabilityMsrsReportVmx() {
        c.r[Cpu.RAX] = 1;
        assertEquals(-1, t.exec(TestCpu.assemble("cpuid")));
        assertTrue((c.r[Cpu.RCX] & (1 << 5)) != 0, "CPUID.1:ECX.VMX");
        c.r[Cpu.RCX] = 0x480;
        assertEquals(-1, t.exec(TestCpu.assemble("rdmsr")));
        assertEquals(0x11e57ed0L, c.r[Cpu.RAX]);
        assertEquals(0x00d81000L, c.r[Cpu.RDX]);
        c.r[Cpu.RCX] = 0x3A;
        assertEquals(-1, t.exec(TestCpu.assemble("rdmsr")));
        assertEquals(5, c.r[Cpu.RAX], "IA32_FEATURE_CONTROL locked with VMX outside SMX");
        assertEquals(CpuFault.GP, t.exec(TestCpu.assemble("wrmsr")), "a locked IA32_FEATURE_CONTROL cannot be written");
        c.r[Cpu.RCX] = 0x485;
        assertEquals(CpuFault.GP, t.exec(TestCpu.assemble("wrmsr")), "capability MSRs are read-only");
    }

    @Test
    void vmxonNeedsCr4VmxeAndTheRightRevision() {
        c.r[Cpu.RBX] = PTR;
        assertEquals(CpuFault.UD, t.exec(TestCpu.assemble("vmxon (%rbx)")), "CR4.VMXE = 0");
        c.cr4 |= Cpu.CR4_VMXE;
        t.machine.memory().write32(VMXON, REVISION + 1);
        assertEquals(CF, vmx("vmxon", VMXON), "wrong revision: VMfailInvalid");
        assertFalse(c.vmx.inVmxOperation);
        assertEquals(CF, vmx("vmxon", VMXON + 0x10), "unaligned region: VMfailInvalid");
        t.machine.memory().write32(VMXON, REVISION);
        assertEquals(0, vmx("vmxon", VMXON), "VMsucceed");
        assertTrue(c.vmx.inVmxOperation);
        assertEquals(CF, vmx("vmxon", VMXON), "VMXON in root without a current VMCS: VMfailInvalid");
        assertEquals(0, vmx("vmptrld", VMCS_A));
        assertEquals(ZF, vmx("vmxon", VMXON), "with a current VMCS: VMfailValid");
        assertEquals(15, error(), "VMXON executed in VMX root operation");
    }

    @Test
    void cr0AndCr4KeepTheirFixedBitsInVmxOperation() {
        enterVmx();
        assertEquals(CpuFault.GP, t.exec(TestCpu.assemble("mov %cr4, %rax\nbtr $13, %rax\nmov %rax, %cr4")), "CR4.VMXE is fixed to 1");
        assertEquals(CpuFault.GP, t.exec(TestCpu.assemble("mov %cr0, %rax\nbtr $5, %rax\nmov %rax, %cr0")), "CR0.NE is fixed to 1");
    }

    @Test
    void vmclearAndVmptrldErrors() {
        enterVmx();
        assertEquals(CF, vmx("vmptrld", VMCS_A + 8), "no current VMCS yet: VMfailInvalid");
        assertEquals(0, vmx("vmptrld", VMCS_A));
        assertEquals(ZF, vmx("vmclear", VMCS_B + 8));
        assertEquals(2, error(), "VMCLEAR with invalid physical address");
        assertEquals(ZF, vmx("vmclear", VMXON));
        assertEquals(3, error(), "VMCLEAR with VMXON pointer");
        assertEquals(ZF, vmx("vmptrld", 1L << 40));
        assertEquals(9, error(), "VMPTRLD with invalid physical address");
        assertEquals(ZF, vmx("vmptrld", VMXON));
        assertEquals(10, error(), "VMPTRLD with VMXON pointer");
        t.machine.memory().write32(VMCS_B, REVISION ^ 1);
        assertEquals(ZF, vmx("vmptrld", VMCS_B));
        assertEquals(11, error(), "VMPTRLD with incorrect VMCS revision identifier");
    }

    @Test
    void vmreadVmwriteVmptrstAndVmclearWriteBack() {
        enterVmx();
        c.r[Cpu.RCX] = 0x681E; // guest RIP
        c.r[Cpu.RDX] = 0x1234_5678_9ABCL;
        c.r[Cpu.RBX] = PTR;
        c.setRflags(2 | ARITH);
        assertEquals(-1, t.exec(TestCpu.assemble("vmwrite %rdx, %rcx")), "no current VMCS");
        assertEquals(CF, c.rflags() & ARITH, "VMWRITE without a current VMCS: VMfailInvalid");
        assertEquals(0, vmx("vmptrld", VMCS_A));
        assertEquals(-1, t.exec(TestCpu.assemble("vmwrite %rdx, %rcx\nvmread %rcx, %rsi")));
        assertEquals(0x1234_5678_9ABCL, c.r[Cpu.RSI]);
        assertEquals(0, c.rflags() & ARITH);
        // a 16-bit field keeps 16 bits; the "high" encoding of a 64-bit field reads bits 63:32
        c.r[Cpu.RCX] = 0x0802;
        c.r[Cpu.RDX] = 0x12345;
        c.r[8] = 0x2806; // guest IA32_EFER
        c.r[9] = 0xAAAA_BBBB_0000_0D01L;
        assertEquals(-1, t.exec(TestCpu.assemble("vmwrite %rdx, %rcx\nvmread %rcx, %rsi\nvmwrite %r9, %r8\ninc %r8\nvmread %r8, %rdi")));
        assertEquals(0x2345, c.r[Cpu.RSI]);
        assertEquals(0xAAAA_BBBBL, c.r[Cpu.RDI]);
        // unsupported field and the error it leaves
        c.r[Cpu.RCX] = 0x0803; // high access to a 16-bit field
        c.setRflags(2);
        assertEquals(-1, t.exec(TestCpu.assemble("vmread %rcx, %rsi")));
        assertEquals(ZF, c.rflags() & ARITH);
        assertEquals(12, error(), "VMREAD/VMWRITE from/to unsupported VMCS component");
        c.r[Cpu.RCX] = 0x4402; // exit reason: writable because IA32_VMX_MISC bit 29 is set in this profile
        c.r[Cpu.RDX] = 7;
        assertEquals(-1, t.exec(TestCpu.assemble("vmwrite %rdx, %rcx")));
        assertEquals(0, c.rflags() & ARITH);
        // VMPTRST, then VMCLEAR writes the VMCS back and VMPTRLD reads it again
        assertEquals(0, vmx("vmptrst", 0));
        assertEquals(VMCS_A, t.machine.memory().read64(PTR));
        assertEquals(0, vmx("vmclear", VMCS_A));
        assertEquals(null, c.vmx.current, "VMCLEAR of the current VMCS leaves none current");
        assertEquals(0, vmx("vmptrst", 0));
        assertEquals(-1L, t.machine.memory().read64(PTR), "no current VMCS: all ones");
        assertEquals(0, vmx("vmptrld", VMCS_A));
        c.r[Cpu.RCX] = 0x681E;
        assertEquals(-1, t.exec(TestCpu.assemble("vmread %rcx, %rsi")));
        assertEquals(0x1234_5678_9ABCL, c.r[Cpu.RSI], "the field survived VMCLEAR and VMPTRLD");
    }

    @Test
    void vmcallInRootAndVmxoff() {
        assertEquals(CpuFault.UD, t.exec(TestCpu.assemble("vmcall")), "outside VMX operation");
        enterVmx();
        assertEquals(0, vmx("vmptrld", VMCS_A));
        assertEquals(-1, t.exec(TestCpu.assemble("vmcall")));
        assertEquals(1, error(), "VMCALL executed in VMX root operation");
        assertEquals(-1, t.exec(TestCpu.assemble("vmxoff")));
        assertFalse(c.vmx.inVmxOperation);
        c.r[Cpu.RCX] = 0x681E;
        assertEquals(CpuFault.UD, t.exec(TestCpu.assemble("vmread %rcx, %rsi")), "VMREAD outside VMX operation");
    }

    @Test
    void userModeGetsGp() {
        enterVmx();
        c.seg[Segment.CS].set(0x2B, 0, 0xFFFFFFFFL, 0xA0FB);
        c.seg[Segment.SS].set(0x33, 0, 0xFFFFFFFFL, 0xC0F3);
        c.cpl = 3;
        c.modeChanged();
        c.r[Cpu.RBX] = PTR;
        assertEquals(CpuFault.GP, t.exec(TestCpu.assemble("vmptrld (%rbx)")));
    }

    @Test
    void profilesLoadAndDifferOnlyWhereTheSeedSays() throws Exception {
        CpuProfile i386 = CpuProfile.load("kvm-2022-i386"), x64 = CpuProfile.load("kvm-2022");
        assertEquals(0x007ffdff00036dffL, i386.vmx(0x483));
        assertEquals(0x007fffff00036dffL, x64.vmx(0x483), "host address-space size allowed");
        assertEquals(0x801, i386.eferWritable);
        assertEquals(0x901, x64.eferWritable);
        for (int m = 0x480; m <= 0x491; m++) if (m != 0x483 && m != 0x48F) assertEquals(i386.vmx(m), x64.vmx(m));
        assertEquals(23, x64.maxFieldIndex(), "VMCS_ENUM 0x2e");
        var e = org.junit.jupiter.api.Assertions.assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.load("nope"));
        assertTrue(e.getMessage().contains("unknown CPU profile"));
    }

    @Test
    void inveptAndInvvpidCheckTheirOperands() {
        enterVmx();
        assertEquals(0, vmx("vmptrld", VMCS_A));
        var m = t.machine.memory();
        long desc = 0x620000;
        c.r[Cpu.RSI] = desc;
        // INVEPT single-context with a valid EPTP (WB, 4-level), then with a bad one, then type 3
        m.write64(desc, 0x700000 | 6 | (3 << 3));
        m.write64(desc + 8, 0);
        String[] cases = {"mov $1, %rax\ninvept (%rsi), %rax", "mov $2, %rax\ninvept (%rsi), %rax"};
        for (String s : cases) {
            c.setRflags(2 | ARITH);
            assertEquals(-1, t.exec(TestCpu.assemble(s)));
            assertEquals(0, c.rflags() & ARITH, s);
        }
        m.write64(desc, 0x700000 | 6 | (2 << 3)); // a 3-level walk is not supported
        c.setRflags(2);
        assertEquals(-1, t.exec(TestCpu.assemble("mov $1, %rax\ninvept (%rsi), %rax")));
        assertEquals(ZF, c.rflags() & ARITH);
        assertEquals(28, error(), "invalid operand to INVEPT/INVVPID");
        c.setRflags(2);
        assertEquals(-1, t.exec(TestCpu.assemble("mov $3, %rax\ninvept (%rsi), %rax")));
        assertEquals(ZF, c.rflags() & ARITH);
        // INVVPID: VPID 0 is invalid for single-context, fine for all-context; reserved bits fail
        m.write64(desc, 0);
        m.write64(desc + 8, 0x1000);
        c.setRflags(2);
        assertEquals(-1, t.exec(TestCpu.assemble("mov $1, %rax\ninvvpid (%rsi), %rax")));
        assertEquals(ZF, c.rflags() & ARITH);
        c.setRflags(2);
        assertEquals(-1, t.exec(TestCpu.assemble("mov $2, %rax\ninvvpid (%rsi), %rax")));
        assertEquals(0, c.rflags() & ARITH);
        m.write64(desc, 5 | (1L << 20));
        c.setRflags(2);
        assertEquals(-1, t.exec(TestCpu.assemble("mov $0, %rax\ninvvpid (%rsi), %rax")));
        assertEquals(ZF, c.rflags() & ARITH, "descriptor bits 63:16 must be 0");
        m.write64(desc, 5);
        m.write64(desc + 8, 0x8000_0000_0000_0000L);
        c.setRflags(2);
        assertEquals(-1, t.exec(TestCpu.assemble("mov $0, %rax\ninvvpid (%rsi), %rax")));
        assertEquals(ZF, c.rflags() & ARITH, "individual-address needs a canonical address");
    }
}
