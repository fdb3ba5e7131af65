package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.hvlab.machine.cpu.LazyFlags.*;

import org.hvlab.machine.events.MachineEvent;
import org.hvlab.machine.vmx.EntryCheckFailure;
import org.hvlab.machine.vmx.ExitReason;
import org.hvlab.machine.vmx.GuestStateChecks;
import org.hvlab.machine.vmx.VmEntryChecks;
import org.hvlab.machine.vmx.VmInstructionError;
import org.hvlab.machine.vmx.CpuProfile;
import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmcsField;
import org.hvlab.machine.vmx.VmcsFields;
import org.hvlab.machine.vmx.VmxState;

/**
 * The VMX instructions in VMX root operation and outside it (SDM Vol.3C 30.3): their #UD/#GP
 * conditions and VMsucceed / VMfailInvalid / VMfailValid(error) results. VMLAUNCH/VMRESUME
 * run the checks that end in VMfail; guest-state checks and the entry itself are not
 * implemented yet and raise #UD.
 */
final class VmxOps {
    private final Cpu c;
    private final Interpreter it;

    VmxOps(Cpu c, Interpreter it) {
        this.c = c;
        this.it = it;
    }

    void exec(Insn in) {
        VmxState v = c.vmx;
        int sub = in.sub;
        boolean vmxon = sub == 0x0FC706 && (in.prefixes & Insn.P_REP) != 0;
        if (vmxon) {
            vmxon(in);
            return;
        }
        // common checks of every other VMX instruction (SDM 30.3 "Operation")
        if (!v.inVmxOperation) throw CpuFault.ud();
        if (v.nonRoot && (c.cr0 & Cpu.CR0_PE) != 0 && (sub == 0x0F78 || sub == 0x0F79) && shadowed(in)) {
            shadowAccess(in);
            return;
        }
        if (v.nonRoot) { VmExits.exit(c, exitReason(sub, in), 0, in.len); return; }
        if ((c.cr0 & Cpu.CR0_PE) == 0 || (c.fl.bits & VM) != 0 || (c.longModeActive() && !c.m64)) throw CpuFault.ud();
        if (c.cpl > 0) throw CpuFault.gp0();
        switch (sub) {
            case 0xC1 -> vmfail(VmInstructionError.VMCALL_IN_ROOT); // VMCALL in root operation without dual-monitor treatment
            case 0xC4 -> { v.leave(); c.kick(); vmsucceed(); } // VMXOFF: a held INIT may now be taken
            case 0x0FC706 -> {
                if ((in.prefixes & Insn.P_OSIZE) != 0) vmclear(in);
                else vmptrld(in);
            }
            case 0x0FC707 -> { // VMPTRST
                c.write(in.seg, it.ea(in), 8, v.currentPointer());
                vmsucceed();
            }
            case 0xC2 -> vmentry(true, true);  // VMLAUNCH
            case 0xC3 -> vmentry(false, true); // VMRESUME
            case 0x0F78 -> vmread(in);
            case 0x0F79 -> vmwrite(in);
            case 0x0F3880 -> invept(in);
            case 0x0F3881 -> invvpid(in);
            default -> throw CpuFault.ud();
        }
    }

    /**
     * VMLAUNCH/VMRESUME in the SDM's order (26.1, 26.2): no current VMCS, MOV-SS blocking (26),
     * launch state (4, 5), control fields (7), host state (8); then the guest-state checks,
     * whose failure is a failed entry (exit reason 0x80000021). The entry itself is not
     * modelled yet: an entry that passes all of these raises #UD.
     */
    /**
     * {@code byInstruction}: the entry is an x86 VMLAUNCH/VMRESUME, which retires after it; a
     * Java host enters without an instruction.
     */
    void vmentry(boolean launch, boolean byInstruction) {
        Vmcs v = c.vmx.current;
        c.vmx.lastEntryFailure = null;
        if (v == null) { vmfailInvalid(); return; }
        if ((c.blockingAtStart & Cpu.BLOCK_MOVSS) != 0) { vmfail(VmInstructionError.ENTRY_EVENTS_BLOCKED_BY_MOV_SS); return; }
        if (launch && v.launched) { vmfail(VmInstructionError.VMLAUNCH_NONCLEAR_VMCS); return; }
        if (!launch && !v.launched) { vmfail(VmInstructionError.VMRESUME_NONLAUNCHED_VMCS); return; }
        int width = c.profile.vmxAddresses32() ? 32 : Cpuid.MAXPHYADDR;
        EntryCheckFailure f = VmEntryChecks.controls(v, c.profile, width);
        if (f == null) f = VmEntryChecks.hostState(v, c.profile, width, c.longModeActive());
        if (f != null) { entryFailed(f); vmfail(f.error()); return; }
        f = GuestStateChecks.check(v, c.profile, width);
        long link = v.get(VMCS_LINK_POINTER);
        if (f == null && link != -1L) {
            // the VMCS the link pointer names: our revision, shadow bit = "VMCS shadowing" (26.3.1.5)
            int rev = c.mem.read32(link);
            long proc = v.get(PROC_BASED_CONTROLS);
            boolean shadowing = (proc & VmxControls.PROC_ACTIVATE_SECONDARY) != 0 && (v.get(PROC_BASED_CONTROLS2) & VmxControls.PROC2_VMCS_SHADOWING) != 0;
            if ((rev & 0x7FFFFFFF) != c.profile.vmcsRevision() || (rev < 0) != shadowing) {
                f = EntryCheckFailure.guest(GuestStateChecks.QUAL_LINK_POINTER, "26.3.1.5",
                        "the VMCS the link pointer names has another revision identifier or a shadow-VMCS indicator other than VMCS shadowing");
            }
        }
        if (f == null && !pdptesValid(v)) f = EntryCheckFailure.guest(GuestStateChecks.QUAL_PDPTE, "26.3.1.6", "a guest PDPTE with reserved bits set (PAE paging)");
        if (f != null) {
            entryFailed(f);
            VmExits.failedEntry(c, v, f.exitReason(), f.qualification());
            return;
        }
        long info = v.get(ENTRY_INTERRUPTION_INFO);
        c.vmx.cacheControls(v);
        VmEntry.loadGuestState(c, v);
        // 26.4: the VM-entry MSR-load list, in order, after guest state is loaded (so an EFER
        // entry sees the guest's EFER.LMA); a failing entry leaves the earlier ones loaded
        long count = v.get(ENTRY_MSR_LOAD_COUNT), addr = v.get(ENTRY_MSR_LOAD_ADDRESS);
        for (long i = 0; i < count; i++) {
            long ent = addr + 16 * i;
            if (!VmExits.msrListEntryLoads(c, c.mem.read32(ent), c.mem.read32(ent + 4), c.mem.read64(ent + 8), i)) {
                entryFailed(EntryCheckFailure.msrLoading(i + 1, String.format("VM-entry MSR-load list entry %d (MSR 0x%x) cannot be loaded", i + 1, c.mem.read32(ent))));
                VmExits.failedEntry(c, v, ExitReason.ENTRY_FAILURE_MSR_LOADING.code, i + 1);
                return;
            }
        }
        enterTlbContext();
        if (launch) v.launched = true;
        c.vmx.nonRoot = true;
        if (c.bus.wants(MachineEvent.Kind.VM_ENTRY)) c.bus.publish(new MachineEvent.VmEntered(c.index, c.nrip));
        c.kick(); // window exits are checked before the first guest instruction
        // the VMX-preemption timer starts counting down from its field and decrements every time
        // bit X of the TSC changes (SDM 25.5.1): the first decrement comes when the TSC reaches the
        // next multiple of 2^X, not 2^X ticks after entry. The TSC at entry counts the VMLAUNCH/
        // VMRESUME, which retires with the entry (one tick per retired instruction).
        if ((c.vmx.pin & VmxControls.PIN_PREEMPTION_TIMER) != 0) {
            int x = VmExits.preemptionRate(c);
            long tscAtEntry = c.tsc() + 1;
            c.vmx.preemptionDeadline = c.instructions + 1 + ((v.get(VMX_PREEMPTION_TIMER_VALUE) & 0xFFFFFFFFL) << x)
                    - (tscAtEntry & ((1L << x) - 1));
        } else {
            c.vmx.preemptionDeadline = -1;
        }
        boolean mtf = (c.vmx.proc & VmxControls.PROC_MONITOR_TRAP_FLAG) != 0;
        // VMLAUNCH/VMRESUME itself retires (instructions + 1) after this entry; it is not a guest instruction
        c.vmx.mtfMark = c.instructions + (byInstruction ? 1 : 0) + c.deliveries;
        if ((info & 0x80000000L) != 0 && ((info >>> 8) & 7) == 7) {
            c.vmx.mtfPending = true; // injecting a pending MTF VM exit: it happens before any instruction (26.5.2)
        } else if ((info & 0x80000000L) != 0) {
            inject(v, info);
            // "monitor trap flag" with a vectored event injected: MTF exit before the handler's first instruction (25.5.2)
            if (mtf && c.vmx.nonRoot) c.vmx.mtfPending = true;
        }
    }

    /**
     * SDM Vol.3C 26.3.1.6: a guest using PAE paging (CR0.PG = CR4.PAE = 1, not IA-32e mode)
     * needs PDPTEs without reserved bits: read through guest CR3 without EPT, taken from the
     * VMCS PDPTE fields with EPT. Failure is a failed entry with qualification 2.
     */
    private boolean pdptesValid(Vmcs v) {
        long cr0 = v.get(GUEST_CR0), cr4 = v.get(GUEST_CR4);
        boolean ia32e = (v.get(ENTRY_CONTROLS) & VmxControls.ENTRY_IA32E_MODE_GUEST) != 0;
        if ((cr0 & Cpu.CR0_PG) == 0 || (cr4 & Cpu.CR4_PAE) == 0 || ia32e) return true;
        long proc = v.get(PROC_BASED_CONTROLS);
        boolean ept = (proc & VmxControls.PROC_ACTIVATE_SECONDARY) != 0
                && (v.get(PROC_BASED_CONTROLS2) & VmxControls.PROC2_EPT) != 0;
        long rsvd = (((1L << 52) - 1) & ~((1L << Cpuid.MAXPHYADDR) - 1)) | 0xFFF0_0000_0000_0000L | 0x1E6;
        for (int i = 0; i < 4; i++) {
            long pdpte = ept ? v.get(GUEST_PDPTE0 + 2 * i) : c.mem.read64((v.get(GUEST_CR3) & 0xFFFFFFE0L) + 8L * i);
            if ((pdpte & 1) != 0 && (pdpte & rsvd) != 0) return false;
        }
        return true;
    }

    /**
     * The TLB set the guest uses (SDM Vol.3C 28.3.3.1): without VPID the guest shares VPID 0
     * with the host and the entry invalidates VPID 0's mappings; with VPID it uses its own
     * set, kept across exits and entries until INVVPID/INVEPT.
     */
    private void enterTlbContext() {
        long ep4ta = c.vmx.ept ? Ept.ep4ta(c.vmx.eptp) : -1;
        if (!c.vmx.vpidEnabled) c.tlbs.invalidateVpid0();
        c.tlbs.switchTo(c.vmx.vpid, ep4ta);
        c.tlbSwitched();
    }

    /** 26.5: deliver the injected event now; an NMI sets (virtual-)NMI blocking as a real NMI delivery would. */
    private void inject(Vmcs v, long info) {
        int vector = (int) info & 0xFF, type = (int) (info >>> 8) & 7;
        if (type == Interrupts.NMI) {
            if ((v.get(PIN_BASED_CONTROLS) & VmxControls.PIN_VIRTUAL_NMIS) != 0) c.vmx.virtualNmiBlocked = true;
            else c.nmiBlocked = true;
        }
        c.rip = c.nrip;
        c.shadow = 0; // the injected event is delivered; blocking by STI/MOV SS does not survive it
        c.ints.deliverInjected(vector, type, (info & 0x800) != 0, (int) v.get(ENTRY_EXCEPTION_ERROR_CODE), c.rip, v.get(ENTRY_INSTRUCTION_LENGTH));
        c.nrip = c.rip;
    }

    /**
     * INVEPT (SDM Vol.3C 30.3): type 1 single-context needs a valid EPTP, type 2 all-context;
     * unsupported types fail with error 28. Invalidates the guest-physical mappings (Ept) and the
     * combined mappings (TlbContexts) the type names.
     */
    private void invept(Insn in) {
        if (!in.mem) throw CpuFault.ud();
        long type = c.reg(in.reg, in.osz);
        long cap = c.profile.vmx(CpuProfile.IA32_VMX_EPT_VPID_CAP);
        long a = it.ea(in);
        long eptp = c.read(in.seg, a, 8);
        c.read(in.seg, (a + 8) & Interpreter.mask(in.asz), 8);
        invept(type, eptp);
    }

    /** INVEPT with its register and descriptor operands read (the host API enters here too). */
    void invept(long type, long eptp) {
        long cap = c.profile.vmx(CpuProfile.IA32_VMX_EPT_VPID_CAP);
        boolean supported = (type == 1 && (cap & (1L << 25)) != 0) || (type == 2 && (cap & (1L << 26)) != 0);
        if (!supported) { vmfail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND); return; }
        int width = c.profile.vmxAddresses32() ? 32 : Cpuid.MAXPHYADDR;
        if (type == 1 && !VmEntryChecks.eptpValid(eptp, c.profile, width)) { vmfail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND); return; }
        // guest-physical and combined mappings of the EP4TA, or of all (28.3.3.1)
        if (type == 1) {
            c.ept.invalidate(Ept.ep4ta(eptp));
            c.tlbs.invalidateEp4ta(Ept.ep4ta(eptp));
        } else {
            c.ept.invalidateAll();
            c.tlbs.invalidateAllEpt();
        }
        vmsucceed();
    }

    /** INVVPID: types 0-3 as IA32_VMX_EPT_VPID_CAP bits 43:40 allow; VPID 0 and reserved bits fail with error 28. */
    private void invvpid(Insn in) {
        if (!in.mem) throw CpuFault.ud();
        long type = c.reg(in.reg, in.osz);
        long cap = c.profile.vmx(CpuProfile.IA32_VMX_EPT_VPID_CAP);
        long a = it.ea(in);
        long lo = c.read(in.seg, a, 8);
        long linear = c.read(in.seg, (a + 8) & Interpreter.mask(in.asz), 8);
        invvpid(type, lo, linear);
    }

    /** INVVPID with its operands read: {@code lo} is the descriptor's first quadword (VPID in bits 15:0). */
    void invvpid(long type, long lo, long linear) {
        long cap = c.profile.vmx(CpuProfile.IA32_VMX_EPT_VPID_CAP);
        if (type > 3 || (cap & (1L << (40 + type))) == 0) { vmfail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND); return; }
        if ((lo >>> 16) != 0) { vmfail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND); return; }
        if (type != 2 && (lo & 0xFFFF) == 0) { vmfail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND); return; }
        if (type == 0 && !Cpu.canonical(linear)) { vmfail(VmInstructionError.INVALID_INVEPT_INVVPID_OPERAND); return; }
        int vpid = (int) lo & 0xFFFF;
        switch ((int) type) {
            case 0 -> c.tlbs.invalidateAddress(vpid, linear);
            case 2 -> c.tlbs.invalidateAllVpids();
            default -> c.tlbs.invalidateVpid(vpid); // type 3 keeps global translations: dropping them too is allowed
        }
        vmsucceed();
    }

    /** Basic exit reasons of the VMX instructions in VMX non-root operation (docs/vmx-facts.md "Numbers"). */
    private static int exitReason(int sub, Insn in) {
        return switch (sub) {
            case 0xC1 -> ExitReason.VMCALL.code;
            case 0xC2 -> ExitReason.VMLAUNCH.code;
            case 0xC3 -> ExitReason.VMRESUME.code;
            case 0xC4 -> ExitReason.VMXOFF.code;
            case 0x0F78 -> ExitReason.VMREAD.code;
            case 0x0F79 -> ExitReason.VMWRITE.code;
            case 0x0FC706 -> ((in.prefixes & Insn.P_OSIZE) != 0 ? ExitReason.VMCLEAR : (in.prefixes & Insn.P_REP) != 0 ? ExitReason.VMXON : ExitReason.VMPTRLD).code;
            case 0x0FC707 -> ExitReason.VMPTRST.code;
            case 0x0F3880 -> ExitReason.INVEPT.code;
            default -> ExitReason.INVVPID.code;
        };
    }

    private void vmxon(Insn in) {
        VmxState v = c.vmx;
        if (v.nonRoot && (c.cr4 & Cpu.CR4_VMXE) != 0) { VmExits.exit(c, ExitReason.VMXON.code, 0, in.len); return; }
        if ((c.cr4 & Cpu.CR4_VMXE) == 0 || (c.cr0 & Cpu.CR0_PE) == 0 || (c.fl.bits & VM) != 0
                || (c.longModeActive() && !c.m64)) throw CpuFault.ud();
        if (v.inVmxOperation) {
            if (c.cpl > 0) throw CpuFault.gp0();
            vmfail(VmInstructionError.VMXON_IN_ROOT);
            return;
        }
        CpuProfile p = c.profile;
        long fc = c.msrs.featureControl;
        if (c.cpl > 0 || !fixedBitsHold() || (fc & 1) == 0 || (fc & 4) == 0) throw CpuFault.gp0();
        vmxonAt(c.read(in.seg, it.ea(in), 8));
    }

    /** VMXON after its #UD/#GP checks, with the operand read (the host API enters here too). */
    void vmxonAt(long addr) {
        VmxState v = c.vmx;
        CpuProfile p = c.profile;
        if (badAddress(addr)) { vmfailInvalid(); return; }
        int rev = c.mem.read32(addr);
        if ((rev & 0x7FFFFFFF) != p.vmcsRevision() || rev < 0) { vmfailInvalid(); return; }
        v.inVmxOperation = true;
        v.vmxonPointer = addr;
        v.current = null;
        vmsucceed();
    }

    /** CR0 and CR4 satisfy IA32_VMX_CR0/CR4_FIXED0/1 (SDM Vol.3C 23.8, Vol.3D Appendix A.7-A.8). */
    boolean fixedBitsHold() {
        return fixed(c.cr0, CpuProfile.IA32_VMX_CR0_FIXED0, CpuProfile.IA32_VMX_CR0_FIXED1)
                && fixed(c.cr4, CpuProfile.IA32_VMX_CR4_FIXED0, CpuProfile.IA32_VMX_CR4_FIXED1);
    }

    boolean fixed(long value, int fixed0, int fixed1) {
        long must1 = c.profile.vmx(fixed0), may1 = c.profile.vmx(fixed1);
        return (value & must1) == must1 && (value & ~may1 & 0xFFFFFFFFL) == 0;
    }

    private boolean badAddress(long addr) {
        int width = c.profile.vmxAddresses32() ? 32 : Cpuid.MAXPHYADDR;
        return (addr & 0xFFF) != 0 || (addr >>> width) != 0;
    }

    private void vmclear(Insn in) {
        vmclear(c.read(in.seg, it.ea(in), 8));
    }

    void vmclear(long addr) {
        if (badAddress(addr)) { vmfail(VmInstructionError.VMCLEAR_INVALID_ADDRESS); return; }
        if (addr == c.vmx.vmxonPointer) { vmfail(VmInstructionError.VMCLEAR_VMXON_POINTER); return; }
        c.vmx.clear(c.mem, addr);
        vmsucceed();
    }

    private void vmptrld(Insn in) {
        vmptrld(c.read(in.seg, it.ea(in), 8));
    }

    void vmptrld(long addr) {
        if (badAddress(addr)) { vmfail(VmInstructionError.VMPTRLD_INVALID_ADDRESS); return; }
        if (addr == c.vmx.vmxonPointer) { vmfail(VmInstructionError.VMPTRLD_VMXON_POINTER); return; }
        int rev = c.mem.read32(addr);
        // bit 31 selects a shadow VMCS, which needs VMCS shadowing (secondary control bit 14)
        boolean shadowOk = (c.profile.vmx(CpuProfile.IA32_VMX_PROCBASED_CTLS2) & (1L << (32 + 14))) != 0;
        if ((rev & 0x7FFFFFFF) != c.profile.vmcsRevision() || (rev < 0 && !shadowOk)) { vmfail(VmInstructionError.VMPTRLD_INCORRECT_REVISION); return; }
        c.vmx.load(c.mem, addr);
        vmsucceed();
    }

    /** The field a VMREAD/VMWRITE names, or null if unsupported (SDM 24.11.2). */
    VmcsField field(long encoding) {
        if ((encoding >>> 32) != 0) return null;
        int enc = (int) encoding;
        VmcsField f = VmcsFields.byEncoding(enc & ~1);
        if (f == null || f.index() > c.profile.maxFieldIndex()) return null;
        if ((enc & 1) != 0 && f.width() != VmcsField.WIDTH_64) return null; // "high" access only to 64-bit fields
        return f;
    }

    /**
     * VMCS shadowing (SDM Vol.3C 24.10, 30.3 VMREAD/VMWRITE): in VMX non-root operation with
     * "VMCS shadowing", a VMREAD/VMWRITE whose field encoding fits in bits 14:0 and whose bit in
     * the VMREAD/VMWRITE bitmap is 0 does not exit; it accesses the shadow VMCS the link pointer
     * names.
     */
    private boolean shadowed(Insn in) {
        if ((c.vmx.proc2 & VmxControls.PROC2_VMCS_SHADOWING) == 0) return false;
        if ((c.fl.bits & VM) != 0 || (c.longModeActive() && !c.m64)) return false; // #UD first: let the exit path decide
        long enc = c.reg(in.reg, in.osz);
        if ((enc >>> 15) != 0) return false;
        long bitmap = c.vmx.current.get(in.sub == 0x0F78 ? VMREAD_BITMAP_ADDRESS : VMWRITE_BITMAP_ADDRESS);
        return (c.mem.read8(bitmap + (enc >>> 3)) & (1 << (enc & 7))) == 0;
    }

    private void shadowAccess(Insn in) {
        if (c.cpl > 0) throw CpuFault.gp0();
        long link = c.vmx.current.get(VMCS_LINK_POINTER);
        if (link == -1L) { vmfailInvalid(); return; }
        Vmcs shadow = c.vmx.linked(c.mem, link);
        if (in.sub == 0x0F78) vmread(in, shadow);
        else vmwrite(in, shadow);
    }

    private void vmread(Insn in) {
        vmread(in, c.vmx.current);
    }

    private void vmread(Insn in, Vmcs vmcs) {
        long val = vmread(vmcs, c.reg(in.reg, in.osz));
        if ((c.fl.bits & (CF | ZF)) == 0) it.writeE(in, in.osz, val); // a failing VMREAD leaves the destination alone
    }

    /** VMREAD of {@code encoding} from {@code vmcs}: the value, with the result in the flags. */
    long vmread(Vmcs vmcs, long encoding) {
        if (vmcs == null) { vmfailInvalid(); return 0; }
        VmcsField f = field(encoding);
        if (f == null) { vmfail(VmInstructionError.UNSUPPORTED_COMPONENT); return 0; }
        long val = vmcs.get(f.encoding());
        if ((encoding & 1) != 0) val >>>= 32;
        vmsucceed();
        return val;
    }

    private void vmwrite(Insn in) {
        vmwrite(in, c.vmx.current);
    }

    private void vmwrite(Insn in, Vmcs vmcs) {
        if (vmcs == null) { vmfailInvalid(); return; }
        vmwrite(vmcs, c.reg(in.reg, in.osz), it.readE(in, in.osz));
    }

    /** VMWRITE of {@code val} to field {@code enc} of {@code vmcs}, the result in the flags. */
    void vmwrite(Vmcs vmcs, long enc, long val) {
        if (vmcs == null) { vmfailInvalid(); return; }
        VmcsField f = field(enc);
        if (f == null) { vmfail(VmInstructionError.UNSUPPORTED_COMPONENT); return; }
        if (f.readOnly() && !c.profile.vmwriteAnyField()) { vmfail(VmInstructionError.VMWRITE_READ_ONLY); return; }
        if ((enc & 1) != 0) val = (vmcs.get(f.encoding()) & 0xFFFFFFFFL) | (val << 32);
        vmcs.set(f.encoding(), val); // a 32-bit operand clears the high half of a 64-bit field
        vmsucceed();
    }

    // ---- results (SDM Vol.3C 30.2)

    private void setArith(long bits) {
        c.fl.materialize();
        c.fl.bits = (c.fl.bits & ~ARITH) | bits;
    }

    private void vmsucceed() {
        setArith(0);
    }

    private void vmfailInvalid() {
        setArith(CF);
    }

    /** VMfailValid when there is a current VMCS (the error goes into it), else VMfailInvalid. */
    private void vmfail(VmInstructionError error) {
        Vmcs cur = c.vmx.current;
        if (cur == null) {
            vmfailInvalid();
            return;
        }
        setArith(ZF);
        cur.set(VM_INSTRUCTION_ERROR, error.number);
    }

    /** A VM entry failed a check: kept for the host and named on the timeline (docs/architecture.md "One VMX vocabulary"). */
    private void entryFailed(EntryCheckFailure f) {
        c.vmx.lastEntryFailure = f;
        if (c.bus.wants(MachineEvent.Kind.VM_ENTRY_FAILED)) c.bus.publish(new MachineEvent.VmEntryFailed(c.index, f));
    }
}
