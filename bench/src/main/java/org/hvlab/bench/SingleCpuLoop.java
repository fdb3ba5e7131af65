package org.hvlab.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.hvlab.machine.cpu.Cpu;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * State shared by the one-CPU loop benchmarks: the loop interpreted on a machine and the same
 * bytes callable natively. Subclasses name the loop and keep their own {@code @Benchmark}
 * methods, whose {@code @OperationsPerInvocation} constants depend on the loop length.
 */
@State(Scope.Thread)
public abstract class SingleCpuLoop {
    protected Cpu cpu;
    protected NativeCode host;
    protected MemorySegment data;
    private Arena arena;

    /** The loop under test. */
    protected abstract Loop loop();

    /** Instructions per iteration the subclass's annotations assume. */
    protected abstract int assumedBodyInstructions();

    @Setup(Level.Trial)
    public void setup() {
        Loop l = loop();
        if (l.bodyInstructions != assumedBodyInstructions()) {
            throw new IllegalStateException("@OperationsPerInvocation assumes " + assumedBodyInstructions() + " instructions per iteration");
        }
        l.selfCheck();
        cpu = new GuestMachine(1, l).cpu(0);
        arena = Arena.ofShared();
        data = NativeCode.buffer(arena, Loop.NATIVE_BUFFER);
        host = new NativeCode(l.nativeCode());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        host.close();
        arena.close();
    }

    /** Runs the interpreted budget and returns a register so the work is not dead. */
    protected long runInterpreted(int resultRegister) {
        long n = cpu.run(Flags.INTERPRETED_INSTRUCTIONS);
        if (n != Flags.INTERPRETED_INSTRUCTIONS) throw new IllegalStateException("ran " + n + " instructions");
        return cpu.r[resultRegister];
    }
}
