package org.hvlab.machine.host;

import static org.hvlab.machine.vmx.VmcsFields.*;

import org.hvlab.machine.Machine;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.cpu.Segment;
import org.hvlab.machine.vmx.CpuProfile;

/**
 * The smallest useful Java hypervisor for host-API tests: VMXON on each CPU, a VMCS whose guest
 * is the host's own flat 64-bit world entered at a given RIP, then a loop of VM entries that
 * hands each exit to {@link #handle}. Regions live at 0x600000 + 0x10000 * CPU.
 */
abstract class MiniHypervisor implements HostSoftware {
    final Machine machine;

    MiniHypervisor(Machine machine) {
        this.machine = machine;
    }

    /** The guest RIP for this CPU, or -1 to leave the CPU in host code only (then {@link #hostOnly} runs). */
    abstract long guestRip(HostCpu cpu);

    /** Handles one exit; returns false to stop the loop. */
    boolean handle(HostCpu cpu, VmEntryResult exit) {
        throw new HostFault("unexpected exit: " + exit);
    }

    void hostOnly(HostCpu cpu) {}

    long region(HostCpu cpu) {
        return 0x600000L + 0x10000L * cpu.index();
    }

    /** VMX operation and a launched-ready VMCS (as VmxFixture does with instructions). */
    void setUpVmx(HostCpu cpu, long rip) {
        CpuProfile p = cpu.cpu().profile;
        long vmxon = region(cpu), vmcs = vmxon + 0x1000;
        cpu.write32(vmxon, p.vmcsRevision());
        cpu.write32(vmcs, p.vmcsRevision());
        cpu.writeCr(4, cpu.readCr(4) | 0x2000);
        if ((cpu.rdmsr(0x3A) & 1) == 0) cpu.wrmsr(0x3A, 5);
        require(cpu.vmxon(vmxon), "VMXON");
        require(cpu.vmclear(vmcs), "VMCLEAR");
        require(cpu.vmptrld(vmcs), "VMPTRLD");
        var c = cpu.cpu();
        w(cpu, 0x4000, p.vmx(0x48D) & 0xFFFFFFFFL);
        w(cpu, 0x4002, p.vmx(0x48E) & 0xFFFFFFFFL);
        w(cpu, 0x400C, (p.vmx(0x48F) & 0xFFFFFFFFL) | (1 << 9));
        w(cpu, 0x4012, (p.vmx(0x490) & 0xFFFFFFFFL) | (1 << 9));
        w(cpu, 0x6C00, c.cr0);
        w(cpu, 0x6C02, c.cr3);
        w(cpu, 0x6C04, c.cr4);
        w(cpu, 0x0C02, 0x08);
        w(cpu, 0x0C04, 0x10);
        w(cpu, 0x0C0C, 0x28);
        w(cpu, 0x6C16, 0);
        w(cpu, 0x6800, c.cr0);
        w(cpu, 0x6802, c.cr3);
        w(cpu, 0x6804, c.cr4);
        int[] sel = {0x0800, 0x0802, 0x0804, 0x0806, 0x0808, 0x080A};
        int[] lim = {0x4800, 0x4802, 0x4804, 0x4806, 0x4808, 0x480A};
        int[] ar = {0x4814, 0x4816, 0x4818, 0x481A, 0x481C, 0x481E};
        for (int s = 0; s < 6; s++) {
            Segment g = c.seg[s];
            w(cpu, sel[s], g.selector);
            w(cpu, lim[s], g.limit);
            w(cpu, ar[s], g.attr);
        }
        w(cpu, 0x080E, 0x28);
        w(cpu, 0x4820, 0x10000);
        w(cpu, 0x480E, 0x67);
        w(cpu, 0x4822, 0x8B);
        w(cpu, 0x4810, 0x2F);
        w(cpu, 0x6816, BootLoader.GDT);
        w(cpu, 0x681E, rip);
        w(cpu, 0x681C, 0x70000 - 0x1000L * cpu.index());
        w(cpu, 0x6820, 2);
        w(cpu, 0x2800, -1L);
    }

    static void w(HostCpu cpu, int enc, long v) {
        require(cpu.vmwrite(enc, v), String.format("VMWRITE 0x%04x", enc));
    }

    static void require(VmxResult r, String what) {
        if (!r.succeeded()) throw new HostFault(what + ": " + r);
    }

    @Override
    public void start(HostCpu cpu) {
        long rip = guestRip(cpu);
        if (rip < 0) {
            hostOnly(cpu);
            return;
        }
        setUpVmx(cpu, rip);
        VmEntryResult r = cpu.vmlaunch();
        while (true) {
            if (!r.exited()) throw new HostFault("entry: " + r);
            if (!handle(cpu, r)) return;
            r = cpu.vmresume();
        }
    }

    /** Moves guest RIP past the exiting instruction. */
    static void skip(HostCpu cpu) {
        w(cpu, 0x681E, cpu.vmread(GUEST_RIP) + cpu.vmread(EXIT_INSTRUCTION_LENGTH));
    }
}
