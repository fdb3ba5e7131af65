package org.hvlab.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.MachineSpec;
import org.hvlab.machine.Outcome;
import org.hvlab.machine.RunResult;
import org.hvlab.machine.boot.ElfImage;
import org.hvlab.machine.boot.ImageException;
import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.RoundRobin;
import org.hvlab.machine.sched.SeededRandom;
import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.xmhf.Xmhf;
import org.hvlab.xmhf.XmhfOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hvlab run}: docs/boot-protocol.md "Running an image". */
@Command(name = "run", mixinStandardHelpOptions = true, description = {
        "Run a boot-protocol guest image. Standard output carries exactly the bytes the guest writes to COM1.",
        "Exit status: the guest's debug-exit status; otherwise 100 step limit, 101 triple fault/shutdown,",
        "102 deadlock, 103 hypervisor halt, 104 simulator error; 2 for bad input."})
final class RunCommand implements Callable<Integer> {
    @Option(names = "--image", required = true, paramLabel = "FILE", description = "ELF64 image, or the name of a bundled guest (see 'hvlab guests').")
    String image;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1", description = "Number of CPUs (1-64, default ${DEFAULT-VALUE}).")
    int cpus;

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "256M", description = "RAM size: 512M, 4G, ...; a bare number is MiB (default ${DEFAULT-VALUE}).")
    String memory;

    @Option(names = "--hypervisor", paramLabel = "none|xmhf", defaultValue = "none", description = "Java hypervisor to run the guest under (default ${DEFAULT-VALUE}).")
    String hypervisor;

    @Option(names = "--hypapp", paramLabel = "none|trustvisor", defaultValue = "none", description = "XMHF's hypapp (default ${DEFAULT-VALUE}).")
    String hypapp;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "An option; see the README's option table.")
    List<String> sets = new ArrayList<>();

    @Option(names = "--cmdline", paramLabel = "TEXT", defaultValue = "", description = "Command line placed in the boot information.")
    String cmdline;

    @Option(names = "--max-steps", paramLabel = "N", defaultValue = "2000000000", description = "Step limit (default ${DEFAULT-VALUE}).")
    long maxSteps;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the scheduler's choices (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--summary", paramLabel = "FILE", description = "Write a JSON summary of the run.")
    Path summary;

    /** Machine-level --set keys; hypervisor keys come with the hypervisor. */
    static final Map<String, String> KEYS = new LinkedHashMap<>();

    static {
        KEYS.put("scheduler", "random | round-robin: how the next CPU and its quantum are chosen (default random)");
        KEYS.put("quantum", "largest quantum in instructions (random) or the fixed quantum (round-robin); default 2000");
        KEYS.put("pause-yields", "true | false: PAUSE ends the CPU's quantum (default true)");
        KEYS.put("profile", "CPU profile: kvm-2022 (default) or kvm-2022-i386 (seed 003's 32-bit scan)");
    }

    @Override
    public Integer call() throws IOException {
        if (cpus < 1 || cpus > MachineConfig.MAX_CPUS) throw new Main.BadInput("--cpus must be between 1 and " + MachineConfig.MAX_CPUS + ", got " + cpus);
        long mem = Sizes.parse(memory);
        if (mem < (2L << 20) || mem > (64L << 30)) throw new Main.BadInput("--memory must be between 2 MiB and 64 GiB, got " + memory);
        if ((mem & 0xFFF) != 0) throw new Main.BadInput("--memory must be a multiple of 4 KiB, got " + memory);
        if (maxSteps < 1) throw new Main.BadInput("--max-steps must be positive, got " + maxSteps);
        if (!hypervisor.equals("none") && !hypervisor.equals("xmhf")) throw new Main.BadInput("unknown hypervisor '" + hypervisor + "' (none or xmhf)");
        boolean xmhf = hypervisor.equals("xmhf");
        if (!org.hvlab.xmhf.hypapp.Hypapps.NAMES.contains(hypapp)) throw new Main.BadInput("unknown hypapp '" + hypapp + "' (none or trustvisor)");
        if (!xmhf && !hypapp.equals("none")) throw new Main.BadInput("--hypapp needs --hypervisor xmhf");
        XmhfOptions xmhfOptions = new XmhfOptions();
        String strategy = "random";
        int quantum = MachineConfig.DEFAULT_MAX_QUANTUM;
        boolean pauseYields = true;
        CpuProfile profile = CpuProfile.defaultProfile();
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) throw new Main.BadInput("--set wants KEY=VALUE, got '" + s + "'");
            String k = s.substring(0, eq), v = s.substring(eq + 1);
            switch (k) {
                case "scheduler" -> {
                    if (!v.equals("random") && !v.equals("round-robin")) throw new Main.BadInput("scheduler must be random or round-robin, got '" + v + "'");
                    strategy = v;
                }
                case "quantum" -> {
                    try {
                        quantum = Integer.parseInt(v);
                    } catch (NumberFormatException e) {
                        throw new Main.BadInput("quantum must be a number, got '" + v + "'");
                    }
                    if (quantum < 1) throw new Main.BadInput("quantum must be at least 1, got " + quantum);
                }
                case "pause-yields" -> {
                    if (!v.equals("true") && !v.equals("false")) throw new Main.BadInput("pause-yields must be true or false, got '" + v + "'");
                    pauseYields = v.equals("true");
                }
                case "profile" -> {
                    try {
                        profile = CpuProfile.load(v);
                    } catch (CpuProfile.ProfileException e) {
                        throw new Main.BadInput(e.getMessage());
                    }
                }
                default -> {
                    if (!XmhfOptions.isOption(k)) {
                        throw new Main.BadInput("unknown option '" + k + "' (known: " + String.join(", ", KEYS.keySet()) + ", and with --hypervisor xmhf: "
                                + String.join(", ", XmhfOptions.TABLE.stream().map(XmhfOptions.Option::key).toList()) + ")");
                    }
                    if (!xmhf) throw new Main.BadInput("option '" + k + "' is an XMHF option: it needs --hypervisor xmhf");
                    try {
                        xmhfOptions.set(k, v);
                    } catch (IllegalArgumentException e) {
                        throw new Main.BadInput(e.getMessage());
                    }
                }
            }
        }
        byte[] bytes = GuestImages.read(image);
        ElfImage img;
        try {
            img = ElfImage.parse(image, bytes);
        } catch (ImageException e) {
            throw new Main.BadInput(e.getMessage());
        }
        ChoiceSource choices = strategy.equals("random") ? new SeededRandom(seed, quantum) : new RoundRobin(quantum);
        OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
        MachineSpec spec = MachineSpec.builder().cpus(cpus).memory(mem).maxSteps(maxSteps).choices(choices).profile(profile)
                .pauseYields(pauseYields).image(img, cmdline).serialOut(out);
        Machine m;
        try {
            if (xmhf) spec.host(Xmhf.installer(xmhfOptions, org.hvlab.xmhf.hypapp.Hypapps.create(hypapp)));
            m = spec.build();
        } catch (IllegalArgumentException | ImageException e) {
            throw new Main.BadInput(e.getMessage());
        }
        RunResult r = m.run();
        out.flush();
        if (summary != null) Files.writeString(summary, SummaryJson.of(r, seed, choices.describe(), m.scheduler().record().size()));
        if (r.outcome() != Outcome.EXITED) System.err.println("hvlab: " + r.message());
        return r.exitStatus();
    }
}
