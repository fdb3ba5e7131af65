package org.hvlab.explore;

import java.util.ArrayList;
import java.util.List;
import org.hvlab.machine.RunEnding;

/**
 * The stuck-guest oracle's endings ({@link RunDriver}): exploration's own kinds of run ending,
 * which the machine knows only as {@link RunEnding.Driven}. Exit status 105 (README).
 */
public sealed interface GuestStuck extends RunEnding.Driven {
    int EXIT_STATUS = 105;

    @Override default int exitStatus() { return EXIT_STATUS; }
    @Override default String key() { return "guest-stuck"; }

    /** Where the run is stuck, without the numbers that vary between runs that fail the same way (the signature's place). */
    String place();

    /** A CPU's place at the end: its RIP and symbol. */
    record CpuPlace(int cpu, long rip, String symbol) {
        String render() { return String.format("CPU %d rip=0x%x%s", cpu, rip, RunEnding.angle(symbol)); }
    }

    /** The five quadwords an IRETQ pops (SDM Vol.3A 6.14.3 "IRET in IA-32e Mode"). */
    record IretFrame(long rip, long cs, long rflags, long rsp, long ss) {}

    /**
     * The NMI episode behind an IRETQ frame ({@link NmiChains#episode}): the NMI that wrote the
     * frame ({@code injected} by a hypervisor or delivered by the CPU, at {@code step}) and the
     * NMIs of the episode that reached the guest while it was still NMI-blocked.
     */
    record NmiEpisode(boolean injected, long step, List<CpuPlaceAt> whileBlocked) {
        public NmiEpisode { whileBlocked = List.copyOf(whileBlocked); }

        /** The clause a stuck verdict adds, {@code interrupted} naming what the writing NMI interrupted. */
        String render(String interrupted) {
            StringBuilder sb = new StringBuilder(String.format("; that frame was written by the NMI %s at step %d, which interrupted %s",
                    injected ? "injected" : "delivered", step, interrupted));
            List<String> blocked = new ArrayList<>();
            for (CpuPlaceAt p : whileBlocked) blocked.add(String.format("step %d at %s", p.step(), NmiChains.where(p.rip(), p.symbol())));
            if (!blocked.isEmpty()) sb.append("; NMIs reached the guest while it was still NMI-blocked: ").append(String.join(", ", blocked));
            return sb.toString();
        }
    }

    /** A delivery's step and the guest instruction it interrupted. */
    record CpuPlaceAt(long step, long rip, String symbol) {}

    /** A CPU spins on an IRETQ whose frame returns to that same IRETQ (seed 000). {@code cause} may be null. */
    record IretqToItself(int cpu, long rip, String symbol, IretFrame frame, NmiEpisode cause) implements GuestStuck {
        public String place() { return "IRETQ returning to itself" + RunEnding.angle(symbol); }

        public String render() {
            return String.format("CPU %d stuck: IRETQ returning to itself at rip=0x%x%s; frame rip=0x%x cs=0x%x rflags=0x%x rsp=0x%x ss=0x%x",
                    cpu, rip, RunEnding.angle(symbol), frame.rip(), frame.cs(), frame.rflags(), frame.rsp(), frame.ss())
                    + (cause == null ? "" : cause.render("this IRETQ"));
        }
    }

    /**
     * A CPU keeps arriving at the IRETQ at {@code rip} with the same frame (at {@code frameRsp},
     * returning to {@code toRip} with {@code toRsp}) and no NMI in between, {@code sightings}
     * times. {@code cause} may be null.
     */
    record IretqLoop(int cpu, long rip, String symbol, long frameRsp, long toRip, String toSymbol, long toRsp, int sightings, NmiEpisode cause)
            implements GuestStuck {
        // the place is the IRETQ; where its frame returns varies with the NMI that wrote it
        public String place() { return "IRETQ loop" + RunEnding.angle(symbol); }

        public String render() {
            return String.format("CPU %d stuck: IRETQ loop at rip=0x%x%s: its frame (rsp=0x%x) returns to rip=0x%x%s with rsp=0x%x, which comes back to it with the same frame, %d times, no NMI in between",
                    cpu, rip, RunEnding.angle(symbol), frameRsp, toRip, RunEnding.angle(toSymbol), toRsp, sightings)
                    + (cause == null ? "" : cause.render(NmiChains.where(toRip, toSymbol)));
        }
    }

    /**
     * No serial output and no exit for {@code quietSteps} ({@code afterInjection}: counted from
     * the plan's last NMI); {@code loop} is an IRETQ loop seen meanwhile, or null.
     */
    record NoProgress(long quietSteps, boolean afterInjection, List<CpuPlace> cpus, IretqLoop loop) implements GuestStuck {
        public NoProgress { cpus = List.copyOf(cpus); }

        public String place() { return loop != null ? loop.place() : "no progress"; }

        public String render() {
            StringBuilder sb = new StringBuilder();
            if (loop != null) sb.append(loop.render()).append("; ");
            sb.append("guest stuck: no serial output and no exit for ").append(quietSteps).append(" steps");
            if (afterInjection) sb.append(" after the last injection");
            sb.append("; ");
            for (int i = 0; i < cpus.size(); i++) sb.append(i == 0 ? "" : ", ").append(cpus.get(i).render());
            return sb.toString();
        }
    }
}
