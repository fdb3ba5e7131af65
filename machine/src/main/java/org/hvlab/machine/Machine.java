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
import org.hvlab.machine.control.ExternalEvent;
import org.hvlab.machine.control.Stop;
import org.hvlab.machine.devices.DebugExit;
import org.hvlab.machine.events.EventBus;
import org.hvlab.machine.events.MachineEvent;
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
    private final ApicBus apicBus = new ApicBus();
    private final EventBus bus = new EventBus();
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
            LocalApic apic = new LocalApic(i, i == 0, apicBus);
            cpus[i] = new Cpu(i, n, mem, this, apic, config.profile(), bus, config.pauseYields());
            apic.attach(cpus[i]);
            final int idx = i;
            coroutines[i] = Coroutine.create("cpu-" + i, () -> cpuBody(idx));
        }
        scheduler = new Scheduler(config.choices());
        bus.clock(this::steps);
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
            bus.subscribe(trace::on);
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
        Scheduler.Target t = driver.apply(this);
        do runControlled(t, null, -1); while (ending == null); // to the end, whatever pauses or breakpoints
        return result();
    }

    // ---- run control (docs/architecture.md "Run control")

    private volatile boolean pauseRequested;
    private final java.util.concurrent.ConcurrentLinkedQueue<ExternalEvent> submitted = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Events scheduled for a step, in step order (ties: in scheduling order). */
    private final List<ExternalEvent.Applied> scheduled = new ArrayList<>();
    private final List<ExternalEvent.Applied> applied = new ArrayList<>();
    /** Set when a CPU stopped at a breakpoint in the current quantum. */
    private Cpu breakpointCpu;
    /** The quantum being run: its CPU, the machine step it began at, what the choice granted, what run control let it run. */
    private int grantedCpu = -1;
    private long grantedAt, grantedQuantum, allowedQuantum;
    /**
     * A quantum run control cut short: CPU {@code carryCpu} (-1: none) goes on with
     * {@code carryLeft} steps before any new choice; {@code carryChoice} is what its choice granted in all.
     */
    private int carryCpu = -1;
    private long carryLeft, carryChoice;

    /** Asks a running machine to stop at its next scheduling boundary (any thread). */
    public void requestPause() {
        pauseRequested = true;
    }

    /** Applies {@code e} at the next scheduling boundary, and records it (any thread). */
    public void submit(ExternalEvent e) {
        checkTarget(e);
        submitted.add(e);
    }

    /** An event for a CPU this machine does not have, or memory it does not have, is refused at once. */
    private void checkTarget(ExternalEvent e) {
        switch (e) {
            case ExternalEvent.Nmi n -> {
                if (n.cpu() >= cpus.length) throw new IllegalArgumentException("no CPU " + n.cpu() + " (the machine has " + cpus.length + ")");
            }
            case ExternalEvent.WriteRegister r -> {
                if (r.cpu() >= cpus.length) throw new IllegalArgumentException("no CPU " + r.cpu() + " (the machine has " + cpus.length + ")");
            }
            case ExternalEvent.WritePhysical w -> {
                if (w.address() + w.bytes().length > mem.size()) {
                    throw new IllegalArgumentException(String.format("physical write at 0x%x beyond RAM (0x%x bytes)", w.address(), mem.size()));
                }
            }
        }
    }

    /** Applies {@code e} at the boundary at machine step {@code step}; a quantum is cut there and then goes on. */
    public void schedule(long step, ExternalEvent e) {
        checkTarget(e);
        if (step < 0) throw new IllegalArgumentException("step must not be negative, got " + step);
        int i = scheduled.size();
        while (i > 0 && scheduled.get(i - 1).step() > step) i--;
        scheduled.add(i, new ExternalEvent.Applied(step, e));
    }

    /** Every external event applied so far, with its step: with the scheduler's choices, what replays a session. */
    public List<ExternalEvent.Applied> appliedEvents() {
        return java.util.Collections.unmodifiableList(applied);
    }

    /** Stops CPU {@code cpu} (or every CPU, -1) before executing the instruction at {@code rip}. */
    public void addBreakpoint(int cpu, long rip) {
        for (Cpu c : cpus) if (cpu < 0 || c.index == cpu) c.addBreakpoint(rip);
    }

    public void removeBreakpoint(int cpu, long rip) {
        for (Cpu c : cpus) if (cpu < 0 || c.index == cpu) c.removeBreakpoint(rip);
    }

    /** Runs until the run ends, a pause is requested or a breakpoint is reached. */
    public Stop resume() {
        return runControlled(this, null, -1);
    }

    /** As {@link #resume}, stopping at the boundary at machine step {@code step} at the latest. */
    public Stop runToStep(long step) {
        return runControlled(this, null, step);
    }

    /** As {@link #resume}, stopping at the first scheduling boundary where {@code condition} holds. */
    public Stop runUntil(java.util.function.BooleanSupplier condition) {
        return runControlled(this, condition, -1);
    }

    /**
     * One step of CPU {@code cpu} alone (an instruction, an event delivery or, under a Java
     * hypervisor, one host operation). Within a quantum run control cut short on that CPU it is
     * part of that quantum; otherwise it is a scheduling choice of its own, recorded, so the
     * session replays.
     */
    public Stop stepCpu(int cpu) {
        if (cpu < 0 || cpu >= cpus.length) throw new IllegalArgumentException("no CPU " + cpu);
        if (ending != null) return stop(Stop.Kind.FINISHED, -1);
        applyExternalEvents();
        if (ending != null) return stop(Stop.Kind.FINISHED, -1);
        if (!runnable(cpu)) throw new IllegalStateException("CPU " + cpu + " cannot make progress now (halted or waiting)");
        boolean carried = carryCpu == cpu;
        if (!carried) {
            dropCarry();
            scheduler.record().add(cpu, 1);
        }
        long before = steps();
        grant(cpu, 1);
        try {
            coroutines[cpu].resume();
        } catch (RuntimeException | StackOverflowError e) {
            simulatorError("scheduler", e);
        }
        serial.flush();
        if (carried) {
            // still the quantum run control cut short: what is left of it goes on afterwards
            carryLeft -= steps() - before;
            if (carryLeft <= 0) carryCpu = -1;
        }
        breakpointCpu = null;
        return stop(ending != null ? Stop.Kind.FINISHED : Stop.Kind.STEPPED, ending != null ? -1 : cpu);
    }

    /** A carried quantum will not go on (another CPU is chosen): its choice says how far it ran. */
    private void dropCarry() {
        if (carryCpu < 0) return;
        scheduler.record().amendLast((int) (carryChoice - carryLeft));
        carryCpu = -1;
    }

    private Stop stop(Stop.Kind k, int cpu) {
        return new Stop(k, cpu, cpu < 0 ? -1 : cpus[cpu].rip, steps());
    }

    @Override
    public void breakpointHit(Cpu c) {
        breakpointCpu = c;
        if (hostCpus != null) hostCpus[c.index].grant(0); // the host's guest loop yields at once
    }

    /** Applies the submitted events and those scheduled for this step or earlier, recording each. */
    private void applyExternalEvents() {
        if (scheduled.isEmpty() && submitted.isEmpty()) return;
        long now = steps();
        while (!scheduled.isEmpty() && scheduled.get(0).step() <= now) apply(scheduled.remove(0).event(), now);
        for (ExternalEvent e; (e = submitted.poll()) != null; ) apply(e, now);
    }

    private void apply(ExternalEvent e, long now) {
        applied.add(new ExternalEvent.Applied(now, e));
        switch (e) {
            case ExternalEvent.Nmi n -> {
                for (Cpu c : cpus) if (n.cpu() < 0 || n.cpu() == c.index) c.raiseNmi();
            }
            case ExternalEvent.WritePhysical w -> {
                for (int i = 0; i < w.bytes().length; i++) mem.write8(w.address() + i, w.bytes()[i]);
                for (Cpu c : cpus) c.dropFetchCache(); // code may have changed: no stale decoded instructions
            }
            case ExternalEvent.WriteRegister r -> {
                Cpu c = cpus[r.cpu()];
                if (r.register() == ExternalEvent.WriteRegister.RIP) c.rip = r.value();
                else c.r[r.register()] = r.value();
            }
        }
    }

    /**
     * The scheduler loop under run control: external events at boundaries, quanta cut at
     * scheduled steps, at {@code untilStep} and at breakpoints, and a cut quantum carried on
     * afterwards on its CPU, so that none of these changes the schedule a replay follows.
     */
    private Stop runControlled(Scheduler.Target inner, java.util.function.BooleanSupplier condition, long untilStep) {
        Stop[] why = new Stop[1];
        Scheduler.Target controlled = new Scheduler.Target() {
            @Override public int cpuCount() { return inner.cpuCount(); }
            @Override public boolean runnable(int cpu) { return inner.runnable(cpu); }
            @Override public Coroutine coroutine(int cpu) { return inner.coroutine(cpu); }
            @Override public long steps() { return inner.steps(); }
            @Override public void noRunnableCpu() { inner.noRunnableCpu(); }
            @Override public void stepLimit() { inner.stepLimit(); }

            @Override
            public void atBoundary() {
                applyExternalEvents();
                inner.atBoundary();
            }

            @Override
            public int continuing() {
                if (carryCpu < 0) return -1;
                if (!inner.runnable(carryCpu)) {
                    dropCarry();
                    return -1;
                }
                return carryCpu;
            }

            @Override
            public long continuingQuantum() {
                return carryLeft;
            }

            @Override
            public void grant(int cpu, long quantum) {
                if (carryCpu != cpu) {
                    dropCarry();
                    carryChoice = quantum;
                    carryLeft = quantum;
                }
                carryCpu = -1;
                long now = steps();
                long next = scheduled.isEmpty() ? -1 : scheduled.get(0).step();
                if (untilStep > now && (next < 0 || untilStep < next)) next = untilStep;
                long allowed = next > now && next - now < quantum ? next - now : quantum;
                grantedCpu = cpu;
                grantedAt = now;
                grantedQuantum = quantum;
                allowedQuantum = allowed;
                inner.grant(cpu, allowed);
            }

            @Override
            public boolean finished() {
                afterQuantum();
                if (inner.finished()) return true;
                if (breakpointCpu != null) {
                    why[0] = stop(Stop.Kind.BREAKPOINT, breakpointCpu.index);
                    breakpointCpu = null;
                    return true;
                }
                if (pauseRequested) {
                    pauseRequested = false;
                    why[0] = stop(Stop.Kind.PAUSED, -1);
                    return true;
                }
                if (untilStep >= 0 && steps() >= untilStep) {
                    why[0] = stop(Stop.Kind.STEP_REACHED, -1);
                    return true;
                }
                if (condition != null && condition.getAsBoolean()) {
                    why[0] = stop(Stop.Kind.CONDITION, -1);
                    return true;
                }
                return false;
            }
        };
        try {
            scheduler.run(controlled, config.maxSteps());
        } catch (RuntimeException | StackOverflowError e) {
            simulatorError("scheduler", e);
        }
        serial.flush();
        return ending != null || why[0] == null ? stop(Stop.Kind.FINISHED, -1) : why[0];
    }

    /**
     * After a quantum: if run control cut it (a breakpoint, or the grant was shortened to a
     * control step and the CPU ran all of it), what is left of it is carried on.
     */
    private void afterQuantum() {
        if (grantedCpu < 0) return;
        long ran = steps() - grantedAt;
        boolean cut = breakpointCpu != null || (allowedQuantum < grantedQuantum && ran >= allowedQuantum);
        if (cut && ending == null && grantedQuantum - ran > 0) {
            carryCpu = grantedCpu;
            carryLeft = grantedQuantum - ran;
        } else if (carryLeft > 0) {
            // the quantum ended on its own: nothing is left to carry
            carryLeft = 0;
        }
        grantedCpu = -1;
    }

    /** How the run ended and the CPUs' state; only once it has ended. */
    public RunResult result() {
        if (ending == null) throw new IllegalStateException("the run has not ended");
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
            watch = new org.hvlab.machine.cpu.MemoryWatch(memory(), cpus);
            bus.subscribe(e -> {
                RunEnding.IsolationBreach b = ((MachineEvent.WatchHit) e).breach();
                finish(b.withSymbol(symbols.lookup(b.rip())));
            }, MachineEvent.Kind.WATCH_HIT);
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
    /** The machine's event stream (docs/architecture.md "One machine event stream"). */
    public EventBus events() { return bus; }
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
