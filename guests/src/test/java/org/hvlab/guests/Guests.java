package org.hvlab.guests;

import java.io.IOException;
import java.io.InputStream;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.MachineSpec;
import org.hvlab.machine.RunResult;
import org.hvlab.machine.boot.ElfImage;
import org.hvlab.machine.boot.ImageException;
import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.SeededRandom;
import org.hvlab.machine.vmx.CpuProfile;

/** Loads the bundled guest images (built into guests/NAME.elf on the class path) and runs them. */
final class Guests {
    private Guests() {}

    static ElfImage image(String name) {
        try (InputStream in = Guests.class.getResourceAsStream("/guests/" + name + ".elf")) {
            if (in == null) throw new IllegalStateException("guest " + name + " was not built");
            return ElfImage.parse(name, in.readAllBytes());
        } catch (IOException | ImageException e) {
            throw new IllegalStateException(e);
        }
    }

    record Run(RunResult result, String serial, Machine machine) {}

    static Run run(String name, int cpus, long seed, String cmdline) {
        return run(name, cpus, new SeededRandom(seed, MachineConfig.DEFAULT_MAX_QUANTUM), cmdline, 200_000_000L);
    }

    static Run run(String name, int cpus, ChoiceSource choices, String cmdline, long maxSteps) {
        return run(name, cpus, choices, cmdline, maxSteps, CpuProfile.defaultProfile());
    }

    /** Runs a guest on one CPU with seed 1 under a named CPU profile. */
    static Run run(String name, String profile, String cmdline) {
        try {
            return run(name, 1, new SeededRandom(1, MachineConfig.DEFAULT_MAX_QUANTUM), cmdline, 200_000_000L, CpuProfile.load(profile));
        } catch (CpuProfile.ProfileException e) {
            throw new IllegalStateException(e);
        }
    }

    static Run run(String name, int cpus, ChoiceSource choices, String cmdline, long maxSteps, CpuProfile profile) {
        Machine m;
        try {
            m = MachineSpec.builder().cpus(cpus).maxSteps(maxSteps).choices(choices).profile(profile).image(image(name), cmdline).build();
        } catch (ImageException e) {
            throw new IllegalStateException(e);
        }
        RunResult r = m.run();
        return new Run(r, m.serial().text(), m);
    }
}
