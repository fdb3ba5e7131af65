package org.hvlab.xmhf.eventhub;

import static org.hvlab.machine.vmx.VmcsFields.*;
import static org.hvlab.machine.vmx.VmxControls.*;
import static org.hvlab.xmhf.baseplatform.Fields.*;

import org.hvlab.machine.RunEnding;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.cpu.Cpuid;
import org.hvlab.machine.host.HostCpu;
import org.hvlab.machine.host.HostFault;
import org.hvlab.machine.host.VmEntryResult;
import org.hvlab.machine.vmx.ExitReason;
import org.hvlab.machine.vmx.VmcsField;
import org.hvlab.machine.vmx.VmcsFields;
import org.hvlab.xmhf.XmhfOptions;
import org.hvlab.xmhf.hypapp.Hypapp;
import org.hvlab.xmhf.memprot.Ept01;
import org.hvlab.xmhf.memprot.Mtrrs;
import org.hvlab.xmhf.partition.VmcsSetup;
import org.hvlab.xmhf.runtime.Vcpu;
import org.hvlab.xmhf.smpguest.SmpGuest;

/**
 * eventhub (docs/xmhf-facts.md): the intercept handler, one dispatch on the exit reason. Order on
 * every exit: NMI handling disabled (deferred NMIs); for an NMI exit the hand-built IRET
 * (host NMIs stay blocked after it otherwise, bug 018); get the VMCS copy; the NMI check
 * before anything that could print or quiesce; the handler; put the copy; re-enable NMI
 * handling, draining the NMIs that came meanwhile (on the hardware VMCS).
 */
public final class InterceptHandler {
    private final XmhfOptions options;
    private final SmpGuest smp;
    private final Ept01 ept;
    private final Mtrrs mtrrs;
    private final Hypapp hypapp;
    private final Hypapp.Xmhf xmhf;
    /** Retired-instruction count when the intercepted xAPIC write began its single step, per CPU. */
    private final long[] apicWriteInstructions;
    private final long[] savedProc;

    private final org.hvlab.xmhf.runtime.HypervisorMemory memory;

    public InterceptHandler(XmhfOptions options, SmpGuest smp, Ept01 ept, Mtrrs mtrrs, Hypapp hypapp, Hypapp.Xmhf xmhf,
            org.hvlab.xmhf.runtime.HypervisorMemory memory, int cpus) {
        this.memory = memory;
        this.options = options;
        this.smp = smp;
        this.ept = ept;
        this.mtrrs = mtrrs;
        this.hypapp = hypapp;
        this.xmhf = xmhf;
        this.apicWriteInstructions = new long[cpus];
        this.savedProc = new long[cpus];
    }

    /** Handles one VM exit of {@code v}'s guest; returns with the VMCS ready for VMRESUME. */
    public void handle(Vcpu v, VmEntryResult exit) {
        HostCpu c = v.cpu;
        v.exits++;
        smp.disableNmiHandling(v); // first: nothing may print before the NMI check with handling enabled
        if (exit.failedEntry()) {
            dumpVmcs(v);
            throw v.halt(String.format("VM-entry failure: exit reason 0x%08x, qualification 0x%x; HALT", exit.exitReason(), exit.qualification()),
                    new RunEnding.HaltCause.EntryFailure(exit.exitReason(), exit.qualification()));
        }
        int reason = exit.basicReason();
        v.exitReason = reason;
        // the NMI check comes first, with a direct VMREAD (nothing may print or quiesce before it)
        boolean nmiExit = reason == ExitReason.EXCEPTION_OR_NMI.code && c.vmread(EXIT_INTERRUPTION_INFO) == NMI_INFO;
        if (nmiExit && options.iretAfterNmiExit()) c.iret();
        v.vmcs.get(c);
        reinjectInterruptedEvent(v);
        if (nmiExit) smp.handleNmi(v);
        else dispatch(v, reason);
        // seed 000's XMHF (no virtual NMIs) cleared the guest's interruptibility on every entry:
        // a guest inside its NMI handler is NMI-unblocked again after any exit
        if (!options.virtualNmis()) v.vmcs.write(GUEST_INTERRUPTIBILITY, v.vmcs.read(GUEST_INTERRUPTIBILITY) & ~8L);
        // put first, then re-enable: an NMI handled after the put writes the hardware VMCS (the
        // copy is no longer valid); one handled before the put could edit the copy after put
        // took its snapshot, and its NMI-window bit would be lost
        v.vmcs.put(c);
        smp.enableNmiHandling(v);
        v.exitReason = -1;
    }

    /**
     * An exit during event delivery (IDT-vectoring information valid, SDM Vol.3C 27.2.3) lost
     * the event; it is injected again with its error code and instruction length.
     */
    private void reinjectInterruptedEvent(Vcpu v) {
        long idt = v.vmcs.read(IDT_VECTORING_INFO);
        if ((idt & 0x80000000L) == 0) return;
        v.vmcs.write(ENTRY_INTERRUPTION_INFO, idt & ~0x1000L);
        v.vmcs.write(ENTRY_EXCEPTION_ERROR_CODE, v.vmcs.read(IDT_VECTORING_ERROR_CODE));
        v.vmcs.write(ENTRY_INSTRUCTION_LENGTH, v.vmcs.read(EXIT_INSTRUCTION_LENGTH));
    }

    private void dispatch(Vcpu v, int reason) {
        ExitReason r = ExitReason.of(reason);
        if (r == null) throw halt(v, "unhandled intercept, exit reason " + reason);
        switch (r) {
            case EXCEPTION_OR_NMI -> exception(v);
            case NMI_WINDOW -> smp.nmiWindow(v);
            case CPUID -> cpuid(v);
            case INVD -> skip(v);
            case VMCALL -> {
                if (!hypapp.onHypercall(xmhf, v)) injectUd(v);
            }
            case CR_ACCESS -> crAccess(v);
            case RDMSR -> rdmsr(v);
            case WRMSR -> wrmsr(v);
            case EPT_VIOLATION -> eptViolation(v);
            case MONITOR_TRAP_FLAG -> apicWriteDone(v);
            // VMX instructions: #UD until nested VMX exists
            case VMCLEAR, VMLAUNCH, VMPTRLD, VMPTRST, VMREAD, VMRESUME, VMWRITE, VMXOFF, VMXON, INVEPT, INVVPID -> injectUd(v);
            case TRIPLE_FAULT -> throw halt(v, "guest triple fault");
            case INIT_SIGNAL -> throw halt(v, "INIT signal in the guest");
            default -> throw halt(v, "unhandled intercept, exit reason " + reason + " (" + r.sdmName + ")");
        }
    }

    private RuntimeException halt(Vcpu v, String why) {
        return halt(v, why, RunEnding.HaltCause.STATED);
    }

    private RuntimeException halt(Vcpu v, String why, RunEnding.HaltCause cause) {
        smp.printf(v, v.prefix() + why + String.format(" at guest RIP 0x%x\n", v.vmcs.read(GUEST_RIP)));
        return v.halt(why + "; HALT", cause);
    }

    private static void skip(Vcpu v) {
        v.vmcs.write(GUEST_RIP, v.vmcs.read(GUEST_RIP) + v.vmcs.read(EXIT_INSTRUCTION_LENGTH));
        // the skipped instruction ends any STI/MOV-SS blocking it was under (SDM Vol.3C 24.4.2)
        v.vmcs.write(GUEST_INTERRUPTIBILITY, v.vmcs.read(GUEST_INTERRUPTIBILITY) & ~3L);
    }

    private static void injectUd(Vcpu v) {
        v.vmcs.write(ENTRY_INTERRUPTION_INFO, 0x80000306L);
    }

    private static void injectGp(Vcpu v) {
        v.vmcs.write(ENTRY_INTERRUPTION_INFO, 0x80000B0DL);
        v.vmcs.write(ENTRY_EXCEPTION_ERROR_CODE, 0);
    }

    // ---- exceptions

    /**
     * An exception exit goes to the hypapp; if it does not handle it, XMHF prints its
     * VMEXIT-EXCEPTION report (the seeds' lines) and halts.
     */
    private void exception(Vcpu v) {
        long info = v.vmcs.read(EXIT_INTERRUPTION_INFO), err = v.vmcs.read(EXIT_INTERRUPTION_ERROR_CODE);
        if (hypapp.onException(xmhf, v, info, err)) return;
        StringBuilder sb = new StringBuilder();
        sb.append(v.prefix()).append("VMEXIT-EXCEPTION:\n");
        sb.append(String.format("control_exception_bitmap=0x%08x\n", v.vmcs.read(EXCEPTION_BITMAP)));
        sb.append(String.format("interruption information=0x%08x\n", info));
        sb.append(String.format("errorcode=0x%08x\n", err));
        sb.append(String.format("\t%sRFLAGS=0x%016x\n", v.prefix(), v.vmcs.read(GUEST_RFLAGS)));
        sb.append(String.format("\tSS:RSP =0x%04x:0x%016x\n", v.vmcs.read(GUEST_SS_SELECTOR), v.vmcs.read(GUEST_RSP)));
        sb.append(String.format("\tCS:RIP =0x%04x:0x%016x\n", v.vmcs.read(GUEST_CS_SELECTOR), v.vmcs.read(GUEST_RIP)));
        sb.append(String.format("\tIDTR base:limit=0x%016x:0x%04x\n", v.vmcs.read(GUEST_IDTR_BASE), v.vmcs.read(GUEST_IDTR_LIMIT)));
        sb.append(String.format("\tGDTR base:limit=0x%016x:0x%04x\n", v.vmcs.read(GUEST_GDTR_BASE), v.vmcs.read(GUEST_GDTR_LIMIT)));
        // the exception interrupted the delivery of another event (SDM Vol.3C 27.2.3): XMHF
        // cannot deliver both and says which one it could not
        long idt = v.vmcs.read(IDT_VECTORING_INFO);
        String nested = (idt & 0x80000000L) != 0 ? String.format("%sHALT; Nested events unhandled 0x%08x\n", v.prefix(), idt) : "";
        smp.printf(v, sb + nested);
        throw v.halt(String.format("VMEXIT-EXCEPTION, interruption information 0x%08x%s; HALT", info,
                nested.isEmpty() ? "" : String.format(", nested events unhandled 0x%08x", idt)),
                new RunEnding.HaltCause.UnhandledException(info, nested.isEmpty() ? -1 : idt));
    }

    // ---- CPUID

    /** CPUID as the CPU answers it, with VMX hidden (no nested VMX yet) and "hypervisor present" (ECX bit 31). */
    private void cpuid(Vcpu v) {
        Cpu cpu = v.cpu.cpu();
        int leaf = (int) cpu.r[Cpu.RAX], sub = (int) cpu.r[Cpu.RCX];
        int[] r = Cpuid.query(cpu, leaf, sub);
        if (leaf == 1) r[2] = (r[2] & ~(1 << 5)) | (1 << 31);
        cpu.r[Cpu.RAX] = r[0] & 0xFFFFFFFFL;
        cpu.r[Cpu.RBX] = r[1] & 0xFFFFFFFFL;
        cpu.r[Cpu.RCX] = r[2] & 0xFFFFFFFFL;
        cpu.r[Cpu.RDX] = r[3] & 0xFFFFFFFFL;
        skip(v);
    }

    // ---- control registers

    /**
     * MOV to CR0/CR4 that changed a bit XMHF owns (CR0.NE, CR4.VMXE): the guest gets its value
     * in the read shadow; the real register keeps the owned bits. A CR0.PG change is done here
     * with its side effects on EFER.LMA and the IA-32e mode guest control (SDM Vol.3A 9.8.5).
     */
    private void crAccess(Vcpu v) {
        long q = v.vmcs.read(EXIT_QUALIFICATION);
        int cr = (int) q & 15, type = (int) (q >>> 4) & 3, gpr = (int) (q >>> 8) & 15;
        Cpu cpu = v.cpu.cpu();
        long value;
        switch (type) {
            case 0 -> value = gpr == Cpu.RSP ? v.vmcs.read(GUEST_RSP) : cpu.r[gpr];
            case 2 -> value = v.vmcs.read(CR0_READ_SHADOW) & ~8L; // CLTS
            case 3 -> { // LMSW: bits 3:0, and it never clears PE
                long shadow = v.vmcs.read(CR0_READ_SHADOW), src = (q >>> 16) & 0xF;
                value = (shadow & ~0xEL) | src | (shadow & 1);
            }
            default -> throw halt(v, "unexpected CR access, qualification 0x" + Long.toHexString(q));
        }
        if (cr == 0 || type >= 2) {
            if (!cr0Allowed(v, value)) {
                injectGp(v);
                return;
            }
            writeCr0(v, value);
        } else if (cr == 4) {
            // CR4 bits the CPU does not have, and VMXE (VMX is hidden), are #GP as on the
            // processor the guest sees; clearing PAE in IA-32e mode too (SDM Vol.2 MOV CR)
            boolean lma = (v.vmcs.read(ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST) != 0;
            if ((value & ~GUEST_CR4_BITS) != 0 || (lma && (value & Cpu.CR4_PAE) == 0)) {
                injectGp(v);
                return;
            }
            boolean pagingBits = ((value ^ v.vmcs.read(CR4_READ_SHADOW)) & (Cpu.CR4_PAE | Cpu.CR4_PGE | Cpu.CR4_PSE)) != 0;
            v.vmcs.write(GUEST_CR4, value | 0x2000);
            v.vmcs.write(CR4_READ_SHADOW, value);
            if (pagingBits) flushGuestTlb(v);
        } else {
            throw halt(v, "unexpected CR access, qualification 0x" + Long.toHexString(q));
        }
        skip(v);
    }

    /** CR4 bits a guest may set under XMHF: what the CPU supports (SystemOps.CR4_SUPPORTED), without VMXE. */
    private static final long GUEST_CR4_BITS = Cpu.CR4_TSD | Cpu.CR4_PSE | Cpu.CR4_PAE | Cpu.CR4_PGE | Cpu.CR4_PCE;

    /** The MOV-to-CR0 #GP conditions the emulation must keep (SDM Vol.2 MOV CR, Vol.3A 9.8.5). */
    private boolean cr0Allowed(Vcpu v, long value) {
        if ((value >>> 32) != 0) return false;
        if ((value & Cpu.CR0_PG) != 0 && (value & Cpu.CR0_PE) == 0) return false;
        if ((value & Cpu.CR0_NW) != 0 && (value & Cpu.CR0_CD) == 0) return false;
        boolean cs64 = (v.vmcs.read(GUEST_CS_ACCESS_RIGHTS) & (1 << 13)) != 0
                && (v.vmcs.read(ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST) != 0;
        if ((value & Cpu.CR0_PG) == 0 && cs64) return false; // paging off from 64-bit code
        boolean pgOn = (value & Cpu.CR0_PG) != 0 && (v.vmcs.read(GUEST_CR0) & Cpu.CR0_PG) == 0;
        // entering IA-32e mode needs PAE (SDM Vol.3A 9.8.5)
        return !(pgOn && (guestEfer(v) & Cpu.EFER_LME) != 0 && (v.vmcs.read(CR4_READ_SHADOW) & Cpu.CR4_PAE) == 0);
    }

    /** An emulated paging change: the guest's VPID-tagged translations go (INVVPID single-context, SDM 28.3.3.3). */
    private static void flushGuestTlb(Vcpu v) {
        v.cpu.invvpid(1, (int) v.cpu.vmread(VPID), 0);
    }

    private void writeCr0(Vcpu v, long value) {
        long old = v.vmcs.read(GUEST_CR0);
        long efer = guestEfer(v);
        boolean pgOn = (value & Cpu.CR0_PG) != 0 && (old & Cpu.CR0_PG) == 0;
        boolean pgOff = (value & Cpu.CR0_PG) == 0 && (old & Cpu.CR0_PG) != 0;
        long entry = v.vmcs.read(ENTRY_CONTROLS);
        if (pgOn && (efer & Cpu.EFER_LME) != 0) {
            setGuestEfer(v, efer | Cpu.EFER_LMA);
            v.vmcs.write(ENTRY_CONTROLS, entry | ENTRY_IA32E_MODE_GUEST);
        } else if (pgOff && (efer & Cpu.EFER_LMA) != 0) {
            setGuestEfer(v, efer & ~Cpu.EFER_LMA);
            v.vmcs.write(ENTRY_CONTROLS, entry & ~ENTRY_IA32E_MODE_GUEST);
        }
        v.vmcs.write(GUEST_CR0, value | 0x20);
        v.vmcs.write(CR0_READ_SHADOW, value);
        if (pgOn || pgOff || ((value ^ old) & Cpu.CR0_WP) != 0) flushGuestTlb(v);
    }

    /** The guest's EFER lives in its MSR area between exits (stored on exit, loaded on entry). */
    private long guestEfer(Vcpu v) {
        return v.cpu.read64(xmhfGuestMsrArea(v) + 8);
    }

    private void setGuestEfer(Vcpu v, long efer) {
        v.cpu.write64(xmhfGuestMsrArea(v) + 8, efer);
    }

    private long xmhfGuestMsrArea(Vcpu v) {
        return v.cpu.vmread(ENTRY_MSR_LOAD_ADDRESS);
    }

    // ---- MSRs

    private void rdmsr(Vcpu v) {
        Cpu cpu = v.cpu.cpu();
        int msr = (int) cpu.r[Cpu.RCX];
        if (!Mtrrs.isMtrr(msr)) {
            injectGp(v);
            return;
        }
        long val = mtrrs.read(msr);
        cpu.r[Cpu.RAX] = val & 0xFFFFFFFFL;
        cpu.r[Cpu.RDX] = val >>> 32;
        skip(v);
    }

    /**
     * WRMSR: the x2APIC ICR (INIT/SIPI interception) and the MTRRs, whose write changes EPT
     * memory types on every CPU — so it quiesces them all (docs/xmhf-facts.md "memprot").
     */
    private void wrmsr(Vcpu v) {
        Cpu cpu = v.cpu.cpu();
        int msr = (int) cpu.r[Cpu.RCX];
        long val = (cpu.r[Cpu.RDX] << 32) | (cpu.r[Cpu.RAX] & 0xFFFFFFFFL);
        if (msr == VmcsSetup.X2APIC_ICR) {
            // only an x2APIC has this MSR (#GP otherwise, from the hardware below)
            if (!v.cpu.apic().x2apic() || !smp.interceptIcr(v, (int) val, (int) (val >>> 32))) {
                try {
                    v.cpu.wrmsr(msr, val);
                } catch (HostFault e) {
                    injectGp(v);
                    return;
                }
            }
            skip(v);
            return;
        }
        if (!Mtrrs.isMtrr(msr)) {
            injectGp(v);
            return;
        }
        try {
            v.cpu.wrmsr(msr, val); // the CPU's own checks decide whether the value is legal (#GP otherwise)
        } catch (HostFault e) {
            injectGp(v);
            return;
        }
        smp.quiesce(v);
        mtrrs.write(msr, val);
        ept.applyMemoryTypes(v.cpu, mtrrs);
        smp.markEptChanged(v);
        smp.endQuiesce(v);
        v.cpu.invept(1, v.cpu.vmread(EPT_POINTER));
        skip(v);
    }

    // ---- EPT violations: the xAPIC page, then the hypapp, then a halt

    private void eptViolation(Vcpu v) {
        long gpa = v.vmcs.read(GUEST_PHYSICAL_ADDRESS), q = v.vmcs.read(EXIT_QUALIFICATION);
        if (Ept01.isApicPage(gpa) && (q & 2) != 0) {
            apicWrite(v, (int) (gpa & 0xFFF));
            return;
        }
        // bug 022: XMHF64 once handed the hypapp a 32-bit guest-physical address
        if (hypapp.onEptViolation(xmhf, v, options.eptViolationGpa32() ? gpa & 0xFFFFFFFFL : gpa, q)) return;
        throw halt(v, String.format("EPT violation: guest-physical address 0x%x, qualification 0x%x (memory the guest does not own)", gpa, q),
                new RunEnding.HaltCause.HostMemoryAccess(gpa, q));
    }

    /**
     * A guest write to its xAPIC page: single-step the writing instruction with MTF against a
     * shadow page, under MOV-SS blocking so no event is delivered first, then look at the value.
     */
    private void apicWrite(Vcpu v, int offset) {
        int cpu = v.cpu.index();
        // an event being (re)injected comes first; the write exits again once the guest gets back to it
        if ((v.vmcs.read(ENTRY_INTERRUPTION_INFO) & 0x80000000L) != 0) return;
        v.apicWriteOffset = offset;
        apicWriteInstructions[cpu] = v.cpu.cpu().instructions; // the write retired iff exactly one more instruction did
        ept.apicShadow(v.cpu, cpu);
        v.cpu.invept(1, v.cpu.vmread(EPT_POINTER));
        long proc = v.vmcs.read(PROC_BASED_CONTROLS);
        savedProc[cpu] = proc;
        v.vmcs.write(PROC_BASED_CONTROLS, (proc | PROC_MONITOR_TRAP_FLAG) & ~PROC_NMI_WINDOW);
        long intr = v.vmcs.read(GUEST_INTERRUPTIBILITY);
        if ((intr & 1) == 0) v.vmcs.write(GUEST_INTERRUPTIBILITY, intr | 2);
    }

    /** The MTF exit after the xAPIC write: read it from the shadow page, restore, act. */
    private void apicWriteDone(Vcpu v) {
        int cpu = v.cpu.index(), offset = v.apicWriteOffset;
        if (offset < 0) throw halt(v, "unexpected monitor trap flag exit");
        v.apicWriteOffset = -1;
        int value = v.cpu.read32(xmhfApicShadow(v) + offset);
        ept.apicReadOnly(v.cpu, cpu);
        v.cpu.invept(1, v.cpu.vmread(EPT_POINTER));
        long proc = v.vmcs.read(PROC_BASED_CONTROLS) & ~PROC_MONITOR_TRAP_FLAG;
        v.vmcs.write(PROC_BASED_CONTROLS, proc | (savedProc[cpu] & PROC_NMI_WINDOW));
        // the single step retired one instruction, the write; none if it faulted (then it exits again)
        if (v.cpu.cpu().instructions != apicWriteInstructions[cpu] + 1) return;
        var apic = v.cpu.apic();
        if (offset == 0x300) {
            int dest = (int) (apic.mmioRead(0xFEE00310L, 4) >>> 24);
            if (smp.interceptIcr(v, value, dest)) return;
        }
        apic.mmioWrite(0xFEE00000L + offset, 4, value & 0xFFFFFFFFL);
    }

    private long xmhfApicShadow(Vcpu v) {
        return memory.apicShadow(v.cpu.index());
    }

    // ---- VMCS dump (the seeds' format)

    /** Prints every VMCS field as {@code CPU(0x00): (0x4002) VMENTRY01control_VMX_cpu_based = 0x86006172}. */
    public void dumpVmcs(Vcpu v) {
        StringBuilder sb = new StringBuilder();
        int max = v.cpu.cpu().profile.maxFieldIndex();
        for (VmcsField f : VmcsFields.all()) {
            if (f.index() > max) continue;
            var r = v.cpu.vmreadResult(f.encoding());
            if (!r.succeeded()) continue;
            long val = v.cpu.lastRead();
            String fmt = f.width() == VmcsField.WIDTH_64 || f.width() == VmcsField.WIDTH_NATURAL ? "0x%016x" : "0x%08x";
            sb.append(String.format("%s(0x%04x) VMENTRY01%s = " + fmt + "\n", v.prefix(), f.encoding(), org.hvlab.xmhf.baseplatform.XmhfFieldNames.of(f), val));
        }
        smp.printf(v, sb.toString());
    }
}
