package org.hvlab.machine.cpu.diff;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Locale;

/**
 * Test support: executes a short sequence of x86-64 machine code natively on the host CPU,
 * in-process, via the Foreign Function &amp; Memory API. Intended as the reference side of
 * differential tests of the x86 interpreter.
 *
 * <p>No native code is compiled: the harness around the user code is emitted as bytes here.
 * An instance owns an RWX code area (64 KiB, {@code mmap}ed) and a page-aligned RW data buffer.
 * Each {@link #run} writes <em>prologue + user code + trailer</em> into the code area and calls it:
 * <pre>
 *   prologue: save RBX RBP R12-R15, host RFLAGS, MXCSR and x87 FCW; push the state pointer;
 *             RFLAGS := (host &amp; ~(0x8D5|DF)) | (in &amp; 0x8D5); load the 15 GPRs other than RSP
 *   user code (falls through)
 *   trailer:  pushfq; store the 15 GPRs and that RFLAGS into the state block;
 *             restore FCW, MXCSR, host RFLAGS (so DF/AC set by the code do not leak), callee-saved; ret
 * </pre>
 * The state pointer lives on the stack at a fixed offset from RSP, which the user code must not
 * change. The user code is rewritten on every call whose bytes differ from the previous call's
 * (a rewrite of identical bytes is skipped, as it only costs self-modifying-code overhead).
 *
 * <h2>Contract for the code bytes — violations crash or corrupt the JVM</h2>
 * <ul>
 *   <li>Must not fault: #DE (div by zero / quotient overflow), #UD, #GP, #PF, INT3, etc. are
 *       delivered as signals to the JVM, which will abort the process (hs_err) or mis-handle them.
 *       Callers must pre-filter operands (e.g. only {@code div} with a non-zero divisor whose
 *       quotient fits) and only touch memory in {@link #data()}.</li>
 *   <li>Must not read or write RSP, push/pop, call/ret, or otherwise use the stack
 *       (the slot at [RSP] holds the harness state pointer; stack below RSP is live too).</li>
 *   <li>Must fall off its end: control must reach the byte after the last instruction.
 *       Relative branches inside the sequence are fine (the bytes are copied contiguously);
 *       RIP-relative memory operands refer to the code area and are not meaningful.</li>
 *   <li>Must not leave the x87 register stack non-empty, enable unmasked FP exceptions that
 *       then fire, or execute privileged / long-running instructions. XMM/YMM registers may be
 *       clobbered freely (they are caller-saved); MXCSR and the x87 control word are restored.</li>
 *   <li>Runs as a "critical" downcall (no safepoint transition): it must be short.</li>
 * </ul>
 *
 * <h2>Flags</h2>
 * Only CF PF AF ZF SF OF (mask {@code 0x8D5}) are taken from the input; DF is 0 on entry;
 * all other bits (IF, bit 1, AC, ...) keep the host's value. The returned RFLAGS is whatever
 * {@code pushfq} produced after the sequence, including bits that are architecturally
 * <em>undefined</em> for the executed instructions (e.g. SF/ZF/AF/PF after {@code mul/imul},
 * all six after {@code div}) — compare those under a mask. RF and VM read as 0; IF reads 1.
 *
 * <h2>Threading</h2>
 * An instance has a single code area and state block, so calls on one instance are serialized
 * ({@link #run} and {@link #close} are {@code synchronized}); use one instance per thread for
 * parallel execution. Distinct instances are independent. The memory behind {@link #data()}
 * is shared with the executed code and is not synchronized beyond that.
 *
 * <p>Requires native access ({@code --enable-native-access=ALL-UNNAMED}); without it the JDK
 * prints a warning on first restricted call.
 */
public final class NativeX86 implements AutoCloseable {

    private static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    private static final int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;
    private static final long PAGE = 4096;
    private static final int CODE_BYTES = 64 * 1024;
    /** Flags taken from the caller: CF PF AF ZF SF OF. */
    public static final long FLAGS_IN_MASK = 0x8D5L;
    private static final long DF = 0x400L;
    private static final int STATE_LONGS = 17;
    private static final int FLAGS_OFF = 16 * 8;

    private static final byte[] PROLOGUE = buildPrologue();
    private static final byte[] TRAILER = buildTrailer();
    /** Largest accepted user code. */
    public static final int MAX_CODE_BYTES = CODE_BYTES - PROLOGUE.length - TRAILER.length;

    // ---- lazily initialized native bindings ----
    private static final class Native {
        static final MethodHandle MMAP, MUNMAP, CALL;
        static {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            MMAP = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            MUNMAP = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            // void harness(u64 *state); critical: no thread-state transition, the code is short.
            CALL = linker.downcallHandle(FunctionDescriptor.ofVoid(ValueLayout.ADDRESS),
                    Linker.Option.critical(false));
        }

        static long mmap(long len, int prot) {
            try {
                MemorySegment p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, len, prot,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
                long a = p.address();
                if (a == -1L || a == 0L) {
                    throw new IllegalStateException("mmap(" + len + ", prot=" + prot + ") failed");
                }
                return a;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        static void munmap(long addr, long len) {
            try {
                int r = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(addr), len);
                if (r != 0) {
                    throw new IllegalStateException("munmap failed");
                }
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    private static volatile Boolean available;

    /** True on Linux x86-64 where an anonymous PROT_EXEC mapping can be created. */
    public static boolean available() {
        Boolean a = available;
        if (a == null) {
            a = probe();
            available = a;
        }
        return a;
    }

    private static boolean probe() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return false;
        }
        try {
            long a = Native.mmap(PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
            Native.munmap(a, PAGE);
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    private final Arena arena = Arena.ofShared();
    private final long codeAddr;
    private final long dataAddr;
    private final long dataMapBytes;
    private final MemorySegment code;
    private final MemorySegment data;
    private final MemorySegment state;
    private byte[] installed; // private copy of the user code currently in the code area
    private boolean closed;

    /** Allocates an RWX code area (64 KiB) and a page-aligned RW data buffer of {@code dataBytes} bytes. */
    public NativeX86(int dataBytes) {
        if (dataBytes < 0) {
            throw new IllegalArgumentException("dataBytes < 0");
        }
        if (!available()) {
            arena.close();
            throw new UnsupportedOperationException("native x86-64 execution not available on this host");
        }
        long dm = Math.max(PAGE, (dataBytes + PAGE - 1) & -PAGE);
        long c = 0, d = 0;
        try {
            c = Native.mmap(CODE_BYTES, PROT_READ | PROT_WRITE | PROT_EXEC);
            d = Native.mmap(dm, PROT_READ | PROT_WRITE);
        } catch (RuntimeException e) {
            if (c != 0) {
                Native.munmap(c, CODE_BYTES);
            }
            arena.close();
            throw e;
        }
        codeAddr = c;
        dataAddr = d;
        dataMapBytes = dm;
        // Segments are bound to the arena, so use after close() throws instead of crashing.
        code = MemorySegment.ofAddress(c).reinterpret(CODE_BYTES, arena, null);
        data = MemorySegment.ofAddress(d).reinterpret(dataBytes, arena, null);
        state = arena.allocate(STATE_LONGS * 8L, 64);
        MemorySegment.copy(PROLOGUE, 0, code, ValueLayout.JAVA_BYTE, 0, PROLOGUE.length);
    }

    /** Native address of the data buffer (page-aligned). */
    public long dataAddress() {
        return dataAddr;
    }

    /** The data buffer ({@code dataBytes} long); invalid after {@link #close()}. */
    public MemorySegment data() {
        return data;
    }

    /**
     * Runs {@code code} natively; see the class comment for the contract the bytes must obey.
     *
     * @param code   the instruction bytes (at most {@link #MAX_CODE_BYTES}); must not fault
     * @param gpr    16 values in encoding order RAX,RCX,RDX,RBX,RSP,RBP,RSI,RDI,R8..R15;
     *               gpr[4] is ignored on input
     * @param rflags only CF PF AF ZF SF OF ({@code 0x8D5}) are loaded; DF is 0; others are the host's
     * @return long[17]: the 16 registers after the sequence (element 4 = input gpr[4]) and the
     *         full RFLAGS as element 16
     */
    public synchronized long[] run(byte[] code, long[] gpr, long rflags) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        if (gpr.length != 16) {
            throw new IllegalArgumentException("gpr must have 16 elements");
        }
        if (code.length > MAX_CODE_BYTES) {
            throw new IllegalArgumentException("code longer than " + MAX_CODE_BYTES + " bytes");
        }
        MemorySegment cs = this.code;
        // (Re)write user code + trailer unless the bytes equal those already in place: storing into
        // recently executed code lines is legal on x86 (no explicit invalidation needed) but costs
        // roughly 50 ns per call in self-modifying-code handling, so identical rewrites are skipped.
        if (!Arrays.equals(code, installed)) {
            long off = PROLOGUE.length;
            MemorySegment.copy(code, 0, cs, ValueLayout.JAVA_BYTE, off, code.length);
            MemorySegment.copy(TRAILER, 0, cs, ValueLayout.JAVA_BYTE, off + code.length, TRAILER.length);
            installed = code.clone();
        }

        MemorySegment st = state;
        MemorySegment.copy(gpr, 0, st, ValueLayout.JAVA_LONG, 0, 16);
        st.set(ValueLayout.JAVA_LONG, FLAGS_OFF, rflags);
        try {
            Native.CALL.invokeExact(cs, st);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        long[] out = new long[STATE_LONGS];
        MemorySegment.copy(st, ValueLayout.JAVA_LONG, 0, out, 0, STATE_LONGS);
        out[4] = gpr[4];
        return out;
    }

    /** Unmaps the code area and data buffer. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
        Native.munmap(codeAddr, CODE_BYTES);
        Native.munmap(dataAddr, dataMapBytes);
    }

    // ---------------------------------------------------------------- machine code

    private static void emit(ByteArrayOutputStream b, int... bytes) {
        for (int x : bytes) {
            b.write(x);
        }
    }

    private static byte[] buildPrologue() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        emit(b, 0xF3, 0x0F, 0x1E, 0xFA);              // endbr64 (NOP without CET/IBT)
        emit(b, 0x53);                                // push rbx
        emit(b, 0x55);                                // push rbp
        emit(b, 0x41, 0x54);                          // push r12
        emit(b, 0x41, 0x55);                          // push r13
        emit(b, 0x41, 0x56);                          // push r14
        emit(b, 0x41, 0x57);                          // push r15
        emit(b, 0x9C);                                // pushfq                 (host flags)
        emit(b, 0x48, 0x83, 0xEC, 0x08);              // sub rsp, 8
        emit(b, 0x0F, 0xAE, 0x1C, 0x24);              // stmxcsr [rsp]
        emit(b, 0xD9, 0x7C, 0x24, 0x04);              // fnstcw [rsp+4]
        emit(b, 0x57);                                // push rdi               (state ptr at [rsp])
        emit(b, 0x48, 0x8B, 0x87, 0x80, 0, 0, 0);     // mov rax, [rdi+128]
        emit(b, 0x48, 0x25, 0xD5, 0x08, 0, 0);        // and rax, 0x8D5
        emit(b, 0x9C);                                // pushfq
        emit(b, 0x59);                                // pop rcx
        emit(b, 0x48, 0x81, 0xE1, 0x2A, 0xF3, 0xFF, 0xFF); // and rcx, ~0xCD5 (clear status + DF)
        emit(b, 0x48, 0x09, 0xC1);                    // or rcx, rax
        emit(b, 0x51);                                // push rcx
        emit(b, 0x9D);                                // popfq
        // mov reg, [rdi + 8*reg] for all but RSP; RDI last
        for (int r = 0; r < 16; r++) {
            if (r != 4 && r != 7) {
                emitRdi(b, 0x8B, r);
            }
        }
        emitRdi(b, 0x8B, 7);
        return b.toByteArray();
    }

    /** {@code op r64, [base + 8*r]} with base RDI (op 0x8B) or RAX (op 0x89, store). */
    private static void emitRdi(ByteArrayOutputStream b, int op, int r) {
        emitMem(b, op, r, 7);
    }

    private static void emitMem(ByteArrayOutputStream b, int op, int r, int base) {
        emit(b, 0x48 | (r >= 8 ? 0x04 : 0), op, 0x40 | ((r & 7) << 3) | base, r * 8);
    }

    private static byte[] buildTrailer() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        emit(b, 0x9C);                                // pushfq                 (guest flags)
        emit(b, 0x50);                                // push rax
        emit(b, 0x48, 0x8B, 0x44, 0x24, 0x10);        // mov rax, [rsp+16]      (state ptr)
        for (int r = 1; r < 16; r++) {
            if (r != 4) {
                emitMem(b, 0x89, r, 0);               // mov [rax + 8*r], reg
            }
        }
        emit(b, 0x59);                                // pop rcx                (guest rax)
        emit(b, 0x48, 0x89, 0x48, 0x00);              // mov [rax], rcx
        emit(b, 0x59);                                // pop rcx                (guest rflags)
        emit(b, 0x48, 0x89, 0x88, 0x80, 0, 0, 0);     // mov [rax+128], rcx
        emit(b, 0x58);                                // pop rax                (state ptr)
        emit(b, 0x0F, 0xAE, 0x14, 0x24);              // ldmxcsr [rsp]
        emit(b, 0xD9, 0x6C, 0x24, 0x04);              // fldcw [rsp+4]
        emit(b, 0x48, 0x83, 0xC4, 0x08);              // add rsp, 8
        emit(b, 0x9D);                                // popfq                  (host flags)
        emit(b, 0x41, 0x5F);                          // pop r15
        emit(b, 0x41, 0x5E);                          // pop r14
        emit(b, 0x41, 0x5D);                          // pop r13
        emit(b, 0x41, 0x5C);                          // pop r12
        emit(b, 0x5D);                                // pop rbp
        emit(b, 0x5B);                                // pop rbx
        emit(b, 0xC3);                                // ret
        return b.toByteArray();
    }

    /** For inspection/tests: the fixed harness bytes around user code. */
    static byte[][] harnessBytes() {
        return new byte[][] {PROLOGUE.clone(), TRAILER.clone()};
    }
}
