package org.hvlab.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Scenario files: every field read, and every malformed one reported with file, line and field. */
class ScenarioLoaderTest {
    static final Path F = Path.of("s.yaml");

    static String error(String yaml) {
        return assertThrows(ScenarioException.class, () -> ScenarioLoader.parse(F, yaml)).getMessage();
    }

    @Test
    void aFullScenario() throws Exception {
        Scenario s = ScenarioLoader.parse(F, """
                name: x
                machine: {cpus: 4, memory: 512M, profile: kvm-2022}
                hypervisor: {name: xmhf, options: {virtual-nmis: false}}
                guest: {image: nmiflood, cmdline: mtrr}
                scheduling: {max-quantum: 20, pause-yields: false}
                injections:
                  - {kind: at, cpu: 0, at: 100}
                  - {kind: periodic, cpu: all, start: 1000, interval: 500, jitter: 100, count: 3}
                oracles: [deadlock, stuck]
                limits: {max-steps: 1_000_000, stuck-steps: 50000}
                """);
        assertEquals(4, s.machine().cpus());
        assertEquals(512L << 20, s.machine().memoryBytes());
        assertEquals("false", s.hypervisor().options().get("virtual-nmis"));
        assertEquals("mtrr", s.guest().cmdline());
        assertEquals(20, s.scheduling().maxQuantum());
        assertEquals(List.of("deadlock", "stuck"), s.oracles());
        assertEquals(1_000_000, s.limits().maxSteps());
        InjectionPlan p = InjectionPlan.expand(s.injections(), 7, s.limits().maxSteps());
        assertEquals(4, p.size());
        assertEquals(new InjectionPlan.Nmi(100, 0), p.nmis().get(0));
        for (int i = 1; i < 4; i++) {
            long base = 1000 + 500L * (i - 1);
            long at = p.nmis().get(i).step();
            assertEquals(-1, p.nmis().get(i).cpu());
            org.junit.jupiter.api.Assertions.assertTrue(Math.abs(at - base) <= 100, "jitter within 100: " + at);
        }
        assertEquals(p, InjectionPlan.expand(s.injections(), 7, s.limits().maxSteps()), "the seed fixes the jitter");
    }

    @Test
    void errorsNameFileLineAndField() {
        assertEquals("s.yaml:2: machine.cpus: must be 1-64, got 0", error("name: x\nmachine: {cpus: 0}\nguest: {image: hello}\n"));
        assertEquals("s.yaml:3: guest.colour: unknown field (known: cmdline, image)", error("name: x\nguest:\n  colour: red\n  image: hello\n"));
        assertEquals("s.yaml:1: guest: missing", error("name: x\n"));
        assertEquals("s.yaml:4: hypervisor.options.virtual-nmis: XMHF option virtual-nmis takes true or false, not 'maybe'",
                error("name: x\nguest: {image: hello}\nhypervisor:\n  options: {virtual-nmis: maybe}\n  name: xmhf\n"));
        assertEquals("s.yaml:4: injections[0].kind: must be at, periodic, flood or burst, got 'storm'",
                error("name: x\nguest: {image: hello}\ninjections:\n  - {kind: storm, cpu: 0}\n"));
        assertEquals("s.yaml:4: oracles: unknown oracle 'crash' (known: deadlock, hypervisor-halt, unhandled-exception, stuck, exit-status, isolation, simulator-error, nmi-accounting)",
                error("name: x\nguest: {image: hello}\noracles: [deadlock,\n  crash]\n"));
        assertEquals("s.yaml:3: not valid YAML: expected ',' or '}', but got <stream end>", error("name: x\nguest: {image: hello\n"));
        assertEquals("s.yaml:3: injections[0].cpu: must be 0-1, got 2", error("name: x\nmachine: {cpus: 2}\ninjections: [{kind: at, cpu: 2, at: 5}]\nguest: {image: hello}\n"));
        assertEquals("s.yaml:2: expects: an empty signature fragment would match every failure", error("name: x\nexpects: [\"\"]\nguest: {image: hello}\n"));
    }

    @Test
    void theFormatExampleInScenariosReadmeLoads() throws Exception {
        String readme = java.nio.file.Files.readString(Path.of("..", "scenarios", "README.md"));
        int from = readme.indexOf("```yaml\n") + 8, to = readme.indexOf("```", from);
        Scenario s = ScenarioLoader.parse(Path.of("scenarios", "README.md"), readme.substring(from, to));
        assertEquals(4, s.machine().cpus());
        assertEquals(4, s.injections().size());
        assertEquals(Scenario.ORACLES, s.oracles(), "the example names every oracle");
    }

    @Test
    void everyShippedScenarioLoads() throws Exception {
        try (var files = java.nio.file.Files.list(Path.of("..", "scenarios"))) {
            List<Path> l = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
            org.junit.jupiter.api.Assertions.assertTrue(l.size() >= 12, "buggy and fixed variants: " + l);
            for (Path p : l) {
                Scenario s = ScenarioLoader.load(p);
                assertEquals(p.getFileName().toString().replace(".yaml", ""), s.name(), "the name is the file name");
                // a pair per historical switch; scenarios of the default design alone are named after what they check
                if (!s.name().endsWith("-buggy") && !s.name().endsWith("-fixed")) {
                    org.junit.jupiter.api.Assertions.assertTrue(s.hypervisor().options().isEmpty(), s.name() + " sets no switch");
                    continue;
                }
                org.junit.jupiter.api.Assertions.assertTrue(java.nio.file.Files.exists(p.resolveSibling(
                        s.name().endsWith("-buggy") ? s.name().replace("-buggy", "-fixed") + ".yaml" : s.name().replace("-fixed", "-buggy") + ".yaml")),
                        "each buggy scenario has a fixed variant and the other way round: " + p);
            }
        }
    }
}
