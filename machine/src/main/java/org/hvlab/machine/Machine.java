package org.hvlab.machine;

import static org.hvlab.machine.vmx.VmcsFields.*;

import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.hvlab.machine.apic.ApicBus;
import org.hvlab.machine.apic.LocalApic;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.boot.ElfImage;
import org.hvlab.machine.boot.ImageException;
import org.hvlab.machine.boot.Symbols;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.cpu.Platform;
import org.hvlab.machine.devices.DebugExit;
import org.hvlab.machine.devices.SerialPort;
import org.hvlab.machine.host.HostCpu;
import org.hvlab.machine.host.HostSoftware;
import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.sched.Coroutine;
import org.hvlab.machine.sched.Scheduler;

/**
 * The simulated board: memory, CPUs with their local APICs, COM1, the debug-exit port, and the
 * scheduler that runs the CPUs' coroutines. A run is a pure function of (image, config, choices).
 */
public final class Machine implements Platform, Scheduler.Target {
    private final MachineConfig config;
    private final PhysicalMemory mem;
    private final ApicBus bus = new ApicBus();
    private final Cpu[] cpus;
    private final Coroutine[] coroutines;
    private final long[] grants;
    private final SerialPort serial;
    private final Scheduler scheduler;
    private Symbols symbols = Symbols.NONE;

    private RunEnding ending;

    public Machine(MachineConfig config, OutputStream serialOut) {
        this.config = config;
        this.mem = new PhysicalMemory(config.memoryBytes());
        this.serial = new SerialPort(serialOut);
        int n = config.cpus();
        cpus = new Cpu[n];
        coroutines = new Coroutine[n];
        grants = new long[n];
        for (int i = 0; i < n; i++) {
            LocalApic apic = new LocalApic(i, i == 0, bus);
            cpus[i] = new Cpu(i, n, mem, this, apic, config.profile());
            cpus[i].nmiChain.clock(this::steps);
            apic.attach(cpus[i]);
            final int idx = i;
            coroutines[i] = Coroutine.create("cpu-" + i, () -> cpuBody(idx));
        }
        scheduler = new Scheduler(config.choices());
    }

    /**
     * Installs a hypervisor written in Java: every CPU powers on in its host code
     * ({@link HostSoftware#start}) instead of executing from the reset state. Call before
     * {@link #run}; the image loaded with {@link #load} is the guest, whose boot state the
     * hypervisor reads from {@link #guestBoot()}.
     */
    public void install(HostSoftware software) {
        if (hostCpus != null) throw new IllegalStateException("a host is already installed");
        hostCpus = new HostCpu[cpus.length];
        hostSoftware = software;
        for (int i = 0; i < cpus.length; i++) {
            hostCpus[i] = new HostCpu(this, cpus[i], software);
            cpus[i].bootstrapLongMode(0, 0, 0); // host state: the boot protocol's flat 64-bit world
            final int idx = i;
            coroutines[i] = Coroutine.create("cpu-" + i, () -> hostBody(idx));
        }
    }

    private HostCpu[] hostCpus;
    private HostSoftware hostSoftware;

    /** The installed Java hypervisor, or null on the bare machine. */
    public HostSoftware hostSoftware() {
        return hostSoftware;
    }

    private BootLoader.Reserved reserved;

    /**
     * A Java hypervisor takes [base, base + length) of RAM for itself: the boot information
     * reports it as reserved (memory map type 2, docs/boot-protocol.md) and an image that overlaps it
     * is refused. Call before {@link #load}.
     */
    public void reserveForHost(long base, long length) {
        if (base < BootLoader.IMAGE_MIN || length <= 0 || base + length > mem.size()) {
            throw new IllegalArgumentException(String.format("reserved region 0x%x+0x%x is not inside RAM above 1 MiB", base, length));
        }
        reserved = new BootLoader.Reserved(base, length);
    }

    private org.hvlab.machine.trace.Trace trace;

    /** Records a timeline of this run (VM entries and exits, NMIs, the host's waits); call before {@link #run}. */
    public org.hvlab.machine.trace.Trace enableTrace() {
        if (trace == null) {
            trace = new org.hvlab.machine.trace.Trace(this::steps);
            for (Cpu c : cpus) c.trace = trace;
        }
        return trace;
    }

    /** The timeline being recorded, or null. */
    public org.hvlab.machine.trace.Trace trace() {
        return trace;
    }

    /** The host CPU of CPU {@code i} when a Java hypervisor is installed, else null. */
    public HostCpu hostCpu(int i) {
        return hostCpus == null ? null : hostCpus[i];
    }

    private void hostBody(int i) {
        try {
            hostCpus[i].powerOn();
        } catch (RuntimeException | StackOverflowError e) {
            simulatorError("CPU " + i + " (host)", e);
        }
        for (;;) Coroutine.yieldNow(); // the host finished on this CPU: it never runs again
    }

    /** The guest's boot-protocol state (docs/boot-protocol.md): where a Java hypervisor starts its guest. */
    public record GuestBoot(long entry, long rsp, long rdi) {}

    private GuestBoot guestBoot = new GuestBoot(0, BootLoader.BSP_STACK_TOP, BootLoader.BOOT_INFO);

    public GuestBoot guestBoot() {
        return guestBoot;
    }

    /** A hypervisor halted (XMHF's HALT, or a fault in its Java code): the run's ending. */
    public void hypervisorHalt(RunEnding.HypervisorHalt halt) {
        finish(halt);
    }

    private void cpuBody(int i) {
        for (;;) {
            try {
                cpus[i].run(grants[i]);
            } catch (RuntimeException | StackOverflowError e) {
                simulatorError("CPU " + i, e);
            }
            Coroutine.yieldNow();
        }
    }

    /** Loads an image per the boot protocol and puts the bootstrap processor at its entry. */
    public void load(ElfImage img, String cmdline) throws ImageException {
        BootLoader.load(mem, img, cpus.length, cmdline, reserved);
        symbols = img.symbols;
        guestBoot = new GuestBoot(img.entry, BootLoader.BSP_STACK_TOP, BootLoader.BOOT_INFO);
        if (hostCpus == null) cpus[0].bootstrapLongMode(img.entry, BootLoader.BSP_STACK_TOP, BootLoader.BOOT_INFO);
    }

    public RunResult run() {
        return run(t -> t);
    }

    /**
     * Runs under a driver that wraps this machine as the scheduler's target (an exploration
     * run injects NMIs at its boundaries and watches for a stuck guest); the driver may end the
     * run with {@link #finishDriven}.
     */
    public RunResult run(java.util.function.UnaryOperator<Scheduler.Target> driver) {
        try {
            scheduler.run(driver.apply(this), config.maxSteps());
        } catch (RuntimeException | StackOverflowError e) {
            simulatorError("scheduler", e);
        }
        serial.flush();
        return result();
    }

    private RunResult result() {
        List<RunResult.CpuReport> reports = new ArrayList<>();
        for (Cpu c : cpus) {
            String act = switch (c.activity) {
                case Cpu.ACTIVE -> "active";
                case Cpu.HLT -> "hlt";
                case Cpu.SHUTDOWN -> "shutdown";
                default -> "wait-for-sipi";
            };
            reports.add(new RunResult.CpuReport(c.index, c.rip, symbols.lookup(c.rip), c.instructions, c.vmx.exits, act));
        }
        return new RunResult(ending, steps(), reports);
    }

    private org.hvlab.machine.cpu.MemoryWatch watch;

    /** The isolation watch (created on first use, then checked on every guest access to a watched page). */
    public org.hvlab.machine.cpu.MemoryWatch memoryWatch() {
        if (watch == null) {
            watch = new org.hvlab.machine.cpu.MemoryWatch(memory(), cpus, b -> finish(b.withSymbol(symbols.lookup(b.rip()))));
            for (Cpu c : cpus) c.watch = watch;
        }
        return watch;
    }

    /** A driver's ending (an oracle saw the run fail): ends the run like any other ending. */
    public void finishDriven(RunEnding.Driven e) {
        finish(e);
    }

    private void finish(RunEnding e) {
        if (ending != null) return; // the first ending stands
        ending = e;
        for (Cpu c : cpus) c.requestStop();
    }

    private void simulatorError(String where, Throwable e) {
        StackTraceElement[] st = e.getStackTrace();
        finish(new RunEnding.SimulatorError(where, e.toString(), st.length > 0 ? st[0].toString() : null));
        lastError = e;
    }

    private Throwable lastError;

    /** The Java exception behind a simulator-error verdict, for reports. */
    public Throwable lastError() { return lastError; }

    // ---- accessors

    public Cpu cpu(int i) { return cpus[i]; }
    public PhysicalMemory memory() { return mem; }
    public SerialPort serial() { return serial; }
    public Symbols symbols() { return symbols; }
    public Scheduler scheduler() { return scheduler; }
    public MachineConfig config() { return config; }

    // ---- Platform

    @Override
    public int ioIn(Cpu cpu, int port, int size) {
        if (SerialPort.owns(port)) return serial.in(port);
        return size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFFFFFF;
    }

    @Override
    public void ioOut(Cpu cpu, int port, int size, int value) {
        if (SerialPort.owns(port)) {
            serial.out(cpu.index, port, value);
        } else if (port == DebugExit.PORT) {
            int st = DebugExit.status(value);
            finish(new RunEnding.GuestExit(cpu.index, st));
        }
    }

    @Override
    public void shutdown(Cpu cpu, String why) {
        finish(new RunEnding.Shutdown(cpu.index, why, cpu.rip, symbols.lookup(cpu.rip)));
    }

    @Override
    public boolean stopped() {
        return ending != null;
    }

    @Override
    public LocalApic apic(int index) {
        return cpus[index].apic;
    }

    // ---- Scheduler.Target

    @Override public int cpuCount() { return cpus.length; }
    @Override public boolean runnable(int cpu) { return hostCpus != null ? hostCpus[cpu].runnable() : cpus[cpu].runnable(); }

    @Override
    public void grant(int cpu, long quantum) {
        grants[cpu] = quantum;
        if (hostCpus != null) hostCpus[cpu].grant(quantum);
    }
    @Override public Coroutine coroutine(int cpu) { return coroutines[cpu]; }
    @Override public boolean finished() { return ending != null; }

    @Override
    public long steps() {
        long s = 0;
        for (Cpu c : cpus) s += c.instructions + c.deliveries;
        if (hostCpus != null) for (HostCpu h : hostCpus) s += h.operations();
        return s;
    }

    @Override
    public void noRunnableCpu() {
        List<RunEnding.CpuWait> waits = new ArrayList<>();
        for (Cpu c : cpus) {
            RunEnding.CpuState state = switch (c.activity) {
                case Cpu.HLT -> (c.rflags() & 0x200) == 0 ? RunEnding.CpuState.HALTED_INTERRUPTS_OFF : RunEnding.CpuState.HALTED;
                case Cpu.WAIT_SIPI -> RunEnding.CpuState.WAIT_FOR_SIPI;
                case Cpu.SHUTDOWN -> RunEnding.CpuState.SHUT_DOWN;
                default -> RunEnding.CpuState.ACTIVE;
            };
            if (hostCpus != null) {
                waits.add(hostWait(c.index, state));
            } else {
                waits.add(new RunEnding.CpuWait(c.index, state, null, c.rip, symbols.lookup(c.rip), List.of()));
            }
        }
        finish(new RunEnding.Deadlock(waits));
    }

    /**
     * A host CPU in a deadlock: what its Java code waits for and the locks it holds, its
     * guest's RIP with symbol, and the Java host stack (docs/architecture.md "Blocking and deadlock").
     */
    private static final java.util.Set<String> API_FRAMES = java.util.Set.of(HostCpu.class.getName(),
            org.hvlab.machine.host.SpinLock.class.getName(), org.hvlab.machine.host.SharedLong.class.getName());

    private RunEnding.CpuWait hostWait(int i, RunEnding.CpuState state) {
        Cpu c = cpus[i];
        long guestRip = c.vmx.nonRoot ? c.rip : c.vmx.current != null ? c.vmx.current.get(GUEST_RIP) : -1;
        List<String> frames = new ArrayList<>();
        for (StackTraceElement e : coroutines[i].suspendedStack()) {
            String cls = e.getClassName();
            // the hypervisor's own frames: not the API's, the scheduler's or the JDK's
            if (API_FRAMES.contains(cls) || cls.startsWith("org.hvlab.machine.sched.") || cls.startsWith("jdk.") || cls.startsWith("java.")) continue;
            if (cls.equals(Machine.class.getName())) break;
            frames.add(e.toString());
            if (frames.size() == 12) break;
        }
        return new RunEnding.CpuWait(i, state, hostCpus[i].hostWait(), guestRip, guestRip >= 0 ? symbols.lookup(guestRip) : null, frames);
    }

    @Override
    public void stepLimit() {
        finish(new RunEnding.StepLimit(config.maxSteps()));
    }
}
