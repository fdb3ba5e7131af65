package org.hvlab.machine;

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

    private Outcome outcome;
    private int exitStatus;
    private String message;

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
     * reports it as reserved (memory map type 2, BOOT-PROTOCOL.md) and an image that overlaps it
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

    /** The guest's boot-protocol state (BOOT-PROTOCOL.md): where a Java hypervisor starts its guest. */
    public record GuestBoot(long entry, long rsp, long rdi) {}

    private GuestBoot guestBoot = new GuestBoot(0, BootLoader.BSP_STACK_TOP, BootLoader.BOOT_INFO);

    public GuestBoot guestBoot() {
        return guestBoot;
    }

    /** A hypervisor halted (XMHF's HALT, or a fault in its Java code): the run's verdict. */
    public void hypervisorHalt(int cpu, String message) {
        finish(Outcome.HYPERVISOR_HALT, Outcome.HYPERVISOR_HALT.exitStatus, "CPU " + cpu + ": " + message);
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
        int status = outcome == Outcome.EXITED ? exitStatus : outcome.exitStatus;
        return new RunResult(outcome, status, message, steps(), reports);
    }

    private org.hvlab.machine.cpu.MemoryWatch watch;

    /** The isolation watch (created on first use, then checked on every guest access to a watched page). */
    public org.hvlab.machine.cpu.MemoryWatch memoryWatch() {
        if (watch == null) {
            watch = new org.hvlab.machine.cpu.MemoryWatch(memory(), cpus, (c, msg) -> finish(Outcome.ISOLATION_BREACH, Outcome.ISOLATION_BREACH.exitStatus,
                    msg + " " + symbols.lookup(c.rip)));
            for (Cpu c : cpus) c.watch = watch;
        }
        return watch;
    }

    /** A driver's verdict (an oracle saw the run fail): ends the run like any other verdict. */
    public void finishDriven(Outcome o, String msg) {
        finish(o, o.exitStatus, msg);
    }

    private void finish(Outcome o, int status, String msg) {
        if (outcome != null) return; // the first verdict stands
        outcome = o;
        exitStatus = status;
        message = msg;
        for (Cpu c : cpus) c.requestStop();
    }

    private void simulatorError(String where, Throwable e) {
        StackTraceElement[] st = e.getStackTrace();
        String at = st.length > 0 ? " at " + st[0] : "";
        finish(Outcome.SIMULATOR_ERROR, Outcome.SIMULATOR_ERROR.exitStatus,
                "simulator error in " + where + ": " + e + at);
        lastError = e;
    }

    private Throwable lastError;

    /** The Java exception behind a simulator-error verdict, for reports. */
    public Throwable lastError() { return lastError; }

    // ---- accessors

    public Cpu cpu(int i) { return cpus[i]; }
    public PhysicalMemory memory() { return mem; }
    public SerialPort serial() { return serial; }
    public ApicBus apicBus() { return bus; }
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
            finish(Outcome.EXITED, st, "guest exited with status " + st + " (CPU " + cpu.index + ")");
        }
    }

    @Override
    public void shutdown(Cpu cpu, String why) {
        String sym = symbols.lookup(cpu.rip);
        finish(Outcome.SHUTDOWN, Outcome.SHUTDOWN.exitStatus, String.format("CPU %d: %s at rip=0x%x%s",
                cpu.index, why, cpu.rip, sym == null ? "" : " <" + sym + ">"));
    }

    @Override
    public boolean stopped() {
        return outcome != null;
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
    @Override public boolean finished() { return outcome != null; }

    @Override
    public long steps() {
        long s = 0;
        for (Cpu c : cpus) s += c.instructions + c.deliveries;
        if (hostCpus != null) for (HostCpu h : hostCpus) s += h.operations();
        return s;
    }

    @Override
    public void noRunnableCpu() {
        StringBuilder sb = new StringBuilder("deadlock: no CPU can make progress;");
        for (Cpu c : cpus) {
            String sym = symbols.lookup(c.rip);
            String state = switch (c.activity) {
                case Cpu.HLT -> "halted" + ((c.rflags() & 0x200) == 0 ? " with interrupts off" : "");
                case Cpu.WAIT_SIPI -> "waiting for SIPI";
                case Cpu.SHUTDOWN -> "shut down";
                default -> "active";
            };
            if (hostCpus != null) {
                sb.append(hostReport(c.index));
                continue;
            }
            sb.append(String.format(" CPU %d %s at rip=0x%x%s;", c.index, state, c.rip, sym == null ? "" : " <" + sym + ">"));
        }
        finish(Outcome.DEADLOCK, Outcome.DEADLOCK.exitStatus, sb.substring(0, sb.length() - 1));
    }

    /**
     * A host CPU in a deadlock report: what its Java code waits for and the locks it holds,
     * its guest's RIP with symbol, and the Java host stack (ARCHITECTURE.md "Blocking and deadlock").
     */
    private static final java.util.Set<String> API_FRAMES = java.util.Set.of(HostCpu.class.getName(),
            org.hvlab.machine.host.SpinLock.class.getName(), org.hvlab.machine.host.SharedLong.class.getName());

    private String hostReport(int i) {
        HostCpu h = hostCpus[i];
        Cpu c = cpus[i];
        StringBuilder sb = new StringBuilder(String.format(" CPU %d %s", i, h.blockedReport()));
        long guestRip = c.vmx.nonRoot ? c.rip : c.vmx.current != null ? c.vmx.current.get(0x681E) : -1;
        if (guestRip >= 0) {
            String sym = symbols.lookup(guestRip);
            sb.append(String.format(", guest rip=0x%x%s", guestRip, sym == null ? "" : " <" + sym + ">"));
        }
        sb.append(';');
        StackTraceElement[] st = coroutines[i].suspendedStack();
        int shown = 0;
        for (StackTraceElement e : st) {
            String cls = e.getClassName();
            // the hypervisor's own frames: not the API's, the scheduler's or the JDK's
            if (API_FRAMES.contains(cls) || cls.startsWith("org.hvlab.machine.sched.") || cls.startsWith("jdk.") || cls.startsWith("java.")) continue;
            if (cls.equals(Machine.class.getName())) break;
            sb.append("\n      at ").append(e);
            if (++shown == 12) break;
        }
        if (shown > 0) sb.append('\n');
        return sb.toString();
    }

    @Override
    public void stepLimit() {
        finish(Outcome.STEP_LIMIT, Outcome.STEP_LIMIT.exitStatus, "step limit of " + config.maxSteps() + " steps reached");
    }
}
