package org.hvlab.explore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.hvlab.machine.trace.Trace;

/**
 * A run's report (issue 5 "hvlab report"): its timeline as Chrome/Perfetto trace JSON (load it in
 * ui.perfetto.dev or chrome://tracing; one thread per CPU, machine steps as microseconds) and a
 * self-contained HTML page: the verdict, a per-CPU timeline drawn in SVG (time in the guest, the
 * hypervisor's quiesces and waits, VM exits and NMIs), the last events before the end, the
 * deadlock report with Java stacks, and the serial output. No script, no external resources.
 */
public final class Report {
    private Report() {}

    /** Writes {@code base}.trace.json and {@code base}.html; returns the two paths. */
    public static List<Path> write(ScenarioRun.Result o, Path dir, String base) throws IOException {
        Trace t = o.machine().trace();
        if (t == null) throw new IllegalArgumentException("the run was not traced");
        Files.createDirectories(dir);
        Path json = dir.resolve(base + ".trace.json"), html = dir.resolve(base + ".html");
        Files.writeString(json, chromeTrace(o, t));
        Files.writeString(html, html(o, t));
        return List.of(json, html);
    }

    static String chromeTrace(ScenarioRun.Result o, Trace t) {
        StringBuilder sb = new StringBuilder("{\"displayTimeUnit\": \"ns\", \"otherData\": {\"scenario\": ");
        str(sb, o.scenario().name()).append(", \"seed\": ").append(o.seed()).append(", \"verdict\": ");
        str(sb, o.verdict().signature()).append("},\n\"traceEvents\": [\n");
        int cpus = o.scenario().machine().cpus();
        for (int i = 0; i < cpus; i++) {
            sb.append("{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 0, \"tid\": ").append(i).append(", \"args\": {\"name\": \"CPU ").append(i).append("\"}},\n");
        }
        boolean first = true;
        for (Trace.Event e : t.events()) {
            if (!first) sb.append(",\n");
            first = false;
            sb.append("{\"name\": ");
            str(sb, e.name()).append(", \"cat\": ");
            str(sb, e.category()).append(", \"ph\": \"").append(e.phase()).append("\", \"ts\": ").append(e.step())
                    .append(", \"pid\": 0, \"tid\": ").append(e.cpu());
            if (e.phase() == 'i') sb.append(", \"s\": \"t\"");
            if (!e.detail().isEmpty()) {
                sb.append(", \"args\": {\"detail\": ");
                str(sb, e.detail()).append('}');
            }
            sb.append('}');
        }
        return sb.append("\n]}\n").toString();
    }

    private static StringBuilder str(StringBuilder sb, String s) {
        sb.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"');
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Guest time green, quiesce orange, a PAL running teal, the hypervisor waiting red. */
    /**
     * What the scenario was written to show, only when this run failed that way: a run of a
     * historical bug's scenario that fails otherwise is not that bug (issue 20 item 4).
     */
    private static String describeScenario(ScenarioRun.Result o) {
        Scenario s = o.scenario();
        if (o.verdict().failed() && s.expected(o.verdict().signature())) {
            return "<p>This is the failure the scenario restores: " + esc(s.description()) + "</p>\n";
        }
        if (o.verdict().failed() && !s.expects().isEmpty()) {
            return "<p>The scenario was written for another failure (<code>" + esc(String.join(" | ", s.expects())) + "</code>); this run failed differently.</p>\n";
        }
        return "";
    }

    /** The IRETQ loop a stuck verdict names, or null. */
    private static GuestStuck.IretqLoop iretqLoop(Verdict v) {
        if (!(v instanceof Verdict.Ended e)) return null;
        return switch (e.ending()) {
            case GuestStuck.IretqLoop l -> l;
            case GuestStuck.NoProgress p -> p.loop();
            default -> null;
        };
    }

    private static String spanColor(String name) {
        if (name.equals("guest")) return "#9fd89f";
        if (name.startsWith("quiesce")) return "#f5b041";
        if (name.startsWith("PAL ")) return "#17a589";
        return "#e74c3c";
    }

    static String html(ScenarioRun.Result o, Trace t) {
        int cpus = o.scenario().machine().cpus();
        long end = Math.max(1, o.result().steps());
        int width = 1200, row = 36, top = 30;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"timeline\">",
                width + 90, top + row * cpus + 20));
        for (int i = 0; i < cpus; i++) {
            svg.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\" font-size=\"12\">CPU %d</text>", top + row * i + 22, i));
            svg.append(String.format(Locale.ROOT, "<rect x=\"80\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f4f4f4\"></rect>", top + row * i + 4, width, row - 8));
        }
        // spans: guest time green, quiesce orange, waits red; instants as ticks (at most one per pixel and kind)
        Map<String, Deque<Long>> open = new HashMap<>();
        java.util.Set<String> ticks = new java.util.HashSet<>();
        for (Trace.Event e : t.events()) {
            double x = 80 + (double) e.step() / end * width;
            int y = top + row * e.cpu() + 4;
            String key = e.cpu() + "/" + e.name();
            switch (e.phase()) {
                case 'B' -> open.computeIfAbsent(key, k -> new ArrayDeque<>()).push(e.step());
                case 'E' -> {
                    Deque<Long> d = open.get(key);
                    if (d == null || d.isEmpty()) continue;
                    long s = d.pop();
                    double x0 = 80 + (double) s / end * width;
                    String color = spanColor(e.name());
                    int h = e.name().equals("guest") ? row - 8 : (row - 8) / 2;
                    svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s</title></rect>",
                            x0, y + (row - 8 - h), Math.max(0.5, x - x0), h, color, esc("CPU " + e.cpu() + ": " + e.name() + " " + s + "-" + e.step())));
                }
                default -> {
                    String color = e.category().equals("nmi") || e.category().equals("injection") ? "#2e86c1" : e.category().equals("hypervisor") ? "#8e44ad" : "#555";
                    String tk = e.cpu() + "/" + e.category() + "/" + (int) x;
                    if (!ticks.add(tk)) continue;
                    int h = e.category().equals("vmx") ? 6 : row - 8;
                    svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"1\" height=\"%d\" fill=\"%s\"><title>%s</title></rect>",
                            x, y, h, color, esc("step " + e.step() + " CPU " + e.cpu() + ": " + e.name() + " " + e.detail())));
                }
            }
        }
        // spans still open at the end (a CPU stuck waiting, in its guest)
        for (Map.Entry<String, Deque<Long>> en : open.entrySet()) {
            for (long s : en.getValue()) {
                int cpu = Integer.parseInt(en.getKey().substring(0, en.getKey().indexOf('/')));
                String name = en.getKey().substring(en.getKey().indexOf('/') + 1);
                double x0 = 80 + (double) s / end * width;
                String color = spanColor(name);
                svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" opacity=\"0.8\"><title>%s</title></rect>",
                        x0, top + row * cpu + 4, Math.max(0.5, 80 + width - x0), (row - 8) / 2, color, esc("CPU " + cpu + ": " + name + " from " + s + " to the end")));
            }
        }
        svg.append("</svg>");

        StringBuilder nmis = new StringBuilder();
        org.hvlab.machine.boot.Symbols sym = o.machine().symbols();
        for (int i = 0; i < o.machine().cpuCount(); i++) {
            org.hvlab.machine.cpu.Cpu c = o.machine().cpu(i);
            List<String> chain = NmiChains.selfFrameChain(c, o.nmis().chain(i), sym);
            String title = "how the IRETQ came to return to itself";
            GuestStuck.IretqLoop loop = iretqLoop(o.verdict());
            if (chain.isEmpty() && loop != null && loop.cpu() == i) {
                chain = NmiChains.loopChain(c, o.nmis().chain(i), sym, loop.rip(), loop.frameRsp(), loop.toRip());
                title = "how the IRETQ loop came about";
            }
            String gdb = o.verdict().kind().equals("stuck") ? NmiChains.gdbView(c, sym) : null;
            if (gdb != null) nmis.append("<h3>CPU ").append(i).append(" at the end, as gdb shows it</h3><pre>").append(esc(gdb)).append("</pre>\n");
            if (!chain.isEmpty()) {
                nmis.append("<h3>CPU ").append(i).append(": ").append(title).append("</h3><ol>\n");
                for (String l : chain) nmis.append("<li>").append(esc(l)).append("</li>\n");
                nmis.append("</ol>\n");
            }
            List<String> recent = NmiChains.recent(c, o.nmis().chain(i), sym, 24);
            if (recent.isEmpty()) continue;
            long blocked = o.nmis().chain(i).recent().stream().filter(NmiChain.Delivery::whileBlocked).count();
            nmis.append("<h3>CPU ").append(i).append(": the last ").append(recent.size()).append(" of ").append(o.nmis().chain(i).count())
                    .append(" NMI deliveries</h3><p>").append(blocked).append(" of the last ").append(o.nmis().chain(i).recent().size())
                    .append(" reached the guest while it was still NMI-blocked.</p><pre>");
            for (String l : recent) nmis.append(esc(l)).append('\n');
            nmis.append("</pre>\n");
        }
        StringBuilder last = new StringBuilder();
        List<Trace.Event> ev = t.events();
        for (int i = Math.max(0, ev.size() - 200); i < ev.size(); i++) {
            Trace.Event e = ev.get(i);
            last.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>%n", e.step(), e.cpu(),
                    e.phase() == 'B' ? "begin" : e.phase() == 'E' ? "end" : "", esc(e.name()), esc(e.detail())));
        }
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>hvlab report: " + esc(o.scenario().name()) + "</title>\n"
                + "<style>body{font-family:sans-serif;margin:1em}pre{background:#f8f8f8;padding:.5em;overflow:auto;max-height:30em}"
                + "table{border-collapse:collapse;font-size:12px}td{border:1px solid #ddd;padding:1px 4px}</style></head><body>\n"
                + "<h1>" + esc(o.verdict().kind()) + ": " + esc(o.verdict().message().lines().findFirst().orElse("")) + "</h1>\n"
                + "<p><b>Signature:</b> <code>" + esc(o.verdict().signature()) + "</code>; scenario " + esc(o.scenario().name()) + ", seed " + o.seed() + "</p>\n"
                + describeScenario(o)
                + "<p>" + o.result().steps() + " steps; scheduler " + esc(o.strategy()) + "; " + o.plan().size() + " planned NMI injections"
                + (t.dropped() > 0 ? "; " + t.dropped() + " events beyond the recording limit were not kept" : "") + ".</p>\n"
                + "<h2>Timeline</h2><p>Green: in the guest. Orange: quiesce (quiescing or quiesced). Teal: a PAL running (TrustVisor). Red: the hypervisor waiting. "
                + "Blue ticks: NMIs (planned, raised, injected, delivered). Purple: hypervisor events. Grey: VM exits. "
                + "Hover for details; the same events are in the trace JSON for Perfetto.</p>\n" + svg + "\n"
                + "<h2>How the run ended</h2><pre>" + esc(o.verdict().message()) + "</pre>\n"
                + (nmis.length() == 0 ? "" : "<h2>NMIs through the guest's IDT</h2><p>An NMI handler is open from its delivery until the guest executes IRET;"
                        + " a delivery while one is open is one that NMI blocking forbids (SDM Vol.3A 6.7.1).</p>\n" + nmis)
                + "<h2>The last events</h2><table><thead><tr><th>step</th><th>CPU</th><th></th><th>event</th><th>detail</th></tr></thead><tbody>\n" + last + "</tbody></table>\n"
                + "<h2>Serial output</h2><pre>" + esc(o.serial()) + "</pre>\n</body></html>\n";
    }
}
