package org.hvlab.xmhf.smpguest;

import static org.hvlab.machine.vmx.VmcsFields.*;
import static org.hvlab.machine.vmx.VmxControls.*;
import static org.hvlab.xmhf.baseplatform.Fields.*;

import org.hvlab.machine.apic.ApicBus;
import org.hvlab.machine.host.HostCpu;
import org.hvlab.machine.host.SharedLong;
import org.hvlab.machine.host.SpinLock;
import org.hvlab.xmhf.XmhfOptions;
import org.hvlab.xmhf.runtime.Vcpu;

/**
 * smpguest (docs/xmhf-facts.md): all NMI logic — quiesce requests versus guest NMIs, guest NMI
 * injection through NMI windows, the deferred-NMI design — quiesce/end-quiesce, and the
 * guest's INIT-SIPI-SIPI, which XMHF intercepts so that each AP starts in the guest at the
 * SIPI vector.
 */
public final class SmpGuest {
    private final XmhfOptions options;
    private final int cpus;
    private final Vcpu[] vcpus;

    public final SpinLock quiesceLock = new SpinLock("quiesce"), eptLock = new SpinLock("ept"),
            printfLock = new SpinLock("printf"), quiesceCounterLock = new SpinLock("quiesce-counter");
    final SharedLong quiesceFlag = new SharedLong("quiesce", 0), quiesceCounter = new SharedLong("quiesce-counter", 0),
            resumeSignal = new SharedLong("resume-signal", 0), resumeCounter = new SharedLong("resume-counter", 0);
    /** Per AP: the SIPI vector the guest sent it (-1 none yet), and whether an INIT came first. */
    private final SharedLong[] sipiVector, initSeen;
    /** Set by whoever changed EPT during a quiesce; each quiesced CPU executes INVEPT when it resumes. */
    final SharedLong eptChanged = new SharedLong("ept-changed", 0);

    public SmpGuest(XmhfOptions options, Vcpu[] vcpus) {
        this.options = options;
        this.vcpus = vcpus;
        this.cpus = vcpus.length;
        sipiVector = new SharedLong[cpus];
        initSeen = new SharedLong[cpus];
        for (int i = 0; i < cpus; i++) {
            sipiVector[i] = new SharedLong("sipi-" + i, -1);
            initSeen[i] = new SharedLong("init-" + i, 0);
        }
    }

    // =========================================================================================
    // printf: XMHF's one serial lock

    /** XMHF's printf: the whole line under the printf lock. */
    public void printf(Vcpu v, String text) {
        printfLock.lock(v.cpu);
        v.cpu.print(text);
        printfLock.unlock(v.cpu);
    }

    // =========================================================================================
    // NMIs

    /**
     * An NMI reached XMHF on {@code v} (NMI exit or host NMI with handling enabled): a quiesce
     * request if a quiesce is in progress and this CPU has not yet quiesced, else an NMI for the
     * guest (docs/xmhf-facts.md "Quiesce request or guest NMI?").
     */
    public void handleNmi(Vcpu v) {
        if (quiesceFlag.get(v.cpu) == 1 && !v.quiesced) {
            quiesceParticipate(v);
        } else {
            guestNmi(v);
        }
    }

    /**
     * A host NMI (XMHF was running): with NMI handling disabled (inside the intercept handler)
     * it only counts in the visited counter; the handler drains it when it re-enables.
     */
    public void hostNmi(Vcpu v) {
        if (v.nmiHandlingDisabled) {
            v.nmiVisited++;
            // bug 113: the NMI handler called the deferred-NMI enable itself, re-entering it
            // while the enable was draining: the inner call drains the NMIs the outer loop is
            // still working on, and the outer loop then counts one off twice
            if (options.deferredNmiReentrant() && v.nmiDraining) enableNmiHandling(v);
            return;
        }
        handleNmi(v);
    }

    public void disableNmiHandling(Vcpu v) {
        v.nmiHandlingDisabled = true;
    }

    /**
     * Re-enables NMI handling and handles, one by one, the NMIs that arrived meanwhile. Each is
     * handled with NMI handling still disabled, as in XMHF64's nmi_enable: this code does not
     * run in an NMI handler, so host NMIs are not blocked here, and an NMI arriving during the
     * handling must count in the visited counter (and be handled by this loop) rather than be
     * handled at once - otherwise a quiesce request arriving while this CPU still takes part in
     * the previous quiesce (quiesced is still set) would be taken for a guest NMI and lost. An
     * NMI is counted off once it has been handled, so a second, re-entrant enable (bug 113)
     * counts the same NMI off twice.
     */
    public void enableNmiHandling(Vcpu v) {
        boolean outer = !v.nmiDraining;
        v.nmiDraining = true;
        while (v.nmiVisited != 0) {
            v.nmiHandlingDisabled = true;
            handleNmi(v);
            v.nmiVisited--;
            if (v.nmiVisited < 0) {
                // only a re-entrant enable (bug 113) counts one NMI off twice
                throw v.halt(String.format("HALT; NMI visited counter underflow 0x%08x", v.nmiVisited));
            }
        }
        if (outer) v.nmiDraining = false;
        v.nmiHandlingDisabled = false;
    }

    /**
     * A guest NMI: queued for the NMI window (the fixed design), where the hypapp's block (the
     * guest's virtual-NMI blocking while a PAL runs) keeps it until the block ends. Historical
     * switches: without virtual NMIs it is injected at once into whatever the guest is doing,
     * even its own NMI handler (seed 000); decided at arrival (seed 001), an NMI arriving while
     * the hypapp blocks NMIs is dropped, and one that arrived before the block is injected at the
     * NMI window whatever the hypapp did meanwhile.
     */
    private void guestNmi(Vcpu v) {
        if (!v.launched) {
            v.cpu.guestNmiDiscarded();
            printf(v, v.prefix() + "drop NMI\n"); // no guest on this CPU yet
            return;
        }
        boolean copy = v.vmcs.valid();
        if (options.injectAtArrival() && options.virtualNmis() && v.hypappNmiBlock) {
            printf(v, v.prefix() + "drop NMI\n"); // seed 001's XMHF: "hypapp intercepts NMIs" (a TODO), the NMI is gone
            return;
        }
        if (!options.virtualNmis()) {
            long info = copy ? v.vmcs.read(ENTRY_INTERRUPTION_INFO) : v.cpu.vmread(ENTRY_INTERRUPTION_INFO);
            if ((info & 0x80000000L) != 0) {
                printf(v, v.prefix() + "drop NMI\n"); // an event is already queued for this entry
                return;
            }
            write(v, ENTRY_INTERRUPTION_INFO, NMI_INFO);
            // seed 000: clear the guest's blocking by NMI so the injection is allowed however
            // deep in its NMI handler the guest is
            long intr = copy ? v.vmcs.read(GUEST_INTERRUPTIBILITY) : v.cpu.vmread(GUEST_INTERRUPTIBILITY);
            write(v, GUEST_INTERRUPTIBILITY, intr & ~0xBL);
            printf(v, v.prefix() + "inject NMI\n");
            return;
        }
        long intr = copy ? v.vmcs.read(GUEST_INTERRUPTIBILITY) : v.cpu.vmread(GUEST_INTERRUPTIBILITY);
        long queued = copy ? v.vmcs.read(ENTRY_INTERRUPTION_INFO) : v.cpu.vmread(ENTRY_INTERRUPTION_INFO);
        // while the hypapp blocks NMIs the guest's own blocking is the one it had before
        boolean guestBlocked = v.hypappNmiBlock && !options.injectAtArrival() ? v.nmiBlockedBeforeHypapp : (intr & 8) != 0;
        int cap = guestBlocked || (queued & 0x80000000L) != 0 ? 1 : 2;
        // at the cap the guest holds one in its handler and one latched: a bare CPU would merge this one too
        if (v.nmiPending < cap) v.nmiPending++;
        else v.cpu.guestNmiMerged();
        v.cpu.trace("guest NMI pending", "pending " + v.nmiPending + (v.nmiPending == cap ? " (cap)" : ""));
        setNmiWindow(v, true);
    }

    /**
     * Guest NMIs this CPU holds and has not delivered (the NMI-accounting oracle, read at the end
     * of a run): the pending count, the visited counter (not yet classified, so an upper bound),
     * an NMI queued for the next entry, and one the last exit interrupted during its delivery.
     */
    public int nmisHeld(Vcpu v) {
        int held = v.nmiPending + Math.max(0, v.nmiVisited);
        org.hvlab.machine.vmx.Vmcs hw = v.cpu.cpu().vmx.current;
        long queued = v.vmcs.valid() ? v.vmcs.read(ENTRY_INTERRUPTION_INFO) : hw == null ? 0 : hw.get(ENTRY_INTERRUPTION_INFO);
        if ((queued & 0x80000700L) == 0x80000200L) held++;
        if (hw != null && (hw.get(IDT_VECTORING_INFO) & 0x80000700L) == 0x80000200L) held++;
        return held;
    }

    /** The NMI-window exit (reason 8): inject one pending NMI, then keep the window while more wait. */
    public void nmiWindow(Vcpu v) {
        if (v.nmiPending > 0 && (v.vmcs.read(ENTRY_INTERRUPTION_INFO) & 0x80000000L) == 0) {
            v.vmcs.write(ENTRY_INTERRUPTION_INFO, NMI_INFO);
            v.nmiPending--;
            v.cpu.trace("inject NMI (NMI window)", "pending " + v.nmiPending);
            printf(v, v.prefix() + "inject NMI\n");
        }
        setNmiWindow(v, v.nmiPending > 0);
    }

    private void setNmiWindow(Vcpu v, boolean on) {
        long proc = v.vmcs.valid() ? v.vmcs.read(PROC_BASED_CONTROLS) : v.cpu.vmread(PROC_BASED_CONTROLS);
        write(v, PROC_BASED_CONTROLS, on ? proc | PROC_NMI_WINDOW : proc & ~PROC_NMI_WINDOW);
    }

    // =========================================================================================
    // The hypapp's guest-NMI block (docs/xmhf-facts.md "Hypapp NMI blocking")

    /**
     * Blocks guest NMIs (TrustVisor, entering a PAL): the guest runs virtual-NMI blocked (SDM
     * Vol.3C 25.2: no NMI-window exit while it is set), so pending NMIs wait for the unblock;
     * an NMI already queued for injection goes back to pending. Only inside an intercept
     * handler: it edits the VMCS copy, which the handler's put writes. Historical switches: the
     * hardware VMCS instead (bug 087: the put overwrites it, the block is lost); seed 001's XMHF
     * only flags the block, which the NMI's arrival checks.
     */
    public void nmiBlock(Vcpu v) {
        v.hypappNmiBlock = true;
        if (options.injectAtArrival()) return;
        boolean hw = options.hypappNmiBlockHardware();
        long intr = hw ? v.cpu.vmread(GUEST_INTERRUPTIBILITY) : v.vmcs.read(GUEST_INTERRUPTIBILITY);
        v.nmiBlockedBeforeHypapp = (intr & 8) != 0;
        long queued = hw ? v.cpu.vmread(ENTRY_INTERRUPTION_INFO) : v.vmcs.read(ENTRY_INTERRUPTION_INFO);
        if ((queued & 0x800007FFL) == 0x80000202L) {
            if (hw) v.cpu.vmwrite(ENTRY_INTERRUPTION_INFO, 0);
            else v.vmcs.write(ENTRY_INTERRUPTION_INFO, 0);
            v.nmiPending++;
        }
        if (hw) v.cpu.vmwrite(GUEST_INTERRUPTIBILITY, intr | 8);
        else v.vmcs.write(GUEST_INTERRUPTIBILITY, intr | 8);
        if (v.nmiPending > 0) setNmiWindow(v, true);
    }

    /** Ends the hypapp's block: the guest's NMI blocking as it was; pending NMIs get their window. */
    public void nmiUnblock(Vcpu v) {
        v.hypappNmiBlock = false;
        if (options.injectAtArrival()) return;
        boolean hw = options.hypappNmiBlockHardware();
        long intr = hw ? v.cpu.vmread(GUEST_INTERRUPTIBILITY) : v.vmcs.read(GUEST_INTERRUPTIBILITY);
        intr = v.nmiBlockedBeforeHypapp ? intr | 8 : intr & ~8L;
        if (hw) v.cpu.vmwrite(GUEST_INTERRUPTIBILITY, intr);
        else v.vmcs.write(GUEST_INTERRUPTIBILITY, intr);
        if (v.nmiPending > 0) setNmiWindow(v, true);
    }

    /** Writes the VMCS copy when an intercept holds it, else the hardware VMCS. */
    private static void write(Vcpu v, int field, long value) {
        if (v.vmcs.valid()) v.vmcs.write(field, value);
        else v.cpu.vmwrite(field, value);
    }

    // =========================================================================================
    // Quiesce (docs/xmhf-facts.md "quiesce()")

    /** Stops every other CPU at an NMI; returns with all of them quiesced and the locks held. */
    public void quiesce(Vcpu v) {
        HostCpu c = v.cpu;
        c.traceSpan("quiesce", true);
        lockQuiesceHandlingNmis(v);
        eptLock.lock(c);
        printfLock.lock(c);
        v.quiesced = true;
        quiesceCounter.set(c, 0);
        quiesceFlag.set(c, 1);
        c.sendNmiAllButSelf();
        // bug 024: keeping the printf lock here deadlocks against a CPU that prints in an
        // intercept handler (NMI handling disabled) before it could take the quiesce NMI
        boolean released = options.quiesceReleasesPrintfLock();
        if (released) printfLock.unlock(c);
        c.spinUntil(() -> quiesceCounter.peek() == cpus - 1, "all other CPUs to quiesce (quiesce counter)");
        if (released) printfLock.lock(c);
    }

    /**
     * Takes the quiesce lock. quiesce() runs inside an intercept handler, where NMI handling is
     * disabled (a host NMI only counts in the visited counter). If another CPU holds the lock,
     * that CPU is quiescing and waits for this CPU to take its NMI; waiting for the lock with
     * that NMI deferred deadlocks two CPUs whose guests write MTRRs at the same time. So while
     * it waits, this CPU handles the NMIs that arrive, as enableNmiHandling does: a quiesce
     * request among them makes it take part in the other CPU's quiesce.
     */
    private void lockQuiesceHandlingNmis(Vcpu v) {
        HostCpu c = v.cpu;
        while (!quiesceLock.tryLock(c)) {
            c.spinUntil(() -> quiesceLock.owner() == null || v.nmiVisited != 0, "lock quiesce (held by another CPU), handling NMIs meanwhile");
            if (v.nmiVisited != 0 && v.nmiHandlingDisabled) {
                enableNmiHandling(v);
                disableNmiHandling(v);
            }
        }
    }

    /** Lets the quiesced CPUs go and releases the quiesce locks. */
    public void endQuiesce(Vcpu v) {
        HostCpu c = v.cpu;
        if (options.endQuiesceClearsFlagFirst()) {
            quiesceFlag.set(c, 0);
            resumeCounter.set(c, 0);
            resumeSignal.set(c, 1);
        } else {
            // bug 018: the signal goes up while the flag still says "quiesce"
            resumeCounter.set(c, 0);
            resumeSignal.set(c, 1);
            quiesceFlag.set(c, 0);
        }
        c.spinUntil(() -> resumeCounter.peek() == cpus - 1, "all other CPUs to resume (resume counter)");
        resumeSignal.set(c, 0);
        eptChanged.set(c, 0);
        v.quiesced = false;
        printfLock.unlock(c);
        eptLock.unlock(c);
        quiesceLock.unlock(c);
        c.traceSpan("quiesce", false);
    }

    /**
     * A quiesce request: count in, wait for the resume signal, count out, clear quiesced. Any
     * other NMI meanwhile waits (visited counter) as it would on XMHF, where this runs in the
     * NMI handler with NMIs blocked: handled between "count out" and "clear quiesced", the next
     * quiesce's NMI would be taken for a guest NMI and that quiesce would never complete.
     */
    private void quiesceParticipate(Vcpu v) {
        HostCpu c = v.cpu;
        c.traceSpan("quiesced", true);
        boolean deferring = v.nmiHandlingDisabled;
        v.nmiHandlingDisabled = true;
        v.quiesced = true;
        quiesceCounterLock.lock(c);
        quiesceCounter.incrementAndGet(c);
        quiesceCounterLock.unlock(c);
        c.spinUntil(() -> resumeSignal.peek() == 1, "the resume signal (quiesced)");
        // EPT changed while this CPU was stopped: drop its cached translations (SDM Vol.3C 28.3.3.1)
        // (EPT01's pointer, not the VMCS's: a CPU running a PAL has TrustVisor's EPT there)
        if (eptChanged.get(c) == 1 && v.vmxOn) c.invept(1, v.eptp01);
        quiesceCounterLock.lock(c);
        resumeCounter.incrementAndGet(c);
        quiesceCounterLock.unlock(c);
        v.quiesced = false;
        v.nmiHandlingDisabled = deferring;
        // came in with handling enabled (a host NMI outside an intercept handler): handle what
        // was deferred meanwhile now; inside a handler its own enable does that
        c.traceSpan("quiesced", false);
        if (!deferring && v.nmiVisited != 0) enableNmiHandling(v);
    }

    /** The quiescing CPU changed EPT01: the others execute INVEPT before they resume. */
    public void markEptChanged(Vcpu v) {
        eptChanged.set(v.cpu, 1);
    }

    // =========================================================================================
    // The guest's INIT-SIPI-SIPI

    /**
     * The guest BSP wrote the ICR (xAPIC page or x2APIC MSR 0x830): INIT and SIPI to a CPU are
     * XMHF's to handle (the AP waits in XMHF, not in the hardware's wait-for-SIPI); other IPIs
     * go to the hardware. Returns true when XMHF consumed it.
     */
    public boolean interceptIcr(Vcpu v, int icrLow, int dest) {
        int mode = (icrLow >>> 8) & 7;
        if (mode != 5 && mode != 6) return false;
        for (int i = 0; i < cpus; i++) {
            // the hardware's destination rules: physical, broadcast, logical, shorthands
            boolean target = ApicBus.reaches(v.cpu.apic(), vcpus[i].cpu.apic(), icrLow, dest & 0xFFFFFFFFL);
            if (!target || i == v.cpu.index()) continue;
            if (mode == 5) {
                if ((icrLow & (1 << 14)) != 0 || ((icrLow >>> 15) & 1) == 0) initSeen[i].set(v.cpu, 1); // INIT assert (or edge)
            } else if (initSeen[i].get(v.cpu) == 1 && sipiVector[i].get(v.cpu) < 0) {
                sipiVector[i].set(v.cpu, icrLow & 0xFF); // the first SIPI after INIT starts the AP; later ones are ignored
            }
        }
        return true;
    }

    /** An AP waits in XMHF for its guest's SIPI; returns the vector. */
    public int waitForSipi(Vcpu v) {
        SharedLong s = sipiVector[v.cpu.index()];
        v.cpu.spinUntil(() -> s.peek() >= 0, "the guest's SIPI (AP not started)");
        return (int) s.get(v.cpu);
    }
}
