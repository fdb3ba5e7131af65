package org.hvlab.xmhf;

import java.io.IOException;
import java.io.InputStream;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.MachineSpec;
import org.hvlab.machine.RunResult;
import org.hvlab.machine.boot.ElfImage;
import org.hvlab.machine.boot.ImageException;
import org.hvlab.machine.sched.SeededRandom;
import org.hvlab.xmhf.hypapp.Hypapp;

/** Runs a bundled guest image (guests/NAME.elf) on the bare machine or under XMHF. */
final class XmhfRuns {
    private XmhfRuns() {}

    /** {@code serial}: everything on COM1; {@code guestSerial}: what the guest wrote (XMHF's lines aside). */
    record Run(RunResult result, String serial, String guestSerial, Machine machine, Xmhf xmhf) {}

    static ElfImage image(String name) {
        try (InputStream in = XmhfRuns.class.getResourceAsStream("/guests/" + name + ".elf")) {
            if (in == null) throw new IllegalStateException("guest " + name + " was not built");
            return ElfImage.parse(name, in.readAllBytes());
        } catch (IOException | ImageException e) {
            throw new IllegalStateException(e);
        }
    }

    static Run bare(String name, int cpus, long seed, String cmdline) {
        return run(name, cpus, seed, cmdline, null, Hypapp.NONE, 50_000_000L);
    }

    static Run xmhf(String name, int cpus, long seed, String cmdline, XmhfOptions options) {
        return run(name, cpus, seed, cmdline, options, Hypapp.NONE, 50_000_000L);
    }

    static Run run(String name, int cpus, long seed, String cmdline, XmhfOptions options, Hypapp hypapp, long maxSteps) {
        return run(name, cpus, 256L << 20, seed, cmdline, options, hypapp, maxSteps);
    }

    static Run run(String name, int cpus, long memory, long seed, String cmdline, XmhfOptions options, Hypapp hypapp, long maxSteps) {
        Xmhf[] x = new Xmhf[1];
        Machine m;
        try {
            MachineSpec spec = MachineSpec.builder().cpus(cpus).memory(memory).maxSteps(maxSteps)
                    .choices(new SeededRandom(seed, MachineConfig.DEFAULT_MAX_QUANTUM)).image(image(name), cmdline);
            if (options != null) spec.host(mm -> x[0] = Xmhf.install(mm, options, hypapp));
            m = spec.build();
        } catch (ImageException e) {
            throw new IllegalStateException(e);
        }
        RunResult r = m.run();
        return new Run(r, m.serial().text(), m.serial().guestText(), m, x[0]);
    }
}
