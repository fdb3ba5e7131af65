package org.hvlab.bench;

import java.io.OutputStream;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.events.MachineEvent;
import org.hvlab.machine.mem.PhysicalMemory;
import org.hvlab.machine.sched.RoundRobin;

/**
 * A {@link Machine} with every CPU in the boot-protocol 64-bit state (identity-mapped 0-4 GiB
 * with 2 MiB pages, flat GDT) at the start of a {@link Loop}, each with its own data area in
 * RSI. Any exception a CPU raises aborts the benchmark: the loops must run fault-free.
 */
final class GuestMachine {
    static final long CODE = 0x200000;
    private static final long DATA = 0x400000, DATA_STRIDE = 0x10000, STACK_TOP = 0x80000;
    private static final long[] GDT = {0, 0x00209A0000000000L, 0x00CF92000000FFFFL};

    final Machine machine;

    GuestMachine(int cpus, Loop loop) {
        machine = new Machine(new MachineConfig(cpus, 64L << 20, Long.MAX_VALUE, new RoundRobin(1000)),
                OutputStream.nullOutputStream());
        PhysicalMemory mem = machine.memory();
        mem.write64(BootLoader.PML4, BootLoader.PDPT | 3);
        for (int i = 0; i < 4; i++) mem.write64(BootLoader.PDPT + 8L * i, (BootLoader.PD0 + 0x1000L * i) | 3);
        for (long j = 0; j < 2048; j++) mem.write64(BootLoader.PD0 + 8 * j, (j << 21) | 0x83);
        for (int i = 0; i < GDT.length; i++) mem.write64(BootLoader.GDT + 8L * i, GDT[i]);
        byte[] code = loop.guestCode();
        mem.writeBytes(CODE, code, 0, code.length);
        for (int i = 0; i < cpus; i++) {
            Cpu c = machine.cpu(i);
            c.bootstrapLongMode(CODE, STACK_TOP - 0x1000L * i, 0);
            c.r[Cpu.RSI] = dataAddress(i);
            c.r[Cpu.RCX] = Long.MAX_VALUE; // the loop never falls through in a benchmark
            c.bus.subscribe(e -> {
                MachineEvent.ExceptionRaised x = (MachineEvent.ExceptionRaised) e;
                throw new IllegalStateException(String.format("CPU %d raised exception %d at rip=0x%x in the %s loop", x.cpu(), x.vector(), x.rip(), loop));
            }, MachineEvent.Kind.EXCEPTION);
        }
    }

    static long dataAddress(int cpu) {
        return DATA + DATA_STRIDE * cpu;
    }

    Cpu cpu(int i) {
        return machine.cpu(i);
    }

    /** Throws if the machine reached a verdict (a CPU failed inside its coroutine). */
    void checkRunning() {
        if (machine.finished()) {
            throw new IllegalStateException("machine stopped: " + machine.run().message(), machine.lastError());
        }
    }
}
