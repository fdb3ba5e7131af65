package org.hvlab.machine.cpu;

import static org.hvlab.machine.vmx.VmcsFields.*;

import org.hvlab.machine.vmx.Vmcs;

/**
 * Control-register accesses in VMX non-root operation (SDM Vol.3C 25.1.3 exits, 25.3 changes to
 * instruction behaviour): guest/host masks and read shadows for CR0 and CR4, CR3-load and
 * -store exiting with the CR3-target values, CR8 exiting, CLTS and LMSW.
 */
final class NonRootCr {
    static final int CR_ACCESS = 28, MOV_DR = 29;
    static final int TO_CR = 0, FROM_CR = 1, CLTS = 2, LMSW = 3;
    static final long CR3_LOAD = 1 << 15, CR3_STORE = 1 << 16, CR8_LOAD = 1 << 19, CR8_STORE = 1 << 20;

    private NonRootCr() {}

    private static long mask(Vmcs v, int cr) { return v.get(cr == 0 ? CR0_GUEST_HOST_MASK : CR4_GUEST_HOST_MASK); }
    private static long shadow(Vmcs v, int cr) { return v.get(cr == 0 ? CR0_READ_SHADOW : CR4_READ_SHADOW); }

    /** Qualification (SDM Table 27-3): CR number, access type, GPR. */
    static long qualification(int cr, int type, int gpr) {
        return cr | (type << 4) | ((long) gpr << 8);
    }

    /** MOV to CR: true if it caused a VM exit. */
    static boolean movTo(Cpu c, Insn in, int cr, long value) {
        Vmcs v = c.vmx.current;
        long proc = v.get(PROC_BASED_CONTROLS);
        boolean exit = switch (cr) {
            case 0, 4 -> ((value ^ shadow(v, cr)) & mask(v, cr)) != 0;
            case 3 -> (proc & CR3_LOAD) != 0 && !cr3Target(v, value);
            case 8 -> (proc & CR8_LOAD) != 0;
            default -> false;
        };
        if (exit) VmExits.exit(c, CR_ACCESS, qualification(cr, TO_CR, in.rm), in.len);
        return exit;
    }

    /** Bits the host owns keep their value on a guest MOV to CR0/CR4 that did not exit. */
    static long merge(Cpu c, int cr, long value) {
        Vmcs v = c.vmx.current;
        long m = mask(v, cr);
        long cur = cr == 0 ? c.cr0 : c.cr4;
        return (value & ~m) | (cur & m);
    }

    private static boolean cr3Target(Vmcs v, long value) {
        long n = v.get(CR3_TARGET_COUNT);
        for (int i = 0; i < n && i < 4; i++) if (v.get(CR3_TARGET_VALUE_0 + 2 * i) == value) return true;
        return false;
    }

    /** MOV from CR: true if it exited; otherwise {@link #read} gives the value the guest sees. */
    static boolean movFrom(Cpu c, Insn in, int cr) {
        long proc = c.vmx.current.get(PROC_BASED_CONTROLS);
        boolean exit = (cr == 3 && (proc & CR3_STORE) != 0) || (cr == 8 && (proc & CR8_STORE) != 0);
        if (exit) VmExits.exit(c, CR_ACCESS, qualification(cr, FROM_CR, in.rm), in.len);
        return exit;
    }

    /** CR0/CR4 reads return the read shadow for host-owned bits. */
    static long read(Cpu c, int cr, long actual) {
        if (cr != 0 && cr != 4) return actual;
        Vmcs v = c.vmx.current;
        long m = mask(v, cr);
        return (actual & ~m) | (shadow(v, cr) & m);
    }

    /** CLTS exits when CR0.TS is host-owned and its shadow is 1. */
    static boolean clts(Cpu c, Insn in) {
        Vmcs v = c.vmx.current;
        boolean exit = (mask(v, 0) & Cpu.CR0_TS) != 0 && (shadow(v, 0) & Cpu.CR0_TS) != 0;
        if (exit) VmExits.exit(c, CR_ACCESS, qualification(0, CLTS, 0), in.len);
        return exit;
    }

    /** LMSW exits when it would change a host-owned bit of CR0[3:0] away from its shadow (PE can only be set). */
    static boolean lmsw(Cpu c, Insn in, long src) {
        Vmcs v = c.vmx.current;
        long m = mask(v, 0) & 0xF, sh = shadow(v, 0);
        boolean exit = ((m & 1) != 0 && (sh & 1) == 0 && (src & 1) != 0) || ((m & 0xE) & (sh ^ src)) != 0;
        if (exit) VmExits.exit(c, CR_ACCESS, qualification(0, LMSW, 0) | ((in.mem ? 1L : 0) << 6) | ((src & 0xFFFF) << 16), in.len);
        return exit;
    }
}
