package org.hvlab.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.hvlab.machine.cpu.Cpu;

/**
 * The benchmark loops. Each body is assembled once and runs both in the simulator (followed by
 * {@code jmp 1b}, with RCX so large the loop never ends) and natively (between a prologue that
 * sets up the registers and an epilogue that stores them for the self-check, then {@code ret}).
 * The body bytes are identical in both. Registers: RCX counts iterations, RSI points at the
 * data, RAX RDX R8 R9 are working registers starting at zero - all caller-saved in the SysV ABI.
 */
enum Loop {
    /** Register ALU work and a loop branch: add, xor, sub-immediate, add, dec, jnz. */
    ALU(6, """
            1:  add  %rdx, %rax
                xor  %rax, %r8
                sub  $3, %rdx
                add  %r8, %r9
                dec  %rcx
                jnz  1b
            """),
    /** Walks 1024 qwords (8 KiB, three guest pages): a load, a store, two read-modify-writes. */
    MEMORY(9, """
            1:  mov  (%rsi,%rdx,8), %rax
                add  %rax, %r8
                mov  %r8, 8(%rsi,%rdx,8)
                xor  %r8, 16(%rsi,%rdx,8)
                addq $3, 24(%rsi,%rdx,8)
                inc  %edx
                and  $1023, %edx
                dec  %rcx
                jnz  1b
            """);

    /** Bytes of data the loops touch (both loops stay below this). */
    static final int DATA_BYTES = 8192 + 64;
    /** Where the native epilogue stores RAX RDX R8 R9 RCX, past the loop's data. */
    static final int SAVE_OFF = 0x3F00;
    /** Size of the native data buffer. */
    static final int NATIVE_BUFFER = 0x4000;

    private static final String PROLOGUE = """
                mov  %rdi, %rcx
                xor  %eax, %eax
                xor  %edx, %edx
                xor  %r8d, %r8d
                xor  %r9d, %r9d
            """;
    private static final String EPILOGUE = """
                mov  %rax, 0x3f00(%rsi)
                mov  %rdx, 0x3f08(%rsi)
                mov  %r8, 0x3f10(%rsi)
                mov  %r9, 0x3f18(%rsi)
                mov  %rcx, 0x3f20(%rsi)
                ret
            """;

    /** Instructions in one iteration of the body. */
    final int bodyInstructions;
    private final String body;
    private byte[] bodyBytes, guest, nat;

    Loop(int bodyInstructions, String body) {
        this.bodyInstructions = bodyInstructions;
        this.body = body;
    }

    private synchronized void assemble() {
        if (guest != null) return;
        bodyBytes = GuestAsm.assemble(body);
        byte[] g = GuestAsm.assemble(body + "    jmp 1b\n");
        byte[] pro = GuestAsm.assemble(PROLOGUE);
        byte[] n = GuestAsm.assemble(PROLOGUE + body + EPILOGUE);
        if (!Arrays.equals(g, 0, bodyBytes.length, bodyBytes, 0, bodyBytes.length)
                || !Arrays.equals(n, pro.length, pro.length + bodyBytes.length, bodyBytes, 0, bodyBytes.length)) {
            throw new IllegalStateException(this + ": the guest and native loop bodies assembled differently");
        }
        guest = g;
        nat = n;
    }

    /** Body followed by {@code jmp 1b}: the code the simulated CPUs run. */
    byte[] guestCode() {
        assemble();
        return guest.clone();
    }

    /** Prologue, body, epilogue: the host function {@code long f(long iterations, void *data)}. */
    byte[] nativeCode() {
        assemble();
        return nat.clone();
    }

    int bodyBytes() {
        assemble();
        return bodyBytes.length;
    }

    /**
     * Differential check: the same number of iterations interpreted and native must end with the
     * same RAX RDX R8 R9 RCX and the same data bytes; also confirms the instruction count per
     * iteration. Throws on any difference.
     */
    void selfCheck() {
        final int iterations = 3000;
        GuestMachine g = new GuestMachine(1, this);
        Cpu cpu = g.cpu(0);
        cpu.r[Cpu.RCX] = iterations;
        long ran = cpu.run((long) iterations * bodyInstructions);
        if (ran != (long) iterations * bodyInstructions || cpu.rip != GuestMachine.CODE + bodyBytes()) {
            throw new IllegalStateException(String.format("%s: %d iterations of %d instructions should end at the jmp (rip 0x%x), ran %d and rip is 0x%x",
                    this, iterations, bodyInstructions, GuestMachine.CODE + bodyBytes(), ran, cpu.rip));
        }
        try (Arena arena = Arena.ofConfined(); NativeCode nc = new NativeCode(nativeCode())) {
            MemorySegment buf = NativeCode.buffer(arena, NATIVE_BUFFER);
            nc.call(iterations, buf);
            int[] regs = {Cpu.RAX, Cpu.RDX, 8, 9, Cpu.RCX};
            for (int i = 0; i < regs.length; i++) {
                long nv = buf.get(ValueLayout.JAVA_LONG_UNALIGNED, SAVE_OFF + 8L * i);
                if (nv != cpu.r[regs[i]]) {
                    throw new IllegalStateException(String.format("%s: %s is 0x%x interpreted, 0x%x native",
                            this, Cpu.REG_NAMES[regs[i]], cpu.r[regs[i]], nv));
                }
            }
            byte[] guestData = g.machine.memory().readBytes(GuestMachine.dataAddress(0), DATA_BYTES);
            byte[] hostData = buf.asSlice(0, DATA_BYTES).toArray(ValueLayout.JAVA_BYTE);
            int at = Arrays.mismatch(guestData, hostData);
            if (at >= 0) throw new IllegalStateException(this + ": data differs at byte " + at);
        }
    }
}
