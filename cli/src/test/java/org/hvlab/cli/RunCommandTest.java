package org.hvlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hvlab run} as docs/boot-protocol.md "Running an image" specifies it, bad input included. */
class RunCommandTest {
    record Result(int status, String out, String err) {}

    static synchronized Result hvlab(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true));
            System.setErr(new PrintStream(err, true));
            int st = Main.execute(args);
            return new Result(st, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** 'hvlab guests' lists every guest the build assembles (guests/src/main/asm/NAME.S), each loadable by name. */
    @Test
    void theGuestListIsEveryAssembledGuest() throws Exception {
        java.util.Set<String> sources = new java.util.TreeSet<>();
        try (var files = Files.list(Path.of("..", "guests", "src", "main", "asm"))) {
            files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".S")).forEach(n -> sources.add(n.substring(0, n.length() - 2)));
        }
        assertEquals(sources, new java.util.TreeSet<>(GuestImages.BUNDLED));
        for (String g : GuestImages.BUNDLED) assertTrue(GuestImages.class.getResource("/guests/" + g + ".elf") != null, g);
    }

    @Test
    void serialBytesOnStdoutAndGuestStatusAsExitStatus() {
        Result r = hvlab("run", "--image", "hello", "--cpus", "2", "--memory", "64M", "--cmdline", "x=1");
        assertEquals(0, r.status());
        assertEquals("Hello from hvlab\ncpus=2 ram=0x0000000004000000\ncmdline=x=1\n", r.out());
        assertEquals("", r.err());
    }

    @Test
    void underXmhfTheGuestPrintsWhatItPrintsOnTheBareMachine() {
        Result bare = hvlab("run", "--image", "smp", "--cpus", "4", "--seed", "5");
        Result xmhf = hvlab("run", "--image", "smp", "--cpus", "4", "--seed", "5", "--hypervisor", "xmhf");
        assertEquals(0, xmhf.status(), xmhf.err());
        assertEquals(bare.out(), xmhf.out());
    }

    @Test
    void xmhfOptionsAreTakenWithTheHypervisor() {
        Result r = hvlab("run", "--image", "hello", "--hypervisor", "xmhf", "--set", "virtual-nmis=false", "--set", "nmi-inject-at=arrival");
        assertEquals(0, r.status(), r.err());
    }

    @Test
    void summaryJsonHasVerdictStepsAndCpus(@TempDir Path dir) throws Exception {
        Path s = dir.resolve("s.json");
        Result r = hvlab("run", "--image", "smp", "--cpus", "3", "--seed", "7", "--summary", s.toString());
        assertEquals(0, r.status());
        String j = Files.readString(s);
        assertTrue(j.contains("\"verdict\": \"exited\""), j);
        assertTrue(j.contains("\"exitStatus\": 0"), j);
        assertTrue(j.matches("(?s).*\"steps\": [1-9][0-9]*.*"), j);
        assertEquals(3, j.split("\"instructions\"").length - 1, j);
        assertTrue(j.contains("\"symbol\": \"ap_park"), "APs halted in the guest's AP code: " + j);
    }

    @Test
    void stepLimitIsItsOwnStatusWithOneLineOnStderr() {
        Result r = hvlab("run", "--image", "smp", "--cpus", "2", "--max-steps", "1000");
        assertEquals(100, r.status());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("step limit"), r.err());
    }

    @Test
    void badInputGetsOneLineAndStatusTwo(@TempDir Path dir) throws Exception {
        Path junk = dir.resolve("junk.elf");
        Files.write(junk, new byte[] {1, 2, 3});
        String[][] cases = {
                {"run", "--image", "hello", "--cpus", "0"},
                {"run", "--image", "hello", "--cpus", "65"},
                {"run", "--image", "hello", "--memory", "1T"},
                {"run", "--image", "hello", "--memory", "lots"},
                {"run", "--image", "hello", "--set", "nosuch=1"},
                {"run", "--image", "hello", "--set", "novalue"},
                {"run", "--image", "hello", "--set", "profile=pentium"},
                {"run", "--image", "hello", "--hypervisor", "kvm"},
                {"run", "--image", "hello", "--set", "virtual-nmis=false"},
                {"run", "--image", "hello", "--hypervisor", "xmhf", "--set", "virtual-nmis=maybe"},
                {"run", "--image", "hello", "--hypervisor", "xmhf", "--memory", "8M"},
                {"run", "--image", dir.resolve("missing.elf").toString()},
                {"run", "--image", junk.toString()},
                {"run", "--image", "hello", "--frobnicate"},
                {"run"},
        };
        for (String[] c : cases) {
            Result r = hvlab(c);
            assertEquals(Main.BAD_INPUT, r.status(), String.join(" ", c) + ": " + r.err());
            // one line; a missing argument adds the command's usage line (issue 13 item 9)
            boolean missing = c.length == 1;
            assertEquals(missing ? 2 : 1, r.err().lines().count(), String.join(" ", c) + ": " + r.err());
            if (missing) assertTrue(r.err().lines().skip(1).findFirst().orElse("").startsWith("Usage: hvlab run "), r.err());
            assertTrue(r.err().startsWith("hvlab: "), r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace");
            assertEquals("", r.out());
        }
    }

    @Test
    void memorySizes() {
        assertEquals(256L << 20, Sizes.parse("256"));
        assertEquals(4L << 30, Sizes.parse("4G"));
        assertEquals(512L << 20, Sizes.parse("512MiB"));
        assertEquals(65536L << 10, Sizes.parse("65536K"));
        assertEquals(1L << 21, Sizes.parse("2097152B"));
    }
}
