package org.hvlab.xmhf.partition;

import static org.hvlab.machine.vmx.VmcsFields.*;
import static org.hvlab.machine.vmx.VmxControls.*;
import static org.hvlab.xmhf.baseplatform.Fields.*;

import org.hvlab.machine.Machine;
import org.hvlab.machine.host.HostCpu;
import org.hvlab.machine.host.HostFault;
import org.hvlab.machine.host.VmxResult;
import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.xmhf.XmhfOptions;
import org.hvlab.xmhf.memprot.Ept01;
import org.hvlab.xmhf.memprot.Mtrrs;
import org.hvlab.xmhf.runtime.HypervisorMemory;
import org.hvlab.xmhf.runtime.Vcpu;

/**
 * partition (docs/xmhf-facts.md): VMX operation on a CPU and its VMCS — controls (NMI exiting and
 * virtual NMIs, MSR bitmaps, EPT, VPID, unrestricted guest), host state, the VM-entry/exit MSR
 * lists that switch EFER and PAT, and the guest state: the boot protocol's bootstrap processor
 * (docs/boot-protocol.md) or an AP in real mode at its SIPI vector.
 */
public final class VmcsSetup {
    public static final int IA32_EFER = 0xC0000080, IA32_PAT = 0x277, IA32_FEATURE_CONTROL = 0x3A, X2APIC_ICR = 0x830,
            IA32_APIC_BASE = 0x1B;
    /** CR0 bits XMHF owns: NE must stay 1 in VMX operation (IA32_VMX_CR0_FIXED0), the guest sees its own value. */
    static final long CR0_OWNED = 0x20, CR4_OWNED = 0x2000;
    private static final long[] MSR_LIST = {IA32_EFER, IA32_PAT};

    private final HypervisorMemory mem;
    private final Ept01 ept;
    private final XmhfOptions options;

    public VmcsSetup(HypervisorMemory mem, Ept01 ept, XmhfOptions options) {
        this.mem = mem;
        this.ept = ept;
        this.options = options;
    }

    /** CR4.VMXE, IA32_FEATURE_CONTROL, VMXON, VMCLEAR, VMPTRLD (SDM Vol.3C 23.7, 23.8). */
    public void enterVmx(Vcpu v) {
        HostCpu c = v.cpu;
        int cpu = c.index();
        CpuProfile p = c.cpu().profile;
        c.zero(mem.vmxon(cpu), 0x5000);
        c.write32(mem.vmxon(cpu), p.vmcsRevision());
        c.write32(mem.vmcs(cpu), p.vmcsRevision());
        c.writeCr(4, c.readCr(4) | CR4_OWNED);
        long fc = c.rdmsr(IA32_FEATURE_CONTROL);
        if ((fc & 1) == 0) c.wrmsr(IA32_FEATURE_CONTROL, fc | 5);
        require(c, c.vmxon(mem.vmxon(cpu)), "VMXON");
        require(c, c.vmclear(mem.vmcs(cpu)), "VMCLEAR");
        require(c, c.vmptrld(mem.vmcs(cpu)), "VMPTRLD");
    }

    private static void require(HostCpu c, VmxResult r, String what) {
        if (!r.succeeded()) throw new HostFault("CPU " + c.index() + ": " + what + " failed: " + r);
    }

    private static void w(HostCpu c, int field, long value) {
        require(c, c.vmwrite(field, value), String.format("VMWRITE 0x%04x", field));
    }

    /** Controls, host state, MSR lists and bitmap: everything but the guest's own state. */
    public void controlsAndHost(Vcpu v, Mtrrs unused) {
        HostCpu c = v.cpu;
        int cpu = c.index();
        CpuProfile p = c.cpu().profile;
        long pin = p.vmx(0x48D) & 0xFFFFFFFFL | PIN_NMI_EXITING | (options.virtualNmis() ? PIN_VIRTUAL_NMIS : 0);
        long proc = p.vmx(0x48E) & 0xFFFFFFFFL | PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY;
        w(c, PIN_BASED_CONTROLS, pin);
        w(c, PROC_BASED_CONTROLS, proc);
        // "enable RDTSCP": CPUID reports RDTSCP, and without this control it is #UD in the guest (SDM 25.3)
        w(c, PROC_BASED_CONTROLS2, PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_RDTSCP);
        w(c, EXIT_CONTROLS, p.vmx(0x48F) & 0xFFFFFFFFL | EXIT_HOST_ADDRESS_SPACE_SIZE);
        w(c, ENTRY_CONTROLS, p.vmx(0x490) & 0xFFFFFFFFL);
        w(c, EXCEPTION_BITMAP, 0);
        w(c, VPID, cpu + 1);
        w(c, EPT_POINTER, ept.eptp(cpu));
        v.eptp01 = ept.eptp(cpu);
        w(c, VMCS_LINK_POINTER, -1L);
        w(c, CR0_GUEST_HOST_MASK, CR0_OWNED);
        w(c, CR4_GUEST_HOST_MASK, CR4_OWNED);
        // MSR bitmap: MTRRs (virtualized) and x2APIC ICR writes (INIT/SIPI interception) exit;
        // everything else runs on the hardware (SDM 24.6.9). IA32_APIC_BASE is the guest's: a
        // guest that moves its xAPIC page (the MSR scan does, and moves it back) keeps working,
        // but INIT/SIPI sent through a moved page are not intercepted (XMHF watches 0xFEE00000). The bitmap's address must be
        // in the VMCS: with "use MSR bitmaps" and address 0 the CPU reads guest page 0 instead.
        long bm = mem.msrBitmap(cpu);
        c.zero(bm, 0x1000);
        for (int msr = 0; msr < 0x2000; msr++) {
            if (Mtrrs.isMtrr(msr)) {
                setBit(c, bm, msr);
                setBit(c, bm + 2048, msr);
            }
        }
        setBit(c, bm + 2048, X2APIC_ICR);
        w(c, MSR_BITMAP, bm);
        // EFER and PAT switch through the MSR lists (docs/xmhf-facts.md "partition")
        long guest = mem.guestMsrArea(cpu), host = mem.hostMsrArea(cpu);
        for (int i = 0; i < MSR_LIST.length; i++) {
            c.write32(guest + 16L * i, (int) MSR_LIST[i]);
            c.write32(guest + 16L * i + 4, 0);
            c.write32(host + 16L * i, (int) MSR_LIST[i]);
            c.write32(host + 16L * i + 4, 0);
            c.write64(host + 16L * i + 8, c.rdmsr((int) MSR_LIST[i]));
        }
        w(c, ENTRY_MSR_LOAD_ADDRESS, guest);
        w(c, ENTRY_MSR_LOAD_COUNT, MSR_LIST.length);
        w(c, EXIT_MSR_STORE_ADDRESS, guest);
        w(c, EXIT_MSR_STORE_COUNT, MSR_LIST.length);
        w(c, EXIT_MSR_LOAD_ADDRESS, host);
        w(c, EXIT_MSR_LOAD_COUNT, MSR_LIST.length);
        // host state: this CPU's flat 64-bit world (its Java code does not run from host RIP)
        w(c, HOST_CR0, c.readCr(0));
        w(c, HOST_CR3, c.readCr(3));
        w(c, HOST_CR4, c.readCr(4));
        w(c, HOST_CS_SELECTOR, 0x08);
        w(c, HOST_SS_SELECTOR, 0x10);
        w(c, HOST_DS_SELECTOR, 0x10);
        w(c, HOST_ES_SELECTOR, 0x10);
        w(c, HOST_TR_SELECTOR, 0x28);
        w(c, HOST_RIP, 0);
        w(c, HOST_RSP, 0);
    }

    private static void setBit(HostCpu c, long base, int bit) {
        long a = base + (bit >>> 3);
        c.write8(a, c.read8(a) | (1 << (bit & 7)));
    }

    /** The guest's EFER and PAT for the next entry, in the entry MSR-load list. */
    void guestMsrs(HostCpu c, long efer, long pat) {
        long guest = mem.guestMsrArea(c.index());
        c.write64(guest + 8, efer);
        c.write64(guest + 16 + 8, pat);
    }

    /** The bootstrap processor's guest: the boot protocol's 64-bit state at the image entry. */
    public void bootGuest(Vcpu v, Machine.GuestBoot boot) {
        HostCpu c = v.cpu;
        w(c, ENTRY_CONTROLS, c.vmread(ENTRY_CONTROLS) | ENTRY_IA32E_MODE_GUEST);
        guestMsrs(c, 0x500, 0x0007040600070406L);
        w(c, GUEST_CR0, 0x80010033L);
        w(c, CR0_READ_SHADOW, 0x80010033L);
        w(c, GUEST_CR3, 0x1000);
        w(c, GUEST_CR4, 0x20 | CR4_OWNED);
        w(c, CR4_READ_SHADOW, 0x20);
        segment(c, 1, 0x08, 0, 0xFFFFFFFFL, 0xA09B);
        for (int s : new int[] {0, 2, 3, 4, 5}) segment(c, s, 0x10, 0, 0xFFFFFFFFL, 0xC093);
        tables(c, 0x7000, 0x27, 0, 0);
        w(c, GUEST_TR_SELECTOR, 0);
        w(c, GUEST_TR_BASE, 0);
        w(c, GUEST_TR_LIMIT, 0xFFFF);
        w(c, GUEST_TR_ACCESS_RIGHTS, 0x8B);
        common(c, boot.entry(), boot.rsp());
        var r = c.cpu().r;
        java.util.Arrays.fill(r, 0);
        r[org.hvlab.machine.cpu.Cpu.RSP] = boot.rsp();
        r[org.hvlab.machine.cpu.Cpu.RDI] = boot.rdi();
    }

    /** An AP's guest at SIPI vector {@code vector}: real mode at vector:0000 (docs/boot-protocol.md "Application processors"). */
    public void sipiGuest(Vcpu v, int vector) {
        HostCpu c = v.cpu;
        w(c, ENTRY_CONTROLS, c.vmread(ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST);
        guestMsrs(c, 0, 0x0007040600070406L);
        w(c, GUEST_CR0, 0x60000010L | CR0_OWNED);
        w(c, CR0_READ_SHADOW, 0x60000010L);
        w(c, GUEST_CR3, 0);
        w(c, GUEST_CR4, CR4_OWNED);
        w(c, CR4_READ_SHADOW, 0);
        segment(c, 1, vector << 8, (long) vector << 12, 0xFFFF, 0x9B);
        for (int s : new int[] {0, 2, 3, 4, 5}) segment(c, s, 0, 0, 0xFFFF, 0x93);
        tables(c, 0, 0xFFFF, 0, 0xFFFF);
        w(c, GUEST_TR_SELECTOR, 0);
        w(c, GUEST_TR_BASE, 0);
        w(c, GUEST_TR_LIMIT, 0xFFFF);
        w(c, GUEST_TR_ACCESS_RIGHTS, 0x8B);
        common(c, 0, 0);
        java.util.Arrays.fill(c.cpu().r, 0);
    }

    private static void segment(HostCpu c, int s, long sel, long base, long limit, long ar) {
        int[] f = GUEST_SEGMENTS[s];
        w(c, f[0], sel);
        w(c, f[1], base);
        w(c, f[2], limit);
        w(c, f[3], ar);
    }

    private static void tables(HostCpu c, long gdtBase, long gdtLimit, long idtBase, long idtLimit) {
        w(c, GUEST_GDTR_BASE, gdtBase);
        w(c, GUEST_GDTR_LIMIT, gdtLimit);
        w(c, GUEST_IDTR_BASE, idtBase);
        w(c, GUEST_IDTR_LIMIT, idtLimit);
    }

    private static void common(HostCpu c, long rip, long rsp) {
        w(c, GUEST_LDTR_SELECTOR, 0);
        w(c, GUEST_LDTR_ACCESS_RIGHTS, 0x10000);
        w(c, GUEST_RIP, rip);
        w(c, GUEST_RSP, rsp);
        w(c, GUEST_RFLAGS, 2);
        w(c, GUEST_DR7, 0x400);
        w(c, GUEST_INTERRUPTIBILITY, 0);
        w(c, GUEST_ACTIVITY_STATE, 0);
        w(c, ENTRY_INTERRUPTION_INFO, 0);
    }
}
