package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/** Issue 5 "report": the trace JSON Perfetto reads and the self-contained HTML page, for a deadlock. */
class ReportTest {
    @Test
    @SuppressWarnings("unchecked")
    void aDeadlocksReportHasItsTimelineWaitsAndStacks(@TempDir Path dir) throws Exception {
        Scenario s = ScenarioLoader.load(Path.of("..", "scenarios", "bug024-printf-lock-buggy.yaml"));
        ScenarioRun.Outcome o = null;
        for (long seed = 1; seed <= 4 && (o == null || !o.verdict().kind().equals("deadlock")); seed++) {
            o = ScenarioRun.run(s, seed, Strategies.source(s, seed, "random", 3), InjectionPlan.expand(s.injections(), seed, s.limits().maxSteps()), true);
        }
        assertEquals("deadlock", o.verdict().kind(), o.verdict().message());
        List<Path> files = Report.write(o, dir, "r");

        // the trace is JSON (YAML reads JSON) in Chrome's trace-event format
        Map<String, Object> json = new Yaml().load(Files.readString(files.get(0)));
        List<Map<String, Object>> events = (List<Map<String, Object>>) json.get("traceEvents");
        assertTrue(events.stream().anyMatch(e -> "M".equals(e.get("ph")) && ((Map<String, Object>) e.get("args")).get("name").equals("CPU 3")));
        assertTrue(events.stream().anyMatch(e -> String.valueOf(e.get("name")).startsWith("VM exit ")), "VM exits");
        assertTrue(events.stream().anyMatch(e -> "quiesce".equals(e.get("name")) && "B".equals(e.get("ph"))), "a quiesce span");
        assertTrue(events.stream().anyMatch(e -> String.valueOf(e.get("name")).equals("waiting: lock printf")), "the wait that never ended");
        assertEquals(o.verdict().signature(), ((Map<String, Object>) json.get("otherData")).get("verdict"));

        String html = Files.readString(files.get(1));
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<svg") && html.contains("</svg>"), "the timeline");
        assertTrue(html.contains("waiting for lock printf"), "the deadlock report");
        assertTrue(html.contains("at org.hvlab.xmhf.smpguest.SmpGuest"), "with the Java host stacks");
        assertFalse(html.contains("<script") || html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"), "self-contained");
    }
}
