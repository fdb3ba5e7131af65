package org.hvlab.cli;

import org.hvlab.machine.RunResult;

/** The --summary JSON object (docs/boot-protocol.md: at least verdict, exitStatus, steps, per-CPU rip, symbol, instructions, vmExits). */
final class SummaryJson {
    private SummaryJson() {}

    static String of(RunResult r, long seed, String scheduler, int choices) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n");
        sb.append("  \"verdict\": ").append(str(r.ending().key())).append(",\n");
        sb.append("  \"exitStatus\": ").append(r.exitStatus()).append(",\n");
        sb.append("  \"message\": ").append(str(r.message())).append(",\n");
        sb.append("  \"steps\": ").append(r.steps()).append(",\n");
        sb.append("  \"seed\": ").append(seed).append(",\n");
        sb.append("  \"scheduler\": ").append(str(scheduler)).append(",\n");
        sb.append("  \"choices\": ").append(choices).append(",\n");
        sb.append("  \"cpus\": [\n");
        for (int i = 0; i < r.cpus().size(); i++) {
            RunResult.CpuReport c = r.cpus().get(i);
            sb.append("    {\"index\": ").append(c.index())
                    .append(", \"rip\": ").append(str(String.format("0x%x", c.rip())))
                    .append(", \"symbol\": ").append(c.symbol() == null ? "null" : str(c.symbol()))
                    .append(", \"instructions\": ").append(c.instructions())
                    .append(", \"vmExits\": ").append(c.vmExits())
                    .append(", \"activity\": ").append(str(c.activity()))
                    .append('}').append(i + 1 < r.cpus().size() ? ",\n" : "\n");
        }
        sb.append("  ]\n}\n");
        return sb.toString();
    }

    static String str(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
                    else b.append(ch);
                }
            }
        }
        return b.append('"').toString();
    }
}
