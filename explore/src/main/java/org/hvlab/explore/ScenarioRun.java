package org.hvlab.explore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineSpec;
import org.hvlab.machine.RunResult;
import org.hvlab.machine.boot.ElfImage;
import org.hvlab.machine.boot.ImageException;
import org.hvlab.machine.sched.ChoiceRecord;
import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.xmhf.Xmhf;
import org.hvlab.xmhf.XmhfOptions;
import org.hvlab.xmhf.hypapp.Hypapp;

/**
 * One run of a scenario: (scenario, seed, choice source, injection plan) in, the machine's
 * result, the oracles' verdict, the serial output and the recorded choices out. Everything a
 * run does follows from those inputs, so a record of them replays it byte for byte.
 */
public final class ScenarioRun {
    /** What one run produced (its verdict, output and choices; not to be confused with the machine's {@code Outcome}, the status class of its ending). */
    public record Result(Scenario scenario, long seed, String strategy, InjectionPlan plan, RunResult result, Verdict verdict,
            String serial, String guestSerial, ChoiceRecord choices, long[] injectedPerCpu, Machine machine, NmiRecords nmis) {}

    private ScenarioRun() {}

    /** Runs with the choices {@code choices} makes and the injection plan {@code plan}. */
    public static Result run(Scenario s, long seed, ChoiceSource choices, InjectionPlan plan) throws ScenarioException {
        return run(s, seed, choices, plan, false);
    }

    /** As {@link #run(Scenario, long, ChoiceSource, InjectionPlan)}; {@code trace} records a timeline (machine.trace()). */
    public static Result run(Scenario s, long seed, ChoiceSource choices, InjectionPlan plan, boolean trace) throws ScenarioException {
        ElfImage img = image(s);
        CpuProfile profile;
        try {
            profile = CpuProfile.load(s.machine().profile());
        } catch (CpuProfile.ProfileException e) {
            throw new ScenarioException(s.file() + ": machine.profile: " + e.getMessage());
        }
        MachineSpec spec = MachineSpec.builder().cpus(s.machine().cpus()).memory(s.machine().memoryBytes()).maxSteps(s.limits().maxSteps())
                .choices(choices).profile(profile).pauseYields(s.scheduling().pauseYields()).image(img, s.guest().cmdline());
        if (s.hypervisor().xmhf()) {
            XmhfOptions o = new XmhfOptions();
            try {
                s.hypervisor().options().forEach(o::set);
                Hypapp hypapp = org.hvlab.xmhf.hypapp.Hypapps.create(s.hypervisor().hypapp());
                spec.host(Xmhf.installer(o, hypapp));
            } catch (IllegalArgumentException e) {
                throw new ScenarioException(s.file() + ": hypervisor: " + e.getMessage());
            }
        }
        Machine m;
        try {
            m = spec.build();
        } catch (IllegalArgumentException e) {
            // the loader checked the machine's numbers: what build() refuses here is XMHF's installation
            throw new ScenarioException(s.file() + ": hypervisor: " + e.getMessage());
        } catch (ImageException e) {
            throw new ScenarioException(s.file() + ": guest.image: " + e.getMessage());
        }
        if (trace) m.enableTrace();
        RunDriver[] driver = new RunDriver[1];
        boolean stuck = s.oracles().contains("stuck");
        NmiRecords nmis = NmiRecords.attach(m);
        RunResult r = m.run(t -> driver[0] = new RunDriver(m, nmis, t, plan, s.limits().stuckSteps(), stuck));
        String guest = m.serial().guestText();
        Verdict v = Oracles.judge(r, guest);
        if (!v.failed() && s.oracles().contains("nmi-accounting")) {
            Verdict n = Oracles.nmiAccounting(m, nmis);
            if (n != null) v = n;
        }
        return new Result(s, seed, choices.describe(), plan, r, v, m.serial().text(), guest, m.scheduler().record(),
                driver[0] == null ? new long[0] : driver[0].injected.clone(), m, nmis);
    }

    /** Runs with the seeded random scheduler of the scenario and its plan expanded for {@code seed}. */
    public static Result random(Scenario s, long seed) throws ScenarioException {
        return run(s, seed, new org.hvlab.machine.sched.SeededRandom(seed, s.scheduling().maxQuantum()),
                InjectionPlan.expand(s.injections(), seed, s.limits().maxSteps()));
    }

    private static final java.util.Map<String, ElfImage> BUNDLED = new java.util.concurrent.ConcurrentHashMap<>();

    /** A bundled guest by name, else an ELF file relative to the scenario's directory. */
    static ElfImage image(Scenario s) throws ScenarioException {
        String name = s.guest().image();
        ElfImage cached = BUNDLED.get(name);
        if (cached != null) return cached;
        try (InputStream in = ScenarioRun.class.getResourceAsStream("/guests/" + name + ".elf")) {
            if (in != null && name.matches("[a-z0-9-]+")) {
                ElfImage img = ElfImage.parse(name, in.readAllBytes());
                BUNDLED.put(name, img);
                return img;
            }
            Path base = s.file() == null || s.file().getParent() == null ? Path.of(".") : s.file().getParent();
            Path p = base.resolve(name);
            if (!Files.isRegularFile(p)) throw new ScenarioException(s.file() + ": guest.image: '" + name + "' is neither a bundled guest nor a file");
            return ElfImage.parse(p.toString(), Files.readAllBytes(p));
        } catch (IOException e) {
            throw new ScenarioException(s.file() + ": guest.image: cannot read '" + name + "': " + e.getMessage());
        } catch (ImageException e) {
            throw new ScenarioException(s.file() + ": guest.image: " + e.getMessage());
        }
    }
}
