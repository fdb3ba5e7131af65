package org.hvlab.machine.cpu;

import org.hvlab.machine.events.MachineEvent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.sched.RoundRobin;

/**
 * A single CPU in 64-bit mode for instruction tests: boot-protocol page tables (0-4 GiB
 * identity, 2 MiB pages) plus a 4 KiB-page region the test maps as it likes, and an exception
 * recorder instead of an IDT. Code runs one instruction at a time.
 */
public final class TestCpu {
    public static final long CODE = 0x200000;
    public static final long DATA = 0x400000;

    /** The boot GDT plus 64-bit user code (0x2B) and user data (0x33) descriptors, for CPL 3 tests. */
    public static final long[] GDT = {0, 0x00209A0000000000L, 0x00CF92000000FFFFL, 0x00CF9A000000FFFFL,
            0x00009A000000FFFFL, 0x0020FA0000000000L, 0x00CFF2000000FFFFL};

    public final Machine machine;
    public final Cpu cpu;
    /** The last exception raised, or -1. */
    public int faultVector = -1;
    public int faultError;
    public long faultRip;
    private long nextTable = 0x3000000; // bump allocator for 4 KiB page tables

    public TestCpu() {
        this(org.hvlab.machine.vmx.CpuProfile.defaultProfile());
    }

    public TestCpu(org.hvlab.machine.vmx.CpuProfile profile) {
        machine = new Machine(new MachineConfig(1, 128L << 20, Long.MAX_VALUE, new RoundRobin(1000), profile), null);
        cpu = machine.cpu(0);
        var mem = machine.memory();
        mem.write64(BootLoader.PML4, BootLoader.PDPT | 7);
        for (int i = 0; i < 4; i++) mem.write64(BootLoader.PDPT + 8L * i, (BootLoader.PD0 + 0x1000L * i) | 7);
        for (long j = 0; j < 2048; j++) mem.write64(BootLoader.PD0 + 8 * j, (j << 21) | 0x87); // user, writable
        for (int i = 0; i < GDT.length; i++) mem.write64(BootLoader.GDT + 8L * i, GDT[i]);
        cpu.bootstrapLongMode(CODE, 0x80000, 0);
        cpu.gdtrLimit = GDT.length * 8 - 1;
        cpu.bus.subscribe(faultRecorder, MachineEvent.Kind.EXCEPTION);
    }

    /** Records the last exception an instruction raised (the event stream's view of it). */
    private final org.hvlab.machine.events.EventBus.Subscriber faultRecorder = e -> {
        MachineEvent.ExceptionRaised x = (MachineEvent.ExceptionRaised) e;
        faultVector = x.vector();
        faultError = x.error();
        faultRip = x.rip();
    };

    /** Records exceptions again (after {@link #observerOff}). */
    public void observerOn() {
        cpu.bus.unsubscribe(faultRecorder);
        cpu.bus.subscribe(faultRecorder, MachineEvent.Kind.EXCEPTION);
    }

    /** Stops recording exceptions (tests that install their own IDT handlers). */
    public void observerOff() {
        cpu.bus.unsubscribe(faultRecorder);
    }

    /** Maps one 4 KiB page at a linear address anywhere in the canonical space (user, writable). */
    public void map4k(long linear, long phys, boolean user, boolean writable, boolean nx) {
        var mem = machine.memory();
        long table = BootLoader.PML4;
        for (int level = 4; level > 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long ea = table + ((linear >>> shift) & 0x1FF) * 8;
            long e = mem.read64(ea);
            if ((e & 1) == 0 || (e & 0x80) != 0) {
                long t = nextTable;
                nextTable += 0x1000;
                for (int i = 0; i < 512; i++) mem.write64(t + 8L * i, 0);
                e = t | 7;
                mem.write64(ea, e);
            }
            table = e & 0x000FFFFFFFFFF000L;
        }
        long pte = phys | 1 | (writable ? 2 : 0) | (user ? 4 : 0) | (nx ? 1L << 63 : 0);
        mem.write64(table + ((linear >>> 12) & 0x1FF) * 8, pte);
        cpu.flushTlb();
    }

    public void load(long phys, byte[] code) {
        machine.memory().writeBytes(phys, code, 0, code.length);
    }

    /**
     * Runs from {@code start} until RIP reaches {@code end}, an exception is raised, or
     * {@code maxInstructions} pass. Returns the exception vector or -1.
     */
    public int run(long start, long end, int maxInstructions) {
        cpu.rip = start;
        cpu.activity = Cpu.ACTIVE; // a previous fault with no IDT ended in shutdown...
        cpu.stopRequested = false; // ...which also ended the machine's run
        faultVector = -1;
        for (int i = 0; i < maxInstructions && cpu.rip != end; i++) {
            cpu.run(1);
            if (faultVector >= 0) return faultVector;
        }
        return faultVector;
    }

    /** Loads code at CODE and runs it to its end. */
    public int exec(byte[] code) {
        load(CODE, code);
        return run(CODE, CODE + code.length, 100_000);
    }

    private static byte[] setupCode;

    /** vmxon (%rbx); vmclear 8(%rbx); vmptrld 8(%rbx); vmlaunch — four 4-byte instructions, assembled once. */
    static synchronized byte[] assemble0() {
        if (setupCode == null) setupCode = assemble("vmxon (%rbx)\nvmclear 8(%rbx)\nvmptrld 8(%rbx)\nvmlaunch\nnop");
        return setupCode;
    }

    /** Assembles AT&T-syntax 64-bit code with GNU as (binutils are a build requirement). */
    public static byte[] assemble(String source) {
        try {
            Path dir = Files.createTempDirectory("hvlab-asm");
            Path s = dir.resolve("t.s"), o = dir.resolve("t.o"), b = dir.resolve("t.bin");
            Files.writeString(s, ".text\n" + source + "\n");
            run(dir, "as", "--64", "-o", o.toString(), s.toString());
            run(dir, "objcopy", "-O", "binary", "-j", ".text", o.toString(), b.toString());
            byte[] bytes = Files.readAllBytes(b);
            for (Path p : new Path[] {s, o, b}) Files.deleteIfExists(p);
            Files.deleteIfExists(dir);
            return bytes;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("assembling failed: " + e.getMessage(), e);
        }
    }

    private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + ": " + out);
    }
}
