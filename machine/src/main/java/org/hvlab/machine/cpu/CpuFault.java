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
    /** For #PF: the linear address that goes to CR2 on delivery. */
    public long address;

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

    public static CpuFault ud() { return of(UD); }
    public static CpuFault gp(int err) { return withError(GP, err); }
    public static CpuFault gp0() { return withError(GP, 0); }
    public static CpuFault ss(int err) { return withError(SS, err); }
    public static CpuFault np(int err) { return withError(NP, err); }
    public static CpuFault ts(int err) { return withError(TS, err); }

    /** Exceptions that push an error code when delivered (SDM Vol.3A 6.13). */
    public static boolean pushesError(int v) {
        return v == DF || v == TS || v == NP || v == SS || v == GP || v == PF || v == AC;
    }

    public static String mnemonic(int v) {
        return v >= 0 && v < MNEMONIC.length ? MNEMONIC[v] : "vector " + v;
    }

    @Override
    public String getMessage() {
        return mnemonic(vector) + (hasError ? String.format("(0x%x)", error) : "");
    }
}
