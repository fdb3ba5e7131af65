package org.hvlab.explore;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hvlab.machine.MachineConfig;
import org.hvlab.xmhf.XmhfOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a scenario from YAML. Every error names the file, the line and the field, in one line
 * ({@code scenarios/x.yaml:7: machine.cpus: must be 1-64, got 0}); unknown fields are errors too,
 * so a misspelt option never silently falls back to its default.
 *
 * <pre>
 * name: quiesce-storm
 * description: two CPUs write MTRRs while NMIs fly
 * machine: {cpus: 4, memory: 256M, profile: kvm-2022}
 * hypervisor: {name: xmhf, options: {virtual-nmis: false}}
 * guest: {image: nmiflood, cmdline: mtrr}
 * scheduling: {max-quantum: 20}
 * injections:
 *   - {kind: periodic, cpu: 0, start: 10000, interval: 5000, jitter: 500, count: 20}
 * oracles: [deadlock, hypervisor-halt, exit-status]
 * limits: {max-steps: 30000000, stuck-steps: 2000000}
 * </pre>
 */
public final class ScenarioLoader {
    private ScenarioLoader() {}

    /**
     * A scenario file, or the name of a shipped scenario ({@code bug024-printf-lock-buggy}),
     * which is read from the jar when there is no such file.
     */
    /** The names of the scenarios shipped in hvlab's jar (or its build's class folder), sorted. */
    public static java.util.List<String> shippedNames() throws ScenarioException {
        java.util.TreeSet<String> names = new java.util.TreeSet<>();
        try {
            Path where = Path.of(ScenarioLoader.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(where)) {
                try (var files = Files.list(where.resolve("scenarios"))) {
                    files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".yaml")).forEach(n -> names.add(n.substring(0, n.length() - 5)));
                }
            } else {
                try (java.util.zip.ZipFile jar = new java.util.zip.ZipFile(where.toFile())) {
                    jar.stream().map(java.util.zip.ZipEntry::getName).filter(n -> n.startsWith("scenarios/") && n.endsWith(".yaml") && n.indexOf('/', 10) < 0)
                            .forEach(n -> names.add(n.substring(10, n.length() - 5)));
                }
            }
        } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
            throw new ScenarioException("cannot list the shipped scenarios: " + e.getMessage());
        }
        return java.util.List.copyOf(names);
    }

    public static Scenario loadFileOrShipped(String fileOrName) throws ScenarioException {
        Path p = Path.of(fileOrName);
        if (Files.exists(p) || !fileOrName.matches("[a-z0-9-]+")) return load(p);
        try (java.io.InputStream in = ScenarioLoader.class.getResourceAsStream("/scenarios/" + fileOrName + ".yaml")) {
            if (in == null) throw new ScenarioException(fileOrName + ": no such scenario file, and no shipped scenario of that name");
            return parse(Path.of("scenarios", fileOrName + ".yaml"), new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ScenarioException(fileOrName + ": cannot read the shipped scenario: " + e.getMessage());
        }
    }

    public static Scenario load(Path file) throws ScenarioException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ScenarioException(file + ": no such scenario file");
        } catch (IOException e) {
            throw new ScenarioException(file + ": cannot read: " + e.getMessage());
        }
        return parse(file, text);
    }

    public static Scenario parse(Path file, String text) throws ScenarioException {
        Node root;
        try {
            LoaderOptions lo = new LoaderOptions();
            lo.setAllowDuplicateKeys(false);
            root = new Yaml(lo).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 1;
            throw new ScenarioException(file + ":" + line + ": not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ScenarioException(file + ": not valid YAML: " + e.getMessage());
        }
        if (root == null) throw new ScenarioException(file + ":1: empty scenario");
        Reader r = new Reader(file);
        MappingNode top = r.mapping(root, "scenario");
        Map<String, Node> f = r.fields(top, "", Set.of("name", "description", "expects", "machine", "hypervisor", "guest", "scheduling",
                "injections", "oracles", "limits"));
        String name = r.string(r.required(f, top, "name"), "name");
        String description = f.containsKey("description") ? r.string(f.get("description"), "description") : "";
        List<String> expects = new ArrayList<>();
        if (f.containsKey("expects")) {
            for (Node n : r.sequence(f.get("expects"), "expects").getValue()) {
                String e = r.string(n, "expects");
                if (e.isBlank()) throw r.error(n, "expects", "an empty signature fragment would match every failure");
                expects.add(e);
            }
        }

        Scenario.Machine machine = new Scenario.Machine(1, MachineConfig.DEFAULT_MEMORY, "kvm-2022");
        if (f.containsKey("machine")) {
            MappingNode m = r.mapping(f.get("machine"), "machine");
            Map<String, Node> mf = r.fields(m, "machine.", Set.of("cpus", "memory", "profile"));
            int cpus = mf.containsKey("cpus") ? (int) r.integer(mf.get("cpus"), "machine.cpus", 1, MachineConfig.MAX_CPUS) : 1;
            long mem = mf.containsKey("memory") ? r.size(mf.get("memory"), "machine.memory") : MachineConfig.DEFAULT_MEMORY;
            String profile = mf.containsKey("profile") ? r.string(mf.get("profile"), "machine.profile") : "kvm-2022";
            machine = new Scenario.Machine(cpus, mem, profile);
        }

        Scenario.Hypervisor hv = new Scenario.Hypervisor("none", "none", Map.of());
        if (f.containsKey("hypervisor")) {
            MappingNode h = r.mapping(f.get("hypervisor"), "hypervisor");
            Map<String, Node> hf = r.fields(h, "hypervisor.", Set.of("name", "hypapp", "options"));
            String hname = r.string(r.required(hf, h, "name", "hypervisor."), "hypervisor.name");
            if (!hname.equals("none") && !hname.equals("xmhf")) throw r.error(hf.get("name"), "hypervisor.name", "must be none or xmhf, got '" + hname + "'");
            Map<String, String> opts = new LinkedHashMap<>();
            if (hf.containsKey("options")) {
                if (!hname.equals("xmhf")) throw r.error(hf.get("options"), "hypervisor.options", "options need hypervisor xmhf");
                MappingNode o = r.mapping(hf.get("options"), "hypervisor.options");
                XmhfOptions check = new XmhfOptions();
                for (NodeTuple t : o.getValue()) {
                    String k = r.string(t.getKeyNode(), "hypervisor.options");
                    String v = r.string(t.getValueNode(), "hypervisor.options." + k);
                    try {
                        check.set(k, v);
                    } catch (IllegalArgumentException e) {
                        throw r.error(t.getKeyNode(), "hypervisor.options." + k, e.getMessage());
                    }
                    opts.put(k, v);
                }
            }
            String happ = hf.containsKey("hypapp") ? r.string(hf.get("hypapp"), "hypervisor.hypapp") : "none";
            if (!org.hvlab.xmhf.hypapp.Hypapps.NAMES.contains(happ)) {
                throw r.error(hf.get("hypapp"), "hypervisor.hypapp", "must be " + String.join(" or ", org.hvlab.xmhf.hypapp.Hypapps.NAMES) + ", got '" + happ + "'");
            }
            if (!hname.equals("xmhf") && !happ.equals("none")) throw r.error(hf.get("hypapp"), "hypervisor.hypapp", "a hypapp needs hypervisor xmhf");
            hv = new Scenario.Hypervisor(hname, happ, opts);
        }

        MappingNode g = r.mapping(r.required(f, top, "guest"), "guest");
        Map<String, Node> gf = r.fields(g, "guest.", Set.of("image", "cmdline"));
        Scenario.Guest guest = new Scenario.Guest(r.string(r.required(gf, g, "image", "guest."), "guest.image"),
                gf.containsKey("cmdline") ? r.string(gf.get("cmdline"), "guest.cmdline") : "");

        Scenario.Scheduling sched = new Scenario.Scheduling(MachineConfig.DEFAULT_MAX_QUANTUM, true);
        if (f.containsKey("scheduling")) {
            MappingNode s = r.mapping(f.get("scheduling"), "scheduling");
            Map<String, Node> sf = r.fields(s, "scheduling.", Set.of("max-quantum", "pause-yields"));
            int q = sf.containsKey("max-quantum") ? (int) r.integer(sf.get("max-quantum"), "scheduling.max-quantum", 1, 1 << 24) : MachineConfig.DEFAULT_MAX_QUANTUM;
            boolean py = !sf.containsKey("pause-yields") || r.bool(sf.get("pause-yields"), "scheduling.pause-yields");
            sched = new Scenario.Scheduling(q, py);
        }

        List<Scenario.Injection> injections = new ArrayList<>();
        if (f.containsKey("injections")) {
            SequenceNode seq = r.sequence(f.get("injections"), "injections");
            for (int i = 0; i < seq.getValue().size(); i++) injections.add(injection(r, seq.getValue().get(i), "injections[" + i + "]", machine.cpus()));
        }

        List<String> oracles = new ArrayList<>(Scenario.ORACLES);
        if (f.containsKey("oracles")) {
            oracles.clear();
            SequenceNode seq = r.sequence(f.get("oracles"), "oracles");
            for (Node n : seq.getValue()) {
                String o = r.string(n, "oracles");
                if (!Scenario.ORACLES.contains(o)) throw r.error(n, "oracles", "unknown oracle '" + o + "' (known: " + String.join(", ", Scenario.ORACLES) + ")");
                oracles.add(o);
            }
        }

        Scenario.Limits limits = new Scenario.Limits(50_000_000L, 5_000_000L);
        if (f.containsKey("limits")) {
            MappingNode l = r.mapping(f.get("limits"), "limits");
            Map<String, Node> lf = r.fields(l, "limits.", Set.of("max-steps", "stuck-steps"));
            long max = lf.containsKey("max-steps") ? r.integer(lf.get("max-steps"), "limits.max-steps", 1, Long.MAX_VALUE) : 50_000_000L;
            long stuck = lf.containsKey("stuck-steps") ? r.integer(lf.get("stuck-steps"), "limits.stuck-steps", 1, Long.MAX_VALUE) : 5_000_000L;
            limits = new Scenario.Limits(max, stuck);
        }
        return new Scenario(name, description, List.copyOf(expects), machine, hv, guest, sched, List.copyOf(injections), List.copyOf(oracles), limits, file, text);
    }

    private static Scenario.Injection injection(Reader r, Node n, String where, int cpus) throws ScenarioException {
        MappingNode m = r.mapping(n, where);
        Map<String, Node> f = r.fields(m, where + ".", Set.of("kind", "cpu", "at", "start", "interval", "jitter", "count", "end", "size", "gap"));
        String kind = r.string(r.required(f, m, "kind", where + "."), where + ".kind");
        if (!Set.of("at", "periodic", "flood", "burst").contains(kind)) {
            throw r.error(f.get("kind"), where + ".kind", "must be at, periodic, flood or burst, got '" + kind + "'");
        }
        int cpu;
        Node cn = r.required(f, m, "cpu", where + ".");
        if (cn instanceof ScalarNode s && s.getValue().equals("all")) cpu = -1;
        else cpu = (int) r.integer(cn, where + ".cpu", 0, cpus - 1);
        long start = f.containsKey("at") ? r.integer(f.get("at"), where + ".at", 0, Long.MAX_VALUE)
                : f.containsKey("start") ? r.integer(f.get("start"), where + ".start", 0, Long.MAX_VALUE) : 0;
        long interval = f.containsKey("interval") ? r.integer(f.get("interval"), where + ".interval", 0, Long.MAX_VALUE) : 0;
        long jitter = f.containsKey("jitter") ? r.integer(f.get("jitter"), where + ".jitter", 0, Long.MAX_VALUE) : 0;
        int count = f.containsKey("count") ? (int) r.integer(f.get("count"), where + ".count", 0, 1_000_000) : 1;
        long end = f.containsKey("end") ? r.integer(f.get("end"), where + ".end", 0, Long.MAX_VALUE) : Long.MAX_VALUE;
        int size = f.containsKey("size") ? (int) r.integer(f.get("size"), where + ".size", 1, 100_000) : 1;
        long gap = f.containsKey("gap") ? r.integer(f.get("gap"), where + ".gap", 0, Long.MAX_VALUE) : 0;
        if (kind.equals("periodic") && interval == 0) throw r.error(m, where + ".interval", "a periodic injection needs an interval > 0");
        if (kind.equals("periodic") && count == 0 && end == Long.MAX_VALUE) throw r.error(m, where + ".count", "a periodic injection needs a count or an end");
        if (jitter > interval && kind.equals("periodic")) throw r.error(f.get("jitter"), where + ".jitter", "must not exceed the interval");
        return new Scenario.Injection(kind, cpu, start, interval, jitter, count, end, size, gap, m.getStartMark().getLine() + 1);
    }

    /** Typed access to YAML nodes, every error with file, line and field. */
    private record Reader(Path file) {
        ScenarioException error(Node n, String field, String message) {
            int line = n == null ? 1 : n.getStartMark().getLine() + 1;
            return new ScenarioException(file + ":" + line + ": " + field + ": " + message);
        }

        MappingNode mapping(Node n, String field) throws ScenarioException {
            if (n instanceof MappingNode m) return m;
            throw error(n, field, "expected a mapping (key: value lines)");
        }

        SequenceNode sequence(Node n, String field) throws ScenarioException {
            if (n instanceof SequenceNode s) return s;
            throw error(n, field, "expected a list");
        }

        Map<String, Node> fields(MappingNode m, String prefix, Set<String> known) throws ScenarioException {
            Map<String, Node> out = new LinkedHashMap<>();
            for (NodeTuple t : m.getValue()) {
                String k = string(t.getKeyNode(), prefix.isEmpty() ? "scenario" : prefix.substring(0, prefix.length() - 1));
                if (!known.contains(k)) {
                    throw error(t.getKeyNode(), prefix + k, "unknown field (known: " + String.join(", ", known.stream().sorted().toList()) + ")");
                }
                out.put(k, t.getValueNode());
            }
            return out;
        }

        Node required(Map<String, Node> f, Node parent, String key) throws ScenarioException {
            return required(f, parent, key, "");
        }

        Node required(Map<String, Node> f, Node parent, String key, String prefix) throws ScenarioException {
            Node n = f.get(key);
            if (n == null) throw error(parent, prefix + key, "missing");
            return n;
        }

        String string(Node n, String field) throws ScenarioException {
            if (n instanceof ScalarNode s) return s.getValue();
            throw error(n, field, "expected a single value");
        }

        boolean bool(Node n, String field) throws ScenarioException {
            String v = string(n, field);
            if (v.equals("true")) return true;
            if (v.equals("false")) return false;
            throw error(n, field, "must be true or false, got '" + v + "'");
        }

        long integer(Node n, String field, long min, long max) throws ScenarioException {
            String v = string(n, field).replace("_", "");
            long x;
            try {
                x = v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw error(n, field, "expected a whole number, got '" + v + "'");
            }
            if (x < min || x > max) throw error(n, field, "must be " + min + (max == Long.MAX_VALUE ? " or more" : "-" + max) + ", got " + x);
            return x;
        }

        long size(Node n, String field) throws ScenarioException {
            String v = string(n, field).trim().toUpperCase();
            long mult = 1L << 20;
            if (v.endsWith("K")) { mult = 1L << 10; v = v.substring(0, v.length() - 1); }
            else if (v.endsWith("M")) { v = v.substring(0, v.length() - 1); }
            else if (v.endsWith("G")) { mult = 1L << 30; v = v.substring(0, v.length() - 1); }
            long x;
            try {
                x = Long.parseLong(v) * mult;
            } catch (NumberFormatException e) {
                throw error(n, field, "expected a size such as 256M or 4G, got '" + string(n, field) + "'");
            }
            if (x < (16L << 20) || x > (64L << 30) || (x & 0xFFF) != 0) throw error(n, field, "must be a multiple of 4 KiB between 16 MiB and 64 GiB");
            return x;
        }
    }
}
