package org.hvlab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Assembles AT&amp;T-syntax x86-64 code into flat bytes with GNU {@code as} and {@code objcopy}. */
final class GuestAsm {
    private GuestAsm() {}

    static byte[] assemble(String source) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("hvlab-bench-asm");
            Path src = dir.resolve("loop.s"), obj = dir.resolve("loop.o"), bin = dir.resolve("loop.bin");
            Files.writeString(src, "\t.text\n\t.code64\n" + source + "\n");
            exec(dir, "as", "--64", "-o", obj.toString(), src.toString());
            exec(dir, "objcopy", "-O", "binary", "-j", ".text", obj.toString(), bin.toString());
            return Files.readAllBytes(bin);
        } catch (IOException e) {
            throw new IllegalStateException("assembling a benchmark loop failed (GNU binutils needed): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while assembling", e);
        } finally {
            if (dir != null) deleteTree(dir);
        }
    }

    private static void exec(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": timed out");
        }
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + ": " + out.strip());
    }

    private static void deleteTree(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a leftover temp directory is harmless
        }
    }
}
