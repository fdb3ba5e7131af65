package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5 "Verification": for each shipped buggy scenario, exploration with a pinned seed and
 * run budget finds the bug; the fixed variant passes the same budget; replaying the record
 * reproduces the verdict and the serial output byte for byte.
 */
class ShippedScenariosTest {
    static final int BUDGET = 4;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "seed000-direct-nmi | exit-status | NMI handler re-entered",
            // seed 000 itself: Linux's nested-NMI code ends on an IRETQ that returns to itself
            "seed000-linux-nmi | stuck | IRETQ returning to itself <nested_nmi_out+0x1>",
            // an NMI injected into a PAL: its IDT is not mapped there (TrustVisor)
            "seed001-inject-at-arrival | unhandled-exception | unhandled-exception 0x80000b0e",
            "bug087-hypapp-nmi-block | unhandled-exception | unhandled-exception 0x80000b0e",
            "bug022-ept-gpa-32bit | hypervisor-halt | TV: Invalid entry point",
            "bug018-endquiesce-order | deadlock | resume signal",
            // the CPU's NMIs stay blocked: its guest gets no NMI, and the next quiesce never completes
            "bug018-no-iret | deadlock;exit-status | host NMIs blocked;no NMI received",
            "bug024-printf-lock | deadlock | lock printf",
            "bug113-reentrant-nmi-enable | hypervisor-halt | NMI visited counter underflow"})
    void buggyFoundFixedPassesRecordReplays(String name, String kind, String signature, @TempDir Path dir) throws Exception {
        Scenario buggy = ScenarioLoader.load(Path.of("..", "scenarios", name + "-buggy.yaml"));
        Explorer.Summary found = Explorer.explore(buggy, new Explorer.Settings(BUDGET, 1, 2, 0, true, "random", 3, dir), null);
        java.util.List<String> kinds = java.util.List.of(kind.split(";")), signatures = java.util.List.of(signature.split(";"));
        Explorer.Failure f = found.failures().stream().filter(x -> kinds.contains(x.kind()) && signatures.stream().anyMatch(x.signature()::contains)).findFirst()
                .orElseThrow(() -> new AssertionError(name + ": not found in " + BUDGET + " runs: " + found));

        assertEquals(found.runs() - found.verdicts().getOrDefault("pass", 0L), found.failures().stream().mapToLong(Explorer.Failure::runs).sum(),
                "every failed run is counted under its signature");
        RunRecord rec = RunRecord.read(f.record());
        assertTrue(Files.size(f.record()) > 0);
        ScenarioRun.Result again = ScenarioRun.run(rec.scenario(), rec.seed(), rec.choiceSource(buggy.scheduling().maxQuantum()), rec.plan());
        assertEquals(rec.signature(), again.verdict().signature(), "the replay fails the same way");
        assertEquals(rec.serial(), again.serial(), "the replay prints the same bytes");

        Scenario fixed = ScenarioLoader.load(Path.of("..", "scenarios", name + "-fixed.yaml"));
        Explorer.Summary clean = Explorer.explore(fixed, new Explorer.Settings(BUDGET, 1, 2, 0, true, "random", 3, dir), null);
        assertEquals(java.util.List.of(), clean.failures(), name + "-fixed over the same " + BUDGET + " runs");
        assertEquals(BUDGET, clean.runs());
    }
}
