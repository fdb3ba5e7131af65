package org.hvlab.explore;

import java.util.ArrayList;
import java.util.List;
import org.hvlab.machine.boot.Symbols;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.explore.NmiChain.Delivery;

/**
 * Explains a CPU's NMI frames from its {@link NmiChain}: which NMI reached which guest
 * instruction, and whether the guest was still NMI-blocked then (its previous NMI had not yet
 * returned with IRET), which no correct platform allows (SDM Vol.3A 6.7.1). Seed 000's chain
 * ends with an NMI that interrupted an IRETQ and wrote its frame over the one that IRETQ was
 * about to consume.
 */
final class NmiChains {
    private NmiChains() {}

    /** The CPU is in 64-bit mode at an IRETQ (REX.W CF). */
    static boolean onIretq(Cpu c) {
        return c.is64() && (c.readLinQuietly(c.rip) & 0xFFFF) == 0xCF48;
    }

    /** At an IRETQ whose frame returns to that IRETQ (seed 000). */
    static boolean onSelfIretq(Cpu c) {
        return onIretq(c) && c.readLinQuietly(c.r[Cpu.RSP]) == c.rip;
    }

    static String where(Symbols s, long rip) {
        return where(rip, s == null ? null : s.lookup(rip));
    }

    static String where(long rip, String sym) {
        return String.format("rip=0x%x%s", rip, sym == null ? "" : " <" + sym + ">");
    }

    static String describe(Delivery d, Symbols s) {
        return String.format("step %d: NMI %s at %s, rsp=0x%x; frame written at 0x%x%s", d.step(), d.injected() ? "injected" : "delivered",
                where(s, d.rip()), d.rspBefore(), d.frame(),
                d.whileBlocked() ? String.format(" - while the guest was still NMI-blocked (its NMI of step %d at %s had not returned)",
                        d.openBefore().step(), where(s, d.openBefore().rip())) : "");
    }

    /**
     * The episode behind the frame at {@code frameAddr} that returns to {@code frameRip}, oldest
     * first: from the NMI that interrupted code off the NMI stack (the first of the episode) to
     * the NMI that wrote that frame, having interrupted {@code frameRip} (for an IRETQ returning
     * to itself, the first of the last NMIs that all landed on it). Every NMI in between
     * interrupted the handler on its own stack (RSP already within a page of the frame), so its
     * delivery reset RSP and rewrote the frame there. Empty when the chain has no such delivery.
     */
    static List<Delivery> episode(Cpu c, NmiChain chain, long frameAddr, long frameRip) {
        List<Delivery> r = chain.recent();
        int w = -1;
        for (int i = r.size() - 1; i >= 0; i--) {
            Delivery d = r.get(i);
            if (d.frame() == frameAddr && d.rip() == frameRip) w = i;
            else if (w >= 0) break;
        }
        if (w < 0) return List.of();
        int first = w;
        while (first > 0 && onNmiStack(r.get(first))) first--;
        return new ArrayList<>(r.subList(Math.max(first, w - 15), w + 1));
    }

    /** The episode of an IRETQ returning to itself; empty unless the CPU stands on such an IRETQ. */
    static List<Delivery> selfFrameEpisode(Cpu c, NmiChain chain) {
        return onSelfIretq(c) ? episode(c, chain, c.r[Cpu.RSP], c.rip) : List.of();
    }

    private static boolean onNmiStack(Delivery d) {
        return d.rspBefore() <= d.frame() + 40 && d.frame() - d.rspBefore() < 4096;
    }

    /** For an IRETQ returning to itself: how its frame came about (null if the chain has no record of it). */
    static GuestStuck.NmiEpisode selfFrameCause(Cpu c, NmiChain chain, Symbols s) {
        return cause(selfFrameEpisode(c, chain), s);
    }

    /** For an IRETQ loop: how the frame at {@code frameAddr} that returns to {@code frameRip} came about (or null). */
    static GuestStuck.NmiEpisode loopFrameCause(Cpu c, NmiChain chain, Symbols s, long frameAddr, long frameRip) {
        return cause(episode(c, chain, frameAddr, frameRip), s);
    }

    private static GuestStuck.NmiEpisode cause(List<Delivery> e, Symbols s) {
        if (e.isEmpty()) return null;
        Delivery w = e.get(e.size() - 1);
        List<GuestStuck.CpuPlaceAt> blocked = new ArrayList<>();
        for (Delivery d : e) if (d.whileBlocked()) blocked.add(new GuestStuck.CpuPlaceAt(d.step(), d.rip(), s == null ? null : s.lookup(d.rip())));
        return new GuestStuck.NmiEpisode(w.injected(), w.step(), blocked);
    }

    private static List<String> lines(List<Delivery> e, Symbols s) {
        List<String> out = new ArrayList<>();
        for (Delivery d : e) {
            String line = describe(d, s);
            if (onNmiStack(d)) line += String.format(" - the CPU was already on this NMI stack: RSP reset to its top, the frame at 0x%x rewritten", d.frame());
            out.add(line);
        }
        return out;
    }

    /** The episode of an IRETQ returning to itself as report lines, with the conclusion. */
    static List<String> selfFrameChain(Cpu c, NmiChain chain, Symbols s) {
        List<Delivery> e = selfFrameEpisode(c, chain);
        if (e.isEmpty()) return List.of();
        List<String> out = lines(e, s);
        Delivery w = e.get(e.size() - 1);
        out.add(String.format("The last of these interrupted the IRETQ at %s with RSP=0x%x and wrote its own frame there: RIP = that IRETQ, RSP = 0x%x."
                + " Its handler returned to the IRETQ, which consumes that frame and so returns to itself, for ever.", where(s, c.rip), w.rspBefore(), w.rspBefore()));
        return out;
    }

    /** The episode of an IRETQ loop (the IRETQ at {@code iretq} consumes the frame at {@code frameAddr}, returning to {@code frameRip}). */
    static List<String> loopChain(Cpu c, NmiChain chain, Symbols s, long iretq, long frameAddr, long frameRip) {
        List<Delivery> e = episode(c, chain, frameAddr, frameRip);
        if (e.isEmpty()) return List.of();
        List<String> out = lines(e, s);
        Delivery w = e.get(e.size() - 1);
        out.add(String.format("The last of these interrupted %s with RSP=0x%x and wrote its frame at 0x%x. The IRETQ at %s consumes that frame:"
                + " it returns to %s, whose code runs back into the same IRETQ with the frame unchanged, for ever.",
                where(s, frameRip), w.rspBefore(), frameAddr, where(s, iretq), where(s, frameRip)));
        return out;
    }

    /**
     * What gdb showed in seed 000 for a CPU standing on an IRETQ: {@code x/i $rip} and
     * {@code x/6gx $rsp} (the frame the IRETQ consumes: RIP, CS, RFLAGS, RSP, SS, and one word
     * more). Null when the CPU is not in 64-bit mode on an IRETQ.
     */
    static String gdbView(Cpu c, Symbols s) {
        if (!onIretq(c)) return null;
        String sym = s == null ? null : s.lookup(c.rip);
        StringBuilder sb = new StringBuilder(String.format("(gdb) x/i $rip%n=> 0x%x%s:\tiretq%n(gdb) x/6gx $rsp%n", c.rip, sym == null ? "" : " <" + sym + ">"));
        long rsp = c.r[Cpu.RSP];
        for (int i = 0; i < 6; i += 2) {
            sb.append(String.format("0x%x:\t0x%016x\t0x%016x%n", rsp + 8L * i, c.readLinQuietly(rsp + 8L * i), c.readLinQuietly(rsp + 8L * i + 8)));
        }
        return sb.toString();
    }

    /** The CPU's kept deliveries, oldest first, at most {@code n}. */
    static List<String> recent(Cpu c, NmiChain chain, Symbols s, int n) {
        List<Delivery> r = chain.recent();
        List<String> out = new ArrayList<>();
        for (int i = Math.max(0, r.size() - n); i < r.size(); i++) out.add(describe(r.get(i), s));
        return out;
    }
}
