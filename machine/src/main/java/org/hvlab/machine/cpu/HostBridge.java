package org.hvlab.machine.cpu;

import static org.hvlab.machine.vmx.VmcsFields.*;

import org.hvlab.machine.vmx.Vmcs;

/**
 * What a hypervisor written in Java (package {@code machine.host}) may do to its CPU, as the
 * instructions would do it: the VMX instructions with their architectural checks and results,
 * control registers, MSRs, IRET's NMI unblocking. A #UD or #GP such an operation raises comes
 * back as the {@link CpuFault}; the result of a VMX instruction is read from the flags it set
 * (SDM Vol.3C 30.2): {@link #SUCCEED}, {@link #FAIL_INVALID} or the VM-instruction error number.
 *
 * <p>The CPU runs its host in "Java host mode": a VM exit returns from {@link Cpu#run} instead
 * of executing x86 code at host RIP.
 */
public final class HostBridge {
    public static final int SUCCEED = 0, FAIL_INVALID = -1;
    /** {@link #vmentry}: the guest is running (VMX non-root operation). */
    public static final int ENTERED = -2;

    private final Cpu c;
    private final VmxOps ops;

    public HostBridge(Cpu c) {
        this.c = c;
        this.ops = c.interp.sys.vmxOps;
        c.javaHost = true;
    }

    /** The VMX instructions' common #UD/#GP checks in VMX root operation (SDM 30.3). */
    private void rootChecks() {
        if (!c.vmx.inVmxOperation) throw CpuFault.ud();
        if ((c.cr0 & Cpu.CR0_PE) == 0 || (c.longModeActive() && !c.m64)) throw CpuFault.ud();
        if (c.cpl > 0) throw CpuFault.gp0();
    }

    private int result() {
        long f = c.fl.get();
        if ((f & LazyFlags.CF) != 0) return FAIL_INVALID;
        if ((f & LazyFlags.ZF) != 0) return (int) c.vmx.current.get(VM_INSTRUCTION_ERROR);
        return SUCCEED;
    }

    public int vmxon(long region) {
        if ((c.cr4 & Cpu.CR4_VMXE) == 0 || (c.cr0 & Cpu.CR0_PE) == 0 || (c.longModeActive() && !c.m64)) throw CpuFault.ud();
        if (c.vmx.inVmxOperation) {
            if (c.cpl > 0) throw CpuFault.gp0();
            return vmxonInRoot();
        }
        long fc = c.msrs.featureControl;
        if (c.cpl > 0 || !ops.fixedBitsHold() || (fc & 1) == 0 || (fc & 4) == 0) throw CpuFault.gp0();
        ops.vmxonAt(region);
        return result();
    }

    private int vmxonInRoot() {
        if (c.vmx.current == null) return FAIL_INVALID;
        c.vmx.current.set(VM_INSTRUCTION_ERROR, org.hvlab.machine.vmx.VmInstructionError.VMXON_IN_ROOT.number);
        return org.hvlab.machine.vmx.VmInstructionError.VMXON_IN_ROOT.number;
    }

    public int vmxoff() {
        rootChecks();
        c.vmx.leave();
        c.kick();
        return SUCCEED;
    }

    public int vmclear(long region) {
        rootChecks();
        ops.vmclear(region);
        return result();
    }

    public int vmptrld(long region) {
        rootChecks();
        ops.vmptrld(region);
        return result();
    }

    public long vmptrst() {
        rootChecks();
        return c.vmx.currentPointer();
    }

    /** VMREAD: {@code out[0]} receives the value; returns the result. */
    public int vmread(long encoding, long[] out) {
        rootChecks();
        out[0] = ops.vmread(c.vmx.current, encoding);
        return result();
    }

    /**
     * VMREADs of many fields, as if executed one after another (each VMsucceed), without the
     * flag updates in between; returns the first failure's result (the rest are not read).
     */
    public int vmreadAll(int[] encodings, long[] out) {
        rootChecks();
        Vmcs v = c.vmx.current;
        if (v == null) return FAIL_INVALID;
        for (int i = 0; i < encodings.length; i++) {
            org.hvlab.machine.vmx.VmcsField f = ops.field(encodings[i]);
            if (f == null) {
                v.set(VM_INSTRUCTION_ERROR, org.hvlab.machine.vmx.VmInstructionError.UNSUPPORTED_COMPONENT.number);
                return org.hvlab.machine.vmx.VmInstructionError.UNSUPPORTED_COMPONENT.number;
            }
            long val = v.get(f.encoding());
            out[i] = (encodings[i] & 1) != 0 ? val >>> 32 : val;
        }
        return SUCCEED;
    }

    /** VMWRITEs of many fields, as {@link #vmreadAll} reads them. */
    public int vmwriteAll(int[] encodings, long[] values) {
        rootChecks();
        Vmcs v = c.vmx.current;
        if (v == null) return FAIL_INVALID;
        for (int i = 0; i < encodings.length; i++) {
            org.hvlab.machine.vmx.VmcsField f = ops.field(encodings[i]);
            int error = f == null ? org.hvlab.machine.vmx.VmInstructionError.UNSUPPORTED_COMPONENT.number
                    : f.readOnly() && !c.profile.vmwriteAnyField() ? org.hvlab.machine.vmx.VmInstructionError.VMWRITE_READ_ONLY.number : 0;
            if (error != 0) {
                v.set(VM_INSTRUCTION_ERROR, error);
                return error;
            }
            long val = values[i];
            if ((encodings[i] & 1) != 0) val = (v.get(f.encoding()) & 0xFFFFFFFFL) | (val << 32);
            v.set(f.encoding(), val);
        }
        return SUCCEED;
    }

    public int vmwrite(long encoding, long value) {
        rootChecks();
        ops.vmwrite(c.vmx.current, encoding, value);
        return result();
    }

    public int invept(long type, long eptp) {
        rootChecks();
        ops.invept(type, eptp);
        return result();
    }

    public int invvpid(long type, int vpid, long linear) {
        rootChecks();
        ops.invvpid(type, vpid & 0xFFFFL, linear);
        return result();
    }

    /**
     * VMLAUNCH/VMRESUME: {@link #ENTERED} when the guest now runs (drive it with {@link Cpu#run}
     * until {@link #inGuest()} is false), else the VMfail result; a failed entry (exit reason
     * with bit 31) counts as entered-and-exited and is read from the VMCS like any exit.
     */
    public int vmentry(boolean launch) {
        rootChecks();
        Vmcs v = c.vmx.current;
        if (v == null) return FAIL_INVALID;
        c.blockingAtStart = 0;
        c.fl.setAll(2); // the flags report VMfail; clear them so a stale ZF/CF is not misread
        ops.vmentry(launch, false);
        if (c.vmx.nonRoot) {
            c.rip = c.nrip;
            return ENTERED;
        }
        int r = result();
        return r == SUCCEED ? ENTERED : r; // SUCCEED here: a failed entry, already back in root
    }

    public boolean inGuest() {
        return c.vmx.nonRoot;
    }

    /** IRET as XMHF's hand-built one after an NMI exit: unblocks NMIs (SDM Vol.3A 6.7.1). */
    public void iret() {
        c.nmiBlocked = false;
        c.kick();
    }

    public long readCr(int n) {
        return c.interp.sys.readCr(n);
    }

    public void writeCr(int n, long value) {
        c.interp.sys.writeCr(n, value);
    }

    public long rdmsr(int index) {
        return c.msrs.read(index);
    }

    public void wrmsr(int index, long value) {
        c.msrs.write(index, value);
    }
}
