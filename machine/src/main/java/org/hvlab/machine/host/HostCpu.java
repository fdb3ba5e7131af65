package org.hvlab.machine.host;

import static org.hvlab.machine.vmx.VmcsFields.*;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.hvlab.machine.Machine;
import org.hvlab.machine.RunEnding;
import org.hvlab.machine.apic.LocalApic;
import org.hvlab.machine.events.MachineEvent;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.cpu.CpuFault;
import org.hvlab.machine.cpu.HostBridge;
import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.sched.Coroutine;

/**
 * One CPU as a hypervisor written in Java sees it (docs/architecture.md "The Java host API"): the
 * VMX instructions with their architectural results, {@link #vmlaunch}/{@link #vmresume} that
 * run the guest on this CPU and return at its VM exit (like KVM_RUN), {@link #iret}, control
 * registers and MSRs, physical memory, the local APIC, the serial port, and the simulator's
 * primitives for shared state ({@link SpinLock}, {@link SharedLong}, {@link #spinUntil}).
 *
 * <p>Every call is a yield point: it costs one step of this CPU's quantum, the scheduler may
 * switch to another CPU there, and a pending host NMI is taken there if NMIs are not blocked
 * ({@link HostSoftware#onNmi}). A VM exit caused by an NMI leaves host NMIs blocked until the
 * host calls {@link #iret}; forgetting it shows up as the deadlock it causes on hardware.
 */
public final class HostCpu {
    private final Machine machine;
    private final Cpu cpu;
    private final HostBridge hw;
    private final HostSoftware software;
    private final long[] readOut = new long[1];
    /** Locks this CPU holds, in the order taken. */
    final List<SpinLock> held = new ArrayList<>();

    private long budget;
    private long operations;
    private boolean inGuest, inNmi, done;
    private String waitingFor;
    private BooleanSupplier waitCondition;
    private SpinLock awaited;

    public HostCpu(Machine machine, Cpu cpu, HostSoftware software) {
        this.machine = machine;
        this.cpu = cpu;
        this.software = software;
        this.hw = new HostBridge(cpu);
    }

    // ---- identity

    public int index() { return cpu.index; }
    public int apicId() { return cpu.apicId(); }
    public int cpuCount() { return cpu.cpuCount(); }
    public boolean isBootstrapProcessor() { return cpu.index == 0; }

    /** Host operations this CPU performed (each one step). */
    public long operations() { return operations; }

    // ---- the machine drives these

    /** The CPU's coroutine body: the host's start-up, then nothing (the CPU stops). */
    public void powerOn() {
        try {
            software.start(this);
        } catch (RunEnded e) {
            // the run has a verdict: unwind quietly
        } catch (HostFault e) {
            machine.hypervisorHalt(new RunEnding.HypervisorHalt(cpu.index, "", "hypervisor fault: " + e.getMessage(), -1,
                    new RunEnding.HaltCause.HostFault(e.getMessage())));
        }
        done = true;
    }

    /** The scheduler granted a quantum. */
    public void grant(long quantum) {
        budget = quantum;
    }

    /** Whether this CPU can make progress if scheduled. */
    public boolean runnable() {
        if (done) return false;
        if (inGuest) return cpu.runnable();
        if (waitCondition != null) return nmiDeliverable() || waitCondition.getAsBoolean();
        return true;
    }

    private boolean nmiDeliverable() {
        return cpu.nmiPending && !cpu.nmiBlocked && !inNmi;
    }

    /** For deadlock endings: what this CPU waits for, with the locks it holds and awaits. */
    public RunEnding.HostWait hostWait() {
        RunEnding.HostActivity a = done ? RunEnding.HostActivity.FINISHED : inGuest ? RunEnding.HostActivity.IN_GUEST
                : waitingFor != null ? RunEnding.HostActivity.WAITING : RunEnding.HostActivity.RUNNING;
        boolean owned = awaited != null && awaited.owner != null;
        return new RunEnding.HostWait(a, waitingFor, held.stream().map(SpinLock::name).toList(), owned ? awaited.name : null,
                owned ? awaited.owner.index() : -1, cpu.nmiBlocked, cpu.nmiPending);
    }

    // ---- yield points

    /** One host operation: may switch CPUs, and takes a pending host NMI if NMIs are not blocked. */
    void yieldPoint() {
        operations++;
        if (--budget <= 0) yieldNow();
        if (machine.finished()) throw new RunEnded();
        if (nmiDeliverable()) takeNmi();
    }

    private void yieldNow() {
        Coroutine.yieldNow();
        if (machine.finished()) throw new RunEnded();
    }

    private void takeNmi() {
        cpu.nmiPending = false;
        cpu.nmiBlocked = true;
        if (cpu.bus.wants(MachineEvent.Kind.HOST_NMI_TAKEN)) cpu.bus.publish(new MachineEvent.HostNmiTaken(cpu.index));
        inNmi = true;
        String w = waitingFor;
        BooleanSupplier wc = waitCondition;
        SpinLock a = awaited;
        waitingFor = null;
        waitCondition = null;
        awaited = null;
        try {
            software.onNmi(this);
        } finally {
            waitingFor = w;
            waitCondition = wc;
            awaited = a;
            inNmi = false;
            cpu.nmiBlocked = false; // the NMI handler's IRET
        }
    }

    /**
     * Spins until {@code condition} holds; {@code why} names the wait in deadlock reports. The
     * condition must read shared state without yield points ({@link SharedLong#peek}, fields).
     * While it is false this CPU is blocked: the scheduler runs it again only once the
     * condition holds or a host NMI can be taken.
     */
    public void spinUntil(BooleanSupplier condition, String why) {
        spinUntil(condition, why, null);
    }

    void spinUntil(BooleanSupplier condition, String why, SpinLock lock) {
        yieldPoint();
        boolean traced = false;
        while (!condition.getAsBoolean()) {
            if (!traced && cpu.bus.wants(MachineEvent.Kind.HOST_WAIT)) {
                cpu.bus.publish(new MachineEvent.HostWait(cpu.index, why, true));
                traced = true;
            }
            waitingFor = why;
            waitCondition = condition;
            awaited = lock;
            budget = 0;
            yieldPoint();
        }
        waitingFor = null;
        waitCondition = null;
        awaited = null;
        if (traced) cpu.bus.publish(new MachineEvent.HostWait(cpu.index, why, false));
    }

    /** Records a hypervisor event on this CPU's timeline (not a yield point; nothing when no one listens). */
    public void trace(String name, String detail) {
        if (cpu.bus.wants(MachineEvent.Kind.MARK)) cpu.bus.publish(new MachineEvent.Mark(cpu.index, "hypervisor", name, detail));
    }

    /** Begins ({@code begin}) or ends a hypervisor span on this CPU's timeline (a quiesce). */
    public void traceSpan(String name, boolean begin) {
        if (cpu.bus.wants(MachineEvent.Kind.SPAN)) cpu.bus.publish(new MachineEvent.Span(cpu.index, "hypervisor", name, begin));
    }

    /** A PAUSE in a spin loop written by hand: one step, and the rest of the quantum goes to others. */
    public void pause() {
        budget = 1;
        yieldPoint();
    }

    /** Ends the run with a hypervisor halt (XMHF's HALT) that says only {@code message}; never returns. */
    public RuntimeException halt(String message) {
        return halt("", message, -1, RunEnding.HaltCause.STATED);
    }

    /**
     * Ends the run with a hypervisor halt, never returns: {@code prefix} is the hypervisor's
     * name for this CPU in its messages, {@code exitReason} the basic exit reason it was
     * handling (-1: none), {@code cause} why it halts.
     */
    public RuntimeException halt(String prefix, String message, int exitReason, RunEnding.HaltCause cause) {
        machine.hypervisorHalt(new RunEnding.HypervisorHalt(cpu.index, prefix, message, exitReason, cause));
        throw new RunEnded();
    }

    // ---- VMX

    private int op(String name, java.util.function.IntSupplier body) {
        yieldPoint();
        try {
            return body.getAsInt();
        } catch (CpuFault f) {
            throw new HostFault("CPU " + cpu.index + ": " + name + " raised " + f.getMessage());
        }
    }

    public VmxResult vmxon(long region) { return VmxResult.of(op("VMXON", () -> hw.vmxon(region))); }
    public VmxResult vmxoff() { return VmxResult.of(op("VMXOFF", hw::vmxoff)); }
    public VmxResult vmclear(long region) { return VmxResult.of(op("VMCLEAR", () -> hw.vmclear(region))); }
    public VmxResult vmptrld(long region) { return VmxResult.of(op("VMPTRLD", () -> hw.vmptrld(region))); }

    public long vmptrst() {
        yieldPoint();
        try {
            return hw.vmptrst();
        } catch (CpuFault f) {
            throw new HostFault("CPU " + cpu.index + ": VMPTRST raised " + f.getMessage());
        }
    }

    public VmxResult vmwrite(int encoding, long value) {
        return VmxResult.of(op("VMWRITE", () -> hw.vmwrite(encoding, value)));
    }

    /** VMREAD; a VMfail is a hypervisor bug here (use {@link #vmreadResult} to handle it). */
    public long vmread(int encoding) {
        VmxResult r = vmreadResult(encoding);
        if (!r.succeeded()) throw new HostFault(String.format("CPU %d: VMREAD 0x%04x: %s", cpu.index, encoding, r));
        return readOut[0];
    }

    /** VMREAD with its result; the value is {@link #lastRead()}. */
    public VmxResult vmreadResult(int encoding) {
        return VmxResult.of(op("VMREAD", () -> hw.vmread(encoding, readOut)));
    }

    public long lastRead() { return readOut[0]; }

    /**
     * VMREADs of many fields as one operation (XMHF's software-VMCS "get"): one yield point,
     * so no other CPU runs in between. A field the profile does not support is a hypervisor bug.
     */
    public void vmreadAll(int[] encodings, long[] values) {
        int r = op("VMREAD", () -> hw.vmreadAll(encodings, values));
        if (r != 0) throw new HostFault(String.format("CPU %d: VMREAD of the copy's fields: %s", cpu.index, VmxResult.of(r)));
    }

    /** VMWRITEs of many fields as one operation (the software-VMCS "put"). */
    public void vmwriteAll(int[] encodings, long[] values) {
        int r = op("VMWRITE", () -> hw.vmwriteAll(encodings, values));
        if (r != 0) throw new HostFault(String.format("CPU %d: VMWRITE of the copy's fields: %s", cpu.index, VmxResult.of(r)));
    }

    public VmxResult invept(long type, long eptp) { return VmxResult.of(op("INVEPT", () -> hw.invept(type, eptp))); }
    public VmxResult invvpid(long type, int vpid, long linear) { return VmxResult.of(op("INVVPID", () -> hw.invvpid(type, vpid, linear))); }

    public VmEntryResult vmlaunch() { return enter(true); }
    public VmEntryResult vmresume() { return enter(false); }

    /**
     * VM entry, then the guest runs on this CPU (at the scheduler's pace, yielding between
     * quanta and while it halts) until its VM exit, which returns here with NMIs as the exit
     * left them.
     */
    private VmEntryResult enter(boolean launch) {
        int r = op(launch ? "VMLAUNCH" : "VMRESUME", () -> hw.vmentry(launch));
        if (r != HostBridge.ENTERED) return new VmEntryResult(VmxResult.of(r), 0, 0);
        inGuest = true;
        try {
            while (hw.inGuest()) {
                if (budget <= 0 || !cpu.runnable()) yieldNow();
                if (!cpu.runnable()) continue;
                long before = cpu.instructions + cpu.deliveries;
                cpu.run(budget);
                budget -= cpu.instructions + cpu.deliveries - before;
                if (machine.finished()) throw new RunEnded();
            }
        } finally {
            inGuest = false;
        }
        long[] v = readOut;
        hw.vmread(EXIT_REASON, v);
        int reason = (int) v[0];
        hw.vmread(EXIT_QUALIFICATION, v);
        return new VmEntryResult(VmxResult.SUCCEED, reason, v[0]);
    }

    /** IRET: unblocks host NMIs (after an NMI exit, XMHF executes a hand-built one). */
    public void iret() {
        yieldPoint();
        hw.iret();
        if (nmiDeliverable()) takeNmi();
    }

    /** Whether host NMIs are blocked (after an NMI exit until {@link #iret}, and inside {@link HostSoftware#onNmi}). */
    public boolean nmisBlocked() {
        return cpu.nmiBlocked;
    }

    // ---- control registers and MSRs

    public long readCr(int n) {
        yieldPoint();
        return hw.readCr(n);
    }

    public void writeCr(int n, long value) {
        op("MOV CR" + n, () -> { hw.writeCr(n, value); return 0; });
    }

    public long rdmsr(int index) {
        yieldPoint();
        try {
            return hw.rdmsr(index);
        } catch (CpuFault f) {
            throw new HostFault(String.format("CPU %d: RDMSR 0x%x raised %s", cpu.index, index, f.getMessage()));
        }
    }

    public void wrmsr(int index, long value) {
        op(String.format("WRMSR 0x%x", index), () -> { hw.wrmsr(index, value); return 0; });
    }

    // ---- physical memory (the hypervisor's own and its guest's)

    private PhysicalMemory mem() { return machine.memory(); }

    public long read64(long pa) { yieldPoint(); return mem().read64(pa); }
    public int read32(long pa) { yieldPoint(); return mem().read32(pa); }
    public int read8(long pa) { yieldPoint(); return mem().read8(pa); }
    public void write64(long pa, long v) { yieldPoint(); mem().write64(pa, v); }
    public void write32(long pa, int v) { yieldPoint(); mem().write32(pa, v); }
    public void write8(long pa, int v) { yieldPoint(); mem().write8(pa, v); }

    private static final byte[] ZEROS = new byte[4096];

    /** Zeroes {@code length} bytes (one operation: a REP STOS). */
    public void zero(long pa, long length) {
        yieldPoint();
        for (long a = pa; a < pa + length; a += 4096) mem().writeBytes(a, ZEROS, 0, (int) Math.min(4096, pa + length - a));
    }

    public byte[] readBytes(long pa, int length) {
        yieldPoint();
        return mem().readBytes(pa, length);
    }

    /** Writes {@code length} bytes of {@code src} from {@code off} (one operation: a REP MOVS). */
    public void writeBytes(long pa, byte[] src, int off, int length) {
        yieldPoint();
        mem().writeBytes(pa, src, off, length);
    }

    // ---- local APIC and serial

    public LocalApic apic() { return cpu.apic; }

    /** Sends an NMI IPI to the CPU with {@code apicId} (ICR delivery mode NMI, physical destination). */
    public void sendNmi(int apicId) {
        yieldPoint();
        cpu.apic.sendIcrAsHost(LocalApic.DM_NMI << 8, apicId);
    }

    /** NMI IPI to all CPUs but this one (ICR shorthand 11b). */
    public void sendNmiAllButSelf() {
        yieldPoint();
        cpu.apic.sendIcrAsHost((LocalApic.DM_NMI << 8) | (3 << 18), 0);
    }

    /** An IPI as an ICR write (vector, delivery mode, shorthand in {@code icrLow}). */
    public void sendIpi(int icrLow, int dest) {
        yieldPoint();
        cpu.apic.sendIcrAsHost(icrLow, dest);
    }

    /**
     * Accounting only (no operation, no yield): the hypervisor merged a guest NMI by the
     * architectural rule — its guest is NMI-blocked and one NMI is already held for it (SDM
     * Vol.3A 6.7.1). The NMI-accounting oracle counts what is neither delivered nor declared as lost.
     */
    public void guestNmiMerged() {
        if (cpu.bus.wants(MachineEvent.Kind.HYPERVISOR_NMI)) cpu.bus.publish(new MachineEvent.HypervisorNmi(cpu.index, true));
    }

    /**
     * Instrumentation only (no operation): from now on only guest accesses through the EPT whose
     * PML4 is at {@code ep4ta} may touch these pages ({@code ep4ta} < 0: the watch ends); any
     * other guest access ends the run as an isolation breach.
     */
    public void watchPages(java.util.Collection<Long> pas, long ep4ta) {
        org.hvlab.machine.cpu.MemoryWatch w = machine.memoryWatch();
        for (long pa : pas) {
            if (ep4ta < 0) w.unwatch(pa);
            else w.watch(pa, ep4ta);
        }
    }

    /** Accounting only: the hypervisor discarded a guest NMI because no guest runs on this CPU yet. */
    public void guestNmiDiscarded() {
        if (cpu.bus.wants(MachineEvent.Kind.HYPERVISOR_NMI)) cpu.bus.publish(new MachineEvent.HypervisorNmi(cpu.index, false));
    }

    /** Writes text to COM1 as this CPU (one operation per call, like one locked printf). */
    public void print(String text) {
        yieldPoint();
        machine.serial().write(cpu.index, text);
    }

    /** The CPU itself, for state the API does not wrap (guest-visible registers after an exit). */
    public Cpu cpu() {
        return cpu;
    }

    @Override
    public String toString() {
        return "host CPU " + cpu.index;
    }
}
