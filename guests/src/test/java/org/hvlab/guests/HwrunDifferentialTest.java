package org.hvlab.guests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole guests against the workplace's second implementation of the boot protocol, hwrun
 * (../shared/tools/hwrun.c on /dev/kvm): the same image must print the same bytes and exit with
 * the same status. hwrun is a reference for exceptions, the APIC and SMP start-up, not for
 * NMI latching or INT3 in long mode (its README), so those guests are compared only where
 * hwrun is authoritative. Skipped where hwrun.c, gcc or /dev/kvm is unavailable.
 */
class HwrunDifferentialTest {
    static Path hwrun;

    @BeforeAll
    static void build() throws Exception {
        Path src = null;
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("shared/tools/hwrun.c");
            if (Files.isRegularFile(p)) { src = p; break; }
            p = dir.resolveSibling("shared").resolve("tools/hwrun.c");
            if (Files.isRegularFile(p)) { src = p; break; }
        }
        if (src == null || !Files.isReadable(Path.of("/dev/kvm")) || !Files.isWritable(Path.of("/dev/kvm"))) return;
        Path out = Path.of("target", "hwrun").toAbsolutePath();
        Process p = new ProcessBuilder("gcc", "-O2", "-o", out.toString(), src.toString(), "-lpthread").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) hwrun = out;
    }

    record Out(int status, String serial) {}

    static Out runHwrun(String guest, int cpus, String cmdline) throws IOException, InterruptedException {
        Path img = Files.createTempFile("guest", ".elf");
        try (var in = HwrunDifferentialTest.class.getResourceAsStream("/guests/" + guest + ".elf")) {
            Files.write(img, in.readAllBytes());
        }
        List<String> cmd = new ArrayList<>(List.of(hwrun.toString(), img.toString(), "--cpus", "" + cpus, "--memory", "256", "--timeout", "60"));
        if (!cmdline.isEmpty()) cmd.addAll(List.of("--cmdline", cmdline));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        p.waitFor(90, TimeUnit.SECONDS);
        Files.deleteIfExists(img);
        return new Out(p.exitValue(), out);
    }

    /**
     * linux-nmi with NMI IPIs and the self-IRET under hwrun: a second implementation of NMI
     * delivery and IRET runs Linux's nested-NMI algorithm to "ok" too (its counts depend on its
     * own timing, so only the outcome and the count lines' consistency are compared).
     */
    @ParameterizedTest
    @CsvSource({"2,fault=0 ipi=2 selfiret iters=800", "4,fault=0 ipi=3 iters=800"})
    void linuxNmiSurvivesUnderHwrunToo(int cpus, String cmdline) throws Exception {
        assumeTrue(hwrun != null, "hwrun (../shared/tools/hwrun.c, gcc, /dev/kvm) not available");
        Out ref = runHwrun("linux-nmi", cpus, cmdline);
        assertEquals(0, ref.status(), ref.serial());
        assertTrue(ref.serial().endsWith("linux-nmi: ok\n"), ref.serial());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("cpu \\d+ nmis=(\\d+) first=(\\d+) nested=(\\d+) repeat-skips=(\\d+)").matcher(ref.serial());
        int lines = 0;
        while (m.find()) {
            assertEquals(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)) + Long.parseLong(m.group(3)) + Long.parseLong(m.group(4)));
            lines++;
        }
        assertEquals(cpus, lines);
    }

    @ParameterizedTest
    @CsvSource({"hello,1,", "hello,4,a b c", "smp,1,", "smp,2,", "smp,4,", "smp,8,",
            "mtrrstorm,1,", "mtrrstorm,4,iters=20", "nmiipi,1,", "nmiipi,4,", "memprobe,2,write",
            // no NMIs, so the counts are the same everywhere; no INT3 (hwrun's emulator lacks it in long mode)
            "linux-nmi,2,fault=0 iters=500 beat=100", "linux-nmi,4,fault=0 iters=300 beat=100"})
    void sameBytesAndStatusAsHwrun(String guest, int cpus, String cmdline) throws Exception {
        assumeTrue(hwrun != null, "hwrun (../shared/tools/hwrun.c, gcc, /dev/kvm) not available");
        String cl = cmdline == null ? "" : cmdline;
        Out ref = runHwrun(guest, cpus, cl);
        var ours = Guests.run(guest, cpus, 1, cl);
        assertEquals(ref.serial(), ours.serial(), guest + " on " + cpus + " CPUs");
        assertEquals(ref.status(), ours.result().exitStatus());
    }
}
