package org.hvlab.xmhf;

import org.hvlab.machine.Machine;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.cpu.Cpuid;
import org.hvlab.machine.host.HostCpu;
import org.hvlab.machine.host.HostSoftware;
import org.hvlab.machine.host.SharedLong;
import org.hvlab.machine.host.VmEntryResult;
import org.hvlab.xmhf.eventhub.InterceptHandler;
import org.hvlab.xmhf.hypapp.Hypapp;
import org.hvlab.xmhf.memprot.Ept01;
import org.hvlab.xmhf.memprot.Mtrrs;
import org.hvlab.xmhf.partition.VmcsSetup;
import org.hvlab.xmhf.runtime.HypervisorMemory;
import org.hvlab.xmhf.runtime.Vcpu;
import org.hvlab.xmhf.smpguest.SmpGuest;

/**
 * XMHF64's runtime in Java (XMHF-FACTS.md): start-up on every CPU of the machine, EPT01 and
 * the reserved memory, VMX and the VMCS on each CPU, the guest launched in the boot-protocol
 * state on the bootstrap processor while the APs wait in XMHF for the guest's SIPI, then each
 * CPU's loop of VM entries and intercepts.
 *
 * <p>Install with {@link #install}; the loaded image is the guest.
 */
public final class Xmhf implements HostSoftware, Hypapp.Xmhf {
    private final Machine machine;
    private final XmhfOptions options;
    private final Hypapp hypapp;
    private final HypervisorMemory memory;
    private final Vcpu[] vcpus;
    private final SmpGuest smp;
    private final Ept01 ept;
    private final Mtrrs mtrrs = new Mtrrs(Cpuid.MAXPHYADDR);
    private final VmcsSetup setup;
    private final InterceptHandler intercepts;
    /** The bootstrap processor finished the global set-up (memory map, EPT01). */
    private final SharedLong globalReady = new SharedLong("xmhf-global-ready", 0);

    private Xmhf(Machine machine, XmhfOptions options, Hypapp hypapp) {
        this.machine = machine;
        this.options = options;
        this.hypapp = hypapp;
        int n = machine.config().cpus();
        this.memory = new HypervisorMemory(machine.config().memoryBytes());
        if (n > HypervisorMemory.MAX_CPUS) throw new IllegalArgumentException("XMHF supports at most " + HypervisorMemory.MAX_CPUS + " CPUs");
        this.vcpus = new Vcpu[n];
        this.smp = new SmpGuest(options, vcpus);
        this.ept = new Ept01(memory, n);
        this.setup = new VmcsSetup(memory, ept, options);
        this.intercepts = new InterceptHandler(options, smp, ept, mtrrs, hypapp, this, memory, n);
    }

    /** Installs XMHF (with {@code hypapp}) as the machine's hypervisor. */
    public static Xmhf install(Machine machine, XmhfOptions options, Hypapp hypapp) {
        Xmhf x = new Xmhf(machine, options, hypapp);
        machine.install(x);
        return x;
    }

    public HypervisorMemory memory() { return memory; }
    public XmhfOptions options() { return options; }
    @Override public SmpGuest smpGuest() { return smp; }

    @Override
    public void printf(Vcpu v, String text) {
        smp.printf(v, text);
    }

    /** The VCPU of CPU {@code i}, once it started. */
    public Vcpu vcpu(int i) {
        return vcpus[i];
    }

    @Override
    public void start(HostCpu cpu) {
        Vcpu v = new Vcpu(cpu);
        vcpus[cpu.index()] = v;
        if (cpu.isBootstrapProcessor()) {
            reserveMemory(cpu);
            for (int msr : allMtrrs()) mtrrs.write(msr, cpu.rdmsr(msr));
            ept.build(cpu, mtrrs);
            globalReady.set(cpu, 1);
        } else {
            cpu.spinUntil(() -> globalReady.peek() == 1, "XMHF's global set-up on the bootstrap processor");
        }
        setup.enterVmx(v);
        setup.controlsAndHost(v, mtrrs);
        v.vmxOn = true;
        hypapp.onStartup(this, v);
        if (cpu.isBootstrapProcessor()) {
            setup.bootGuest(v, machine.guestBoot());
        } else {
            int vector = smp.waitForSipi(v);
            setup.sipiGuest(v, vector);
        }
        cpu.invept(1, ept.eptp(cpu.index()));
        run(v);
    }

    @Override
    public void onNmi(HostCpu cpu) {
        Vcpu v = vcpus[cpu.index()];
        if (v == null) return; // before this CPU's XMHF started: nothing to quiesce or inject
        smp.hostNmi(v);
    }

    /** The CPU's loop: enter the guest, handle its exit, again. */
    private void run(Vcpu v) {
        for (;;) {
            VmEntryResult r = v.launched ? v.cpu.vmresume() : v.cpu.vmlaunch();
            if (!r.exited()) {
                intercepts.dumpVmcs(v);
                throw v.cpu.halt(String.format("%s%s failed: %s; HALT", v.prefix(), v.launched ? "VMRESUME" : "VMLAUNCH", r.vmfail()));
            }
            v.launched = true;
            intercepts.handle(v, r);
        }
    }

    /**
     * Reports XMHF's memory as reserved in the guest's memory map (BOOT-PROTOCOL.md: type 2,
     * no other number changes): the usable entry that holds it is cut, and a type-2 entry added.
     */
    private void reserveMemory(HostCpu cpu) {
        long info = BootLoader.BOOT_INFO;
        int n = cpu.read32(info + 24);
        long lo = memory.base, hi = memory.base + HypervisorMemory.SIZE;
        for (int i = 0; i < n; i++) {
            long e = info + 32 + 24L * i;
            long base = cpu.read64(e), len = cpu.read64(e + 8);
            int type = cpu.read32(e + 16);
            if (type != 1 || base >= hi || base + len <= lo) continue;
            cpu.write64(e + 8, lo - base); // what stays usable below XMHF (XMHF sits at the top of RAM)
            if (n >= 16) throw cpu.halt("XMHF: no room for its entry in the guest's memory map (16 entries)");
            long r = info + 32 + 24L * n;
            cpu.write64(r, lo);
            cpu.write64(r + 8, HypervisorMemory.SIZE);
            cpu.write32(r + 16, 2);
            cpu.write32(r + 20, 0);
            cpu.write32(info + 24, n + 1);
            return;
        }
    }

    private static int[] allMtrrs() {
        int[] r = new int[1 + 2 * Mtrrs.VARIABLE + Mtrrs.FIXED.length];
        int k = 0;
        r[k++] = Mtrrs.DEF_TYPE;
        for (int i = 0; i < 2 * Mtrrs.VARIABLE; i++) r[k++] = Mtrrs.PHYSBASE0 + i;
        for (int f : Mtrrs.FIXED) r[k++] = f;
        return r;
    }

    /** Exits handled on CPU {@code i} so far. */
    public long exits(int i) {
        return vcpus[i] == null ? 0 : vcpus[i].exits;
    }
}
