package org.hvlab.machine;

import java.io.OutputStream;
import org.hvlab.machine.boot.ElfImage;
import org.hvlab.machine.boot.ImageException;
import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.SeededRandom;
import org.hvlab.machine.vmx.CpuProfile;

/**
 * Everything a machine is made of, in one place (docs/architecture.md "One machine
 * specification"): CPUs, memory, CPU profile, scheduler, PAUSE behaviour, step limit, the Java
 * hypervisor to install (if any), the image and its command line, where COM1 goes. {@code hvlab
 * run}, scenarios, benchmarks and tests build machines through it; nothing is set by hand on a
 * machine after it is built.
 */
public final class MachineSpec {
    /** Installs a Java hypervisor on a new machine (before the image is loaded): XMHF's {@code Xmhf.installer}. */
    @FunctionalInterface
    public interface HostInstaller {
        void install(Machine m);
    }

    private int cpus = 1;
    private long memoryBytes = MachineConfig.DEFAULT_MEMORY;
    private long maxSteps = MachineConfig.DEFAULT_MAX_STEPS;
    private ChoiceSource choices;
    private CpuProfile profile;
    private boolean pauseYields = true;
    private HostInstaller host;
    private ElfImage image;
    private String cmdline = "";
    private OutputStream serialOut;

    public static MachineSpec builder() {
        return new MachineSpec();
    }

    public MachineSpec cpus(int n) { this.cpus = n; return this; }
    public MachineSpec memory(long bytes) { this.memoryBytes = bytes; return this; }
    public MachineSpec maxSteps(long n) { this.maxSteps = n; return this; }
    /** The scheduler's choice source (default: seeded random, seed 1, the default quantum). */
    public MachineSpec choices(ChoiceSource c) { this.choices = c; return this; }
    /** The CPU profile (default: {@link CpuProfile#defaultProfile()}). */
    public MachineSpec profile(CpuProfile p) { this.profile = p; return this; }
    public MachineSpec pauseYields(boolean b) { this.pauseYields = b; return this; }
    /** A Java hypervisor to install (default: none, the bare machine). */
    public MachineSpec host(HostInstaller h) { this.host = h; return this; }
    /** The image to load by the boot protocol, with its command line (default: none; load later). */
    public MachineSpec image(ElfImage img, String cmdline) { this.image = img; this.cmdline = cmdline == null ? "" : cmdline; return this; }
    /** Where COM1's bytes go as they are written (default: kept only). */
    public MachineSpec serialOut(OutputStream out) { this.serialOut = out; return this; }

    /**
     * The machine: configured, its hypervisor installed, its image loaded.
     *
     * @throws IllegalArgumentException a bad count, size or limit, or the hypervisor refused its options
     * @throws ImageException the image does not fit this machine
     */
    public Machine build() throws ImageException {
        MachineConfig config = new MachineConfig(cpus, memoryBytes, maxSteps,
                choices != null ? choices : new SeededRandom(1, MachineConfig.DEFAULT_MAX_QUANTUM),
                profile != null ? profile : CpuProfile.defaultProfile(), pauseYields);
        Machine m = new Machine(config, serialOut);
        if (host != null) host.install(m);
        if (image != null) m.load(image, cmdline);
        return m;
    }
}
