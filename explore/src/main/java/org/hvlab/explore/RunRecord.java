package org.hvlab.explore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hvlab.machine.sched.ChoiceRecord;
import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.SeededRandom;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A replayable run (issue 5): the scenario's text, the seed, the injection plan as applied, the
 * scheduler's choices (packed, base64) and the verdict with its signature and the serial output.
 * {@code hvlab replay RECORD} runs it again from these alone and must reach the same verdict and
 * the same serial bytes.
 *
 * <p>Version 2 (typed run endings): signatures are computed from the ending's data. A version 1
 * record still replays; some of its signatures were rendered differently (a hypervisor halt kept
 * XMHF's CPU prefix, a bare deadlock said "at"), so it matches a replay of the same kind.
 */
public record RunRecord(int version, String scenarioPath, String scenarioSource, long seed, String strategy, InjectionPlan plan,
        int[] choices, String fallback, String verdictKind, String signature, String message, String serial, long steps) {

    /** After the recorded choices: the seed's random scheduler, or round-robin (minimised records). */
    public static final String RANDOM = "random", ROUND_ROBIN = "round-robin";
    /** The version this code writes. */
    public static final int VERSION = 2;

    /** Whether a replay's verdict is this record's failure (see the class comment for version 1). */
    public boolean matches(Verdict v) {
        return v.signature().equals(signature) || version == 1 && v.kind().equals(verdictKind);
    }

    public static RunRecord of(ScenarioRun.Result o) {
        ChoiceRecord c = o.choices();
        if (c.truncated()) throw new IllegalStateException("the run made more than " + ChoiceRecord.LIMIT + " scheduling choices; its record cannot be kept");
        int[] packed = new int[c.size()];
        for (int i = 0; i < packed.length; i++) packed[i] = (c.cpu(i) << 24) | c.quantum(i);
        return new RunRecord(VERSION, o.scenario().file() == null ? "" : o.scenario().file().toString(), o.scenario().source(), o.seed(),
                o.strategy(), o.plan(), packed, RANDOM, o.verdict().kind(), o.verdict().signature(), o.verdict().message(), o.serial(), o.result().steps());
    }

    /** The same record with other choices and another scheduler after them. */
    public RunRecord withChoices(int[] newChoices, String newFallback) {
        return new RunRecord(version, scenarioPath, scenarioSource, seed, strategy, plan, newChoices, newFallback, verdictKind, signature, message, serial, steps);
    }

    /** The recorded choices as a source: each (CPU, quantum) in turn; past the end, the seed's random choices. */
    public ChoiceSource choiceSource(int maxQuantum) {
        ChoiceRecord r = new ChoiceRecord();
        for (int p : choices) r.add(p >>> 24, p & 0xFFFFFF);
        return r.replay(fallback.equals(ROUND_ROBIN) ? new org.hvlab.machine.sched.RoundRobin(maxQuantum) : new SeededRandom(seed, maxQuantum));
    }

    public Scenario scenario() throws ScenarioException {
        return ScenarioLoader.parse(Path.of(scenarioPath.isEmpty() ? "record" : scenarioPath), scenarioSource);
    }

    public void write(Path file) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hvlab-record", VERSION);
        m.put("scenario-path", scenarioPath);
        m.put("seed", seed);
        m.put("strategy", strategy);
        m.put("then", fallback);
        m.put("verdict", verdictKind);
        m.put("signature", signature);
        m.put("message", message);
        m.put("steps", steps);
        m.put("injections", plan.nmis().stream().map(n -> List.of(n.step(), n.cpu())).toList());
        ByteBuffer b = ByteBuffer.allocate(4 * choices.length);
        for (int c : choices) b.putInt(c);
        m.put("choices", Base64.getMimeEncoder(76, "\n".getBytes()).encodeToString(b.array()));
        m.put("serial", serial);
        m.put("scenario", scenarioSource);
        DumperOptions d = new DumperOptions();
        d.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        d.setDefaultScalarStyle(DumperOptions.ScalarStyle.PLAIN);
        d.setWidth(120);
        writeAtomically(file, new Yaml(d).dump(m));
    }

    /**
     * Writes {@code text} to a temporary file beside {@code file}, then renames it over
     * {@code file}: a reader (or a second writer) sees the old file or the new one, never half of one.
     */
    static void writeAtomically(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, text);
            try {
                Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @SuppressWarnings("unchecked")
    public static RunRecord read(Path file) throws ScenarioException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ScenarioException(file + ": no such run record");
        } catch (IOException e) {
            throw new ScenarioException(file + ": cannot read: " + e.getMessage());
        }
        Object o;
        try {
            o = new Yaml(new LoaderOptions()).load(text);
        } catch (YAMLException e) {
            throw new ScenarioException(file + ": not a run record (not valid YAML): " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(o instanceof Map<?, ?> m) || !(m.get("hvlab-record") instanceof Integer version)) {
            throw new ScenarioException(file + ": not an hvlab run record (no 'hvlab-record: " + VERSION + "')");
        }
        if (version < 1 || version > VERSION) {
            throw new ScenarioException(file + ": run record version " + version + " is not one this hvlab reads (1 to " + VERSION + ")");
        }
        try {
            List<List<Number>> inj = (List<List<Number>>) m.get("injections");
            List<InjectionPlan.Nmi> nmis = new java.util.ArrayList<>();
            for (List<Number> n : inj) nmis.add(new InjectionPlan.Nmi(n.get(0).longValue(), n.get(1).intValue()));
            byte[] raw = Base64.getMimeDecoder().decode((String) m.get("choices"));
            if (raw.length % 4 != 0) throw new ScenarioException(file + ": choices: not whole entries");
            ByteBuffer b = ByteBuffer.wrap(raw);
            int[] choices = new int[raw.length / 4];
            for (int i = 0; i < choices.length; i++) choices[i] = b.getInt();
            String then = m.containsKey("then") ? (String) m.get("then") : RANDOM;
            if (!then.equals(RANDOM) && !then.equals(ROUND_ROBIN)) throw new ScenarioException(file + ": then: must be random or round-robin, got '" + then + "'");
            return new RunRecord(version, (String) m.get("scenario-path"), (String) m.get("scenario"), ((Number) m.get("seed")).longValue(),
                    (String) m.get("strategy"), new InjectionPlan(nmis), choices, then, (String) m.get("verdict"), (String) m.get("signature"),
                    (String) m.get("message"), (String) m.get("serial"), ((Number) m.get("steps")).longValue());
        } catch (ClassCastException | NullPointerException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new ScenarioException(file + ": a field of the run record is missing or malformed (" + e.getClass().getSimpleName() + ")");
        }
    }
}
