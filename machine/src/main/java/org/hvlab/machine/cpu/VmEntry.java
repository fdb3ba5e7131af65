package org.hvlab.machine.cpu;

import org.hvlab.machine.vmx.Vmcs;
import org.hvlab.machine.vmx.VmEntryChecks;

/** Loading guest state on VM entry (SDM Vol.3C 26.3.2) and saving it on VM exit (27.3). */
final class VmEntry {
    static final int ENTRY_LOAD_DEBUG = 1 << 2, ENTRY_LOAD_PAT = 1 << 14, ENTRY_LOAD_EFER = 1 << 15;
    static final int EXIT_SAVE_DEBUG = 1 << 2, EXIT_SAVE_PAT = 1 << 18, EXIT_SAVE_EFER = 1 << 20;
    /** Segment fields: selector, base, limit, access rights encodings per Segment index ES..GS. */
    static final int[] SEL = {0x0800, 0x0802, 0x0804, 0x0806, 0x0808, 0x080A};
    static final int[] BASE = {0x6806, 0x6808, 0x680A, 0x680C, 0x680E, 0x6810};
    static final int[] LIMIT = {0x4800, 0x4802, 0x4804, 0x4806, 0x4808, 0x480A};
    static final int[] AR = {0x4814, 0x4816, 0x4818, 0x481A, 0x481C, 0x481E};

    private VmEntry() {}

    static void loadGuestState(Cpu c, Vmcs v) {
        long entry = v.get(0x4012);
        boolean ia32e = (entry & VmEntryChecks.ENTRY_IA32E_GUEST) != 0;
        c.cr0 = v.get(0x6800) | Cpu.CR0_ET;
        c.cr3 = v.get(0x6802);
        c.cr4 = v.get(0x6804);
        if ((entry & ENTRY_LOAD_DEBUG) != 0) c.dr[7] = v.get(0x681A);
        c.msrs.sysenterCs = v.get(0x482A);
        c.msrs.sysenterEsp = v.get(0x6824);
        c.msrs.sysenterEip = v.get(0x6826);
        if ((entry & ENTRY_LOAD_PAT) != 0) c.msrs.pat = v.get(0x2804);
        if ((entry & ENTRY_LOAD_EFER) != 0) c.efer = v.get(0x2806);
        // SDM Vol.3C 26.3.2.1: LMA takes "IA-32e mode guest"; LME too when the CR0 field has PG = 1
        // (else LME is unmodified, which lets an unrestricted real-mode guest keep LME for later)
        else if (ia32e) c.efer |= Cpu.EFER_LMA | Cpu.EFER_LME;
        else c.efer &= (v.get(0x6800) & Cpu.CR0_PG) != 0 ? ~(Cpu.EFER_LMA | Cpu.EFER_LME) : ~Cpu.EFER_LMA;
        for (int s = 0; s < 6; s++) c.seg[s].set((int) v.get(SEL[s]), v.get(BASE[s]), v.get(LIMIT[s]), (int) v.get(AR[s]));
        c.ldtr.set((int) v.get(0x080C), v.get(0x6812), v.get(0x480C), (int) v.get(0x4820));
        c.tr.set((int) v.get(0x080E), v.get(0x6814), v.get(0x480E), (int) v.get(0x4822));
        c.gdtrBase = v.get(0x6816);
        c.gdtrLimit = (int) v.get(0x4810);
        c.idtrBase = v.get(0x6818);
        c.idtrLimit = (int) v.get(0x4812);
        c.r[Cpu.RSP] = v.get(0x681C);
        c.fl.setAll(v.get(0x6820));
        c.cpl = c.seg[Segment.SS].dpl(); // CPL is SS.DPL after VM entry (26.3.2.2)
        long intr = v.get(0x4824);
        c.shadow = (int) intr & 3;
        boolean virtualNmis = (v.get(0x4000) & VmEntryChecks.PIN_VIRTUAL_NMIS) != 0;
        // bit 3 is virtual-NMI blocking with "virtual NMIs", real NMI blocking without (docs/vmx-facts.md).
        // With "virtual NMIs" the entry leaves the processor's own NMI blocking alone: after an
        // NMI exit it lasts until the host executes IRET ("VMRESUME does not unblock"), so a
        // host that never does keeps NMIs from causing exits at all (bug 018)
        if (virtualNmis) {
            c.vmx.virtualNmiBlocked = (intr & 8) != 0;
        } else {
            c.nmiBlocked = (intr & 8) != 0;
        }
        c.activity = (int) v.get(0x4826);
        c.modeChanged(); // the TLB set is chosen by the caller (VPID/EPT tagging)
        c.nrip = v.get(0x681E);
    }

    static void saveGuestState(Cpu c, Vmcs v) {
        long exit = v.get(0x400C);
        v.set(0x6800, c.cr0);
        v.set(0x6802, c.cr3);
        v.set(0x6804, c.cr4);
        if ((exit & EXIT_SAVE_DEBUG) != 0) v.set(0x681A, c.dr[7]);
        v.set(0x482A, c.msrs.sysenterCs);
        v.set(0x6824, c.msrs.sysenterEsp);
        v.set(0x6826, c.msrs.sysenterEip);
        if ((exit & EXIT_SAVE_PAT) != 0) v.set(0x2804, c.msrs.pat);
        if ((exit & EXIT_SAVE_EFER) != 0) v.set(0x2806, c.efer);
        for (int s = 0; s < 6; s++) saveSegment(v, c.seg[s], SEL[s], BASE[s], LIMIT[s], AR[s]);
        saveSegment(v, c.ldtr, 0x080C, 0x6812, 0x480C, 0x4820);
        saveSegment(v, c.tr, 0x080E, 0x6814, 0x480E, 0x4822);
        v.set(0x6816, c.gdtrBase);
        v.set(0x4810, c.gdtrLimit);
        v.set(0x6818, c.idtrBase);
        v.set(0x4812, c.idtrLimit);
        v.set(0x681C, c.r[Cpu.RSP]);
        v.set(0x681E, c.rip);
        v.set(0x6820, c.rflags());
        boolean virtualNmis = (v.get(0x4000) & VmEntryChecks.PIN_VIRTUAL_NMIS) != 0;
        boolean nmiBlock = virtualNmis ? c.vmx.virtualNmiBlocked : c.nmiBlocked;
        v.set(0x4824, (c.blockingAtStart & 3) | (nmiBlock ? 8 : 0));
        v.set(0x4826, c.activity); // Cpu numbers its activity states as this field does (active, HLT, shutdown, wait-for-SIPI)
    }

    private static void saveSegment(Vmcs v, Segment s, int sel, int base, int limit, int ar) {
        v.set(sel, s.selector);
        v.set(base, s.base);
        v.set(limit, s.limit);
        v.set(ar, s.attr);
    }
}
