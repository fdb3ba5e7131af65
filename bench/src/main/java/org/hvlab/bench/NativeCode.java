package org.hvlab.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A loop run natively on the host CPU: the bytes are copied into an anonymous mapping that is
 * then made read+execute (never writable and executable at once), and called through an FFM
 * downcall as {@code long f(long iterations, void *data)} under the System V AMD64 ABI
 * (iterations in RDI, data pointer in RSI, result in RAX).
 *
 * <p>The code must obey that ABI: it may clobber only RAX RCX RDX RSI RDI R8-R11 and flags,
 * must leave RSP and the stack alone, must not fault (a fault kills the JVM), and must return.
 * Requires {@code --enable-native-access=ALL-UNNAMED}.
 */
final class NativeCode implements AutoCloseable {
    private static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    private static final int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;
    private static final long PAGE = 4096;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP, MPROTECT, MUNMAP;

    static {
        SymbolLookup libc = LINKER.defaultLookup();
        MMAP = LINKER.downcallHandle(libc.find("mmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        MPROTECT = LINKER.downcallHandle(libc.find("mprotect").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        MUNMAP = LINKER.downcallHandle(libc.find("munmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    }

    private final long base, length;
    private final MethodHandle fn;

    NativeCode(byte[] code) {
        String arch = System.getProperty("os.arch", "");
        if (!System.getProperty("os.name", "").startsWith("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new UnsupportedOperationException("native loops need Linux on x86-64, this is " + System.getProperty("os.name") + "/" + arch);
        }
        length = Math.max(PAGE, (code.length + PAGE - 1) & -PAGE);
        try {
            MemorySegment p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, length, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (p.address() == -1L || p.address() == 0L) throw new IllegalStateException("mmap failed");
            base = p.address();
            MemorySegment.copy(code, 0, p.reinterpret(length), ValueLayout.JAVA_BYTE, 0, code.length);
            int rc = (int) MPROTECT.invokeExact(p, length, PROT_READ | PROT_EXEC);
            if (rc != 0) throw new IllegalStateException("mprotect(PROT_READ|PROT_EXEC) failed");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        fn = LINKER.downcallHandle(MemorySegment.ofAddress(base),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    }

    /** Calls the code with RDI = iterations, RSI = data; returns RAX. */
    long call(long iterations, MemorySegment data) {
        try {
            return (long) fn.invokeExact(iterations, data);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A zeroed, page-aligned native buffer that lives as long as the arena. */
    static MemorySegment buffer(Arena arena, long bytes) {
        return arena.allocate(bytes, PAGE);
    }

    @Override
    public void close() {
        try {
            int rc = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(base), length);
            if (rc != 0) throw new IllegalStateException("munmap failed");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
