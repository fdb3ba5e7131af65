package org.hvlab.machine.cpu;

/**
 * An architectural exception raised while executing an instruction. Used only to unwind the
 * interpreter to the instruction boundary, where the CPU delivers it through the IDT (or, under
 * VMX, as a VM exit). It never escapes the machine. No stack trace: it is control flow.
 */
public final class CpuFault extends RuntimeException {
    public static final int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
            TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19;
    private static final String[] MNEMONIC = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF",
            "#09", "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM"};

    public final int vector;
    public final boolean hasError;
    public final int error;
    /** For #PF: the linear address that goes to CR2 on delivery; for EPT exits the guest-physical address. */
    public long address;
    /** EPT exits: the guest linear address (or -1) and the exit qualification. */
    public long linear = -1, qualification;

    /**
     * Not exceptions but EPT-induced VM exits (SDM Vol.3C 28.2.3): they unwind the instruction
     * the same way, and the instruction boundary turns them into exit 48 or 49.
     */
    public static final int EPT_VIOLATION = -1, EPT_MISCONFIG = -2;

    public CpuFault(int vector, boolean hasError, int error) {
        super(null, null, false, false);
        this.vector = vector;
        this.hasError = hasError;
        this.error = error;
    }

    public static CpuFault of(int vector) {
        return new CpuFault(vector, false, 0);
    }

    public static CpuFault withError(int vector, int error) {
        return new CpuFault(vector, true, error);
    }

    static CpuFault ept(int kind, long gpa, long linear, long qualification) {
        CpuFault f = new CpuFault(kind, false, 0);
        f.address = gpa;
        f.linear = linear;
        f.qualification = qualification;
        return f;
    }

    /** True for the EPT-induced VM exits, which no exception bitmap or double-fault rule applies to. */
    public boolean isVmExit() {
        return vector < 0;
    }

    public static CpuFault ud() { return of(UD); }
    public static CpuFault gp(int err) { return withError(GP, err); }
    public static CpuFault gp0() { return withError(GP, 0); }
    public static CpuFault ss(int err) { return withError(SS, err); }
    public static CpuFault np(int err) { return withError(NP, err); }
    public static CpuFault ts(int err) { return withError(TS, err); }

    public static String mnemonic(int v) {
        if (v == EPT_VIOLATION) return "EPT violation";
        if (v == EPT_MISCONFIG) return "EPT misconfiguration";
        return v >= 0 && v < MNEMONIC.length ? MNEMONIC[v] : "vector " + v;
    }

    @Override
    public String getMessage() {
        return mnemonic(vector) + (hasError ? String.format("(0x%x)", error) : "");
    }
}
