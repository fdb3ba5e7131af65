package org.hvlab.machine.vmx;

/**
 * Basic VM-exit reasons (SDM Vol.3D Appendix C "VMX Basic Exit Reasons"), with the SDM's names.
 * The number is bits 15:0 of the exit-reason field; a failed VM entry sets bit 31 as well
 * ({@link #FAILED_ENTRY}). Traces and reports print a reason as {@code EPT violation (48)}.
 */
public enum ExitReason {
    EXCEPTION_OR_NMI(0, "exception or NMI"),
    EXTERNAL_INTERRUPT(1, "external interrupt"),
    TRIPLE_FAULT(2, "triple fault"),
    INIT_SIGNAL(3, "INIT signal"),
    SIPI(4, "start-up IPI (SIPI)"),
    IO_SMI(5, "I/O system-management interrupt (SMI)"),
    OTHER_SMI(6, "other SMI"),
    INTERRUPT_WINDOW(7, "interrupt window"),
    NMI_WINDOW(8, "NMI window"),
    TASK_SWITCH(9, "task switch"),
    CPUID(10, "CPUID"),
    GETSEC(11, "GETSEC"),
    HLT(12, "HLT"),
    INVD(13, "INVD"),
    INVLPG(14, "INVLPG"),
    RDPMC(15, "RDPMC"),
    RDTSC(16, "RDTSC"),
    RSM(17, "RSM"),
    VMCALL(18, "VMCALL"),
    VMCLEAR(19, "VMCLEAR"),
    VMLAUNCH(20, "VMLAUNCH"),
    VMPTRLD(21, "VMPTRLD"),
    VMPTRST(22, "VMPTRST"),
    VMREAD(23, "VMREAD"),
    VMRESUME(24, "VMRESUME"),
    VMWRITE(25, "VMWRITE"),
    VMXOFF(26, "VMXOFF"),
    VMXON(27, "VMXON"),
    CR_ACCESS(28, "control-register accesses"),
    MOV_DR(29, "MOV DR"),
    IO_INSTRUCTION(30, "I/O instruction"),
    RDMSR(31, "RDMSR"),
    WRMSR(32, "WRMSR"),
    ENTRY_FAILURE_GUEST_STATE(33, "VM-entry failure due to invalid guest state"),
    ENTRY_FAILURE_MSR_LOADING(34, "VM-entry failure due to MSR loading"),
    MWAIT(36, "MWAIT"),
    MONITOR_TRAP_FLAG(37, "monitor trap flag"),
    MONITOR(39, "MONITOR"),
    PAUSE(40, "PAUSE"),
    ENTRY_FAILURE_MACHINE_CHECK(41, "VM-entry failure due to machine-check event"),
    TPR_BELOW_THRESHOLD(43, "TPR below threshold"),
    APIC_ACCESS(44, "APIC access"),
    VIRTUALIZED_EOI(45, "virtualized EOI"),
    GDTR_IDTR_ACCESS(46, "access to GDTR or IDTR"),
    LDTR_TR_ACCESS(47, "access to LDTR or TR"),
    EPT_VIOLATION(48, "EPT violation"),
    EPT_MISCONFIGURATION(49, "EPT misconfiguration"),
    INVEPT(50, "INVEPT"),
    RDTSCP(51, "RDTSCP"),
    PREEMPTION_TIMER(52, "VMX-preemption timer expired"),
    INVVPID(53, "INVVPID"),
    WBINVD(54, "WBINVD or WBNOINVD"),
    XSETBV(55, "XSETBV"),
    APIC_WRITE(56, "APIC write"),
    RDRAND(57, "RDRAND"),
    INVPCID(58, "INVPCID"),
    VMFUNC(59, "VMFUNC"),
    ENCLS(60, "ENCLS"),
    RDSEED(61, "RDSEED"),
    PML_FULL(62, "page-modification log full"),
    XSAVES(63, "XSAVES"),
    XRSTORS(64, "XRSTORS"),
    PCONFIG(65, "PCONFIG"),
    SPP_EVENT(66, "SPP-related event"),
    UMWAIT(67, "UMWAIT"),
    TPAUSE(68, "TPAUSE"),
    LOADIWKEY(69, "LOADIWKEY"),
    ENCLV(70, "ENCLV"),
    ENQCMD_PASID_FAILURE(72, "ENQCMD PASID translation failure"),
    ENQCMDS_PASID_FAILURE(73, "ENQCMDS PASID translation failure"),
    BUS_LOCK(74, "bus lock"),
    INSTRUCTION_TIMEOUT(75, "instruction timeout");

    /** Bit 31 of the exit-reason field: VM-entry failure (SDM Vol.3C 26.7). */
    public static final int FAILED_ENTRY = 0x80000000;

    private static final ExitReason[] BY_CODE = new ExitReason[80];

    static {
        for (ExitReason r : values()) BY_CODE[r.code] = r;
    }

    /** The basic exit reason. */
    public final int code;
    /** The SDM's name for it. */
    public final String sdmName;

    ExitReason(int code, String sdmName) {
        this.code = code;
        this.sdmName = sdmName;
    }

    /** The reason with basic number {@code basic} (bits 15:0 of {@code exitReason}), or null if the SDM names none. */
    public static ExitReason of(long exitReason) {
        int basic = (int) (exitReason & 0xFFFF);
        return basic < BY_CODE.length ? BY_CODE[basic] : null;
    }

    /** {@code EPT violation (48)}; a failed entry adds that; an unknown number prints as {@code exit reason N}. */
    public static String describe(long exitReason) {
        ExitReason r = of(exitReason);
        String name = (r == null ? "exit reason" : r.sdmName) + " (" + (exitReason & 0xFFFF) + ")";
        return (exitReason & FAILED_ENTRY) != 0 ? "failed entry: " + name : name;
    }

    @Override
    public String toString() {
        return sdmName + " (" + code + ")";
    }
}
