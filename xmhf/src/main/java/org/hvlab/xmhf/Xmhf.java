package org.hvlab.xmhf;

import org.hvlab.machine.Machine;
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
 * XMHF64's runtime in Java (docs/xmhf-facts.md): start-up on every CPU of the machine, EPT01 and
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
    /** XMHF with {@code options} and {@code hypapp}, as a machine specification installs it ({@code MachineSpec.host}). */
    public static org.hvlab.machine.MachineSpec.HostInstaller installer(XmhfOptions options, Hypapp hypapp) {
        return m -> install(m, options, hypapp);
    }

    public static Xmhf install(Machine machine, XmhfOptions options, Hypapp hypapp) {
        Xmhf x = new Xmhf(machine, options, hypapp);
        machine.install(x);
        // XMHF's memory up to the end of RAM is reserved in the guest's memory map
        machine.reserveForHost(x.memory.base, x.memory.ramSize - x.memory.base);
        // every VCPU exists before any CPU runs: one CPU's intercepts look at the others'
        // (INIT/SIPI targets by APIC ID) whether or not those have started yet
        for (int i = 0; i < x.vcpus.length; i++) x.vcpus[i] = new Vcpu(machine.hostCpu(i));
        return x;
    }

    @Override public HypervisorMemory memory() { return memory; }
    @Override public Ept01 ept() { return ept; }
    @Override public int cpus() { return vcpus.length; }
    public XmhfOptions options() { return options; }
    @Override public SmpGuest smpGuest() { return smp; }

    @Override
    public void printf(Vcpu v, String text) {
        smp.printf(v, text);
    }

    /** The VCPU of CPU {@code i}, once it started. */
    @Override
    public Vcpu vcpu(int i) {
        return vcpus[i];
    }

    @Override
    public void start(HostCpu cpu) {
        Vcpu v = vcpus[cpu.index()];
        if (cpu.isBootstrapProcessor()) {
            for (int msr : allMtrrs()) mtrrs.write(msr, cpu.rdmsr(msr));
            ept.build(cpu, mtrrs);
            globalReady.set(cpu, 1);
        } else {
            cpu.spinUntil(() -> globalReady.peek() == 1, "XMHF's global set-up on the bootstrap processor");
        }
        setup.enterVmx(v);
        setup.controlsAndHost(v, mtrrs);
        v.vmxOn = true;
        smp.disableNmiHandling(v); // the hypapp may print: NMIs wait until it is done
        hypapp.onStartup(this, v);
        smp.enableNmiHandling(v);
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
        smp.hostNmi(vcpus[cpu.index()]);
    }

    @Override
    public int guestNmisHeld(int cpu) {
        return smp.nmisHeld(vcpus[cpu]);
    }

    /** The CPU's loop: enter the guest, handle its exit, again. */
    private void run(Vcpu v) {
        for (;;) {
            VmEntryResult r = v.launched ? v.cpu.vmresume() : v.cpu.vmlaunch();
            if (!r.exited()) {
                smp.disableNmiHandling(v); // the dump prints: a quiesce NMI now must wait, not deadlock on the printf lock
                intercepts.dumpVmcs(v);
                throw v.halt(String.format("%s failed: %s; HALT", v.launched ? "VMRESUME" : "VMLAUNCH", r.vmfail()));
            }
            v.launched = true;
            intercepts.handle(v, r);
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
