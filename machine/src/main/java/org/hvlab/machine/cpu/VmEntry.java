package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.VmxControls;

import static org.hvlab.machine.vmx.VmcsFields.*;

import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;

/** Loading guest state on VM entry (SDM Vol.3C 26.3.2) and saving it on VM exit (27.3). */
final class VmEntry {
    static final int ENTRY_LOAD_DEBUG = 1 << 2, ENTRY_LOAD_PAT = 1 << 14, ENTRY_LOAD_EFER = 1 << 15;
    static final int EXIT_SAVE_DEBUG = 1 << 2, EXIT_SAVE_PAT = 1 << 18, EXIT_SAVE_EFER = 1 << 20;
    /** Segment fields: selector, base, limit, access rights encodings per Segment index ES..GS. */
    static final int[] SEL = {GUEST_ES_SELECTOR, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR, GUEST_DS_SELECTOR, GUEST_FS_SELECTOR, GUEST_GS_SELECTOR};
    static final int[] BASE = {GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE, GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE};
    static final int[] LIMIT = {GUEST_ES_LIMIT, GUEST_CS_LIMIT, GUEST_SS_LIMIT, GUEST_DS_LIMIT, GUEST_FS_LIMIT, GUEST_GS_LIMIT};
    static final int[] AR = {GUEST_ES_ACCESS_RIGHTS, GUEST_CS_ACCESS_RIGHTS, GUEST_SS_ACCESS_RIGHTS, GUEST_DS_ACCESS_RIGHTS, GUEST_FS_ACCESS_RIGHTS, GUEST_GS_ACCESS_RIGHTS};

    private VmEntry() {}

    static void loadGuestState(Cpu c, Vmcs v) {
        long entry = v.get(ENTRY_CONTROLS);
        boolean ia32e = (entry & VmxControls.ENTRY_IA32E_MODE_GUEST) != 0;
        c.cr0 = v.get(GUEST_CR0) | Cpu.CR0_ET;
        c.cr3 = v.get(GUEST_CR3);
        c.cr4 = v.get(GUEST_CR4);
        if ((entry & ENTRY_LOAD_DEBUG) != 0) c.dr[7] = v.get(GUEST_DR7);
        c.msrs.sysenterCs = v.get(GUEST_SYSENTER_CS);
        c.msrs.sysenterEsp = v.get(GUEST_SYSENTER_ESP);
        c.msrs.sysenterEip = v.get(GUEST_SYSENTER_EIP);
        if ((entry & ENTRY_LOAD_PAT) != 0) c.msrs.pat = v.get(GUEST_PAT);
        if ((entry & ENTRY_LOAD_EFER) != 0) c.efer = v.get(GUEST_EFER);
        // SDM Vol.3C 26.3.2.1: LMA takes "IA-32e mode guest"; LME too when the CR0 field has PG = 1
        // (else LME is unmodified, which lets an unrestricted real-mode guest keep LME for later)
        else if (ia32e) c.efer |= Cpu.EFER_LMA | Cpu.EFER_LME;
        else c.efer &= (v.get(GUEST_CR0) & Cpu.CR0_PG) != 0 ? ~(Cpu.EFER_LMA | Cpu.EFER_LME) : ~Cpu.EFER_LMA;
        for (int s = 0; s < 6; s++) c.seg[s].set((int) v.get(SEL[s]), v.get(BASE[s]), v.get(LIMIT[s]), (int) v.get(AR[s]));
        c.ldtr.set((int) v.get(GUEST_LDTR_SELECTOR), v.get(GUEST_LDTR_BASE), v.get(GUEST_LDTR_LIMIT), (int) v.get(GUEST_LDTR_ACCESS_RIGHTS));
        c.tr.set((int) v.get(GUEST_TR_SELECTOR), v.get(GUEST_TR_BASE), v.get(GUEST_TR_LIMIT), (int) v.get(GUEST_TR_ACCESS_RIGHTS));
        c.gdtrBase = v.get(GUEST_GDTR_BASE);
        c.gdtrLimit = (int) v.get(GUEST_GDTR_LIMIT);
        c.idtrBase = v.get(GUEST_IDTR_BASE);
        c.idtrLimit = (int) v.get(GUEST_IDTR_LIMIT);
        c.r[Cpu.RSP] = v.get(GUEST_RSP);
        c.fl.setAll(v.get(GUEST_RFLAGS));
        c.cpl = c.seg[Segment.SS].dpl(); // CPL is SS.DPL after VM entry (26.3.2.2)
        long intr = v.get(GUEST_INTERRUPTIBILITY);
        c.shadow = (int) intr & 3;
        boolean virtualNmis = (v.get(PIN_BASED_CONTROLS) & VmxControls.PIN_VIRTUAL_NMIS) != 0;
        // bit 3 is virtual-NMI blocking with "virtual NMIs", real NMI blocking without (docs/vmx-facts.md).
        // With "virtual NMIs" the entry leaves the processor's own NMI blocking alone: after an
        // NMI exit it lasts until the host executes IRET ("VMRESUME does not unblock"), so a
        // host that never does keeps NMIs from causing exits at all (bug 018)
        if (virtualNmis) {
            c.vmx.virtualNmiBlocked = (intr & 8) != 0;
        } else {
            c.nmiBlocked = (intr & 8) != 0;
        }
        c.activity = (int) v.get(GUEST_ACTIVITY_STATE);
        c.modeChanged(); // the TLB set is chosen by the caller (VPID/EPT tagging)
        c.nrip = v.get(GUEST_RIP);
    }

    static void saveGuestState(Cpu c, Vmcs v) {
        long exit = v.get(EXIT_CONTROLS);
        v.set(GUEST_CR0, c.cr0);
        v.set(GUEST_CR3, c.cr3);
        v.set(GUEST_CR4, c.cr4);
        if ((exit & EXIT_SAVE_DEBUG) != 0) v.set(GUEST_DR7, c.dr[7]);
        v.set(GUEST_SYSENTER_CS, c.msrs.sysenterCs);
        v.set(GUEST_SYSENTER_ESP, c.msrs.sysenterEsp);
        v.set(GUEST_SYSENTER_EIP, c.msrs.sysenterEip);
        if ((exit & EXIT_SAVE_PAT) != 0) v.set(GUEST_PAT, c.msrs.pat);
        if ((exit & EXIT_SAVE_EFER) != 0) v.set(GUEST_EFER, c.efer);
        for (int s = 0; s < 6; s++) saveSegment(v, c.seg[s], SEL[s], BASE[s], LIMIT[s], AR[s]);
        saveSegment(v, c.ldtr, GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_ACCESS_RIGHTS);
        saveSegment(v, c.tr, GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_ACCESS_RIGHTS);
        v.set(GUEST_GDTR_BASE, c.gdtrBase);
        v.set(GUEST_GDTR_LIMIT, c.gdtrLimit);
        v.set(GUEST_IDTR_BASE, c.idtrBase);
        v.set(GUEST_IDTR_LIMIT, c.idtrLimit);
        v.set(GUEST_RSP, c.r[Cpu.RSP]);
        v.set(GUEST_RIP, c.rip);
        v.set(GUEST_RFLAGS, c.rflags());
        boolean virtualNmis = (v.get(PIN_BASED_CONTROLS) & VmxControls.PIN_VIRTUAL_NMIS) != 0;
        boolean nmiBlock = virtualNmis ? c.vmx.virtualNmiBlocked : c.nmiBlocked;
        v.set(GUEST_INTERRUPTIBILITY, (c.blockingAtStart & 3) | (nmiBlock ? 8 : 0));
        v.set(GUEST_ACTIVITY_STATE, c.activity); // Cpu numbers its activity states as this field does (active, HLT, shutdown, wait-for-SIPI)
    }

    private static void saveSegment(Vmcs v, Segment s, int sel, int base, int limit, int ar) {
        v.set(sel, s.selector);
        v.set(base, s.base);
        v.set(limit, s.limit);
        v.set(ar, s.attr);
    }
}
