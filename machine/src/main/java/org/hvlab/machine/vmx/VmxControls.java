package org.hvlab.machine.vmx;

/**
 * The VM-execution, VM-exit and VM-entry control bits by their SDM names (Vol.3C 24.6.1 pin-based,
 * 24.6.2 processor-based primary and secondary, 24.7.1 VM-exit, 24.8.1 VM-entry controls), and
 * the guest interruptibility-state bits (24.4.2). One declaration each; the machine, XMHF and the
 * tests name bits from here.
 */
public final class VmxControls {
    private VmxControls() {}

    // pin-based VM-execution controls (PIN_BASED_CONTROLS)
    public static final long PIN_EXTERNAL_INTERRUPT_EXITING = 1L << 0, PIN_NMI_EXITING = 1L << 3, PIN_VIRTUAL_NMIS = 1L << 5,
            PIN_PREEMPTION_TIMER = 1L << 6, PIN_POSTED_INTERRUPTS = 1L << 7;

    // primary processor-based VM-execution controls (PROC_BASED_CONTROLS)
    public static final long PROC_INTERRUPT_WINDOW = 1L << 2, PROC_TSC_OFFSETTING = 1L << 3, PROC_HLT_EXITING = 1L << 7,
            PROC_INVLPG_EXITING = 1L << 9, PROC_MWAIT_EXITING = 1L << 10, PROC_RDPMC_EXITING = 1L << 11, PROC_RDTSC_EXITING = 1L << 12,
            PROC_CR3_LOAD_EXITING = 1L << 15, PROC_CR3_STORE_EXITING = 1L << 16, PROC_ACTIVATE_TERTIARY = 1L << 17,
            PROC_CR8_LOAD_EXITING = 1L << 19, PROC_CR8_STORE_EXITING = 1L << 20, PROC_USE_TPR_SHADOW = 1L << 21,
            PROC_NMI_WINDOW = 1L << 22, PROC_MOV_DR_EXITING = 1L << 23, PROC_UNCONDITIONAL_IO_EXITING = 1L << 24,
            PROC_USE_IO_BITMAPS = 1L << 25, PROC_MONITOR_TRAP_FLAG = 1L << 27, PROC_USE_MSR_BITMAPS = 1L << 28,
            PROC_MONITOR_EXITING = 1L << 29, PROC_PAUSE_EXITING = 1L << 30, PROC_ACTIVATE_SECONDARY = 1L << 31;

    // secondary processor-based VM-execution controls (PROC_BASED_CONTROLS2)
    public static final long PROC2_VIRTUALIZE_APIC_ACCESSES = 1L << 0, PROC2_EPT = 1L << 1, PROC2_DESCRIPTOR_TABLE_EXITING = 1L << 2,
            PROC2_ENABLE_RDTSCP = 1L << 3, PROC2_VIRTUALIZE_X2APIC = 1L << 4, PROC2_VPID = 1L << 5, PROC2_WBINVD_EXITING = 1L << 6,
            PROC2_UNRESTRICTED_GUEST = 1L << 7, PROC2_APIC_REGISTER_VIRTUALIZATION = 1L << 8, PROC2_VIRTUAL_INTERRUPT_DELIVERY = 1L << 9,
            PROC2_PAUSE_LOOP_EXITING = 1L << 10, PROC2_RDRAND_EXITING = 1L << 11, PROC2_ENABLE_INVPCID = 1L << 12,
            PROC2_ENABLE_VMFUNC = 1L << 13, PROC2_VMCS_SHADOWING = 1L << 14, PROC2_ENCLS_EXITING = 1L << 15,
            PROC2_RDSEED_EXITING = 1L << 16, PROC2_ENABLE_PML = 1L << 17, PROC2_EPT_VIOLATION_VE = 1L << 18,
            PROC2_ENABLE_XSAVES = 1L << 20, PROC2_TSC_SCALING = 1L << 25;

    // VM-exit controls (EXIT_CONTROLS)
    public static final long EXIT_SAVE_DEBUG_CONTROLS = 1L << 2, EXIT_HOST_ADDRESS_SPACE_SIZE = 1L << 9,
            EXIT_LOAD_PERF_GLOBAL_CTRL = 1L << 12, EXIT_ACK_INTERRUPT = 1L << 15, EXIT_SAVE_PAT = 1L << 18, EXIT_LOAD_PAT = 1L << 19,
            EXIT_SAVE_EFER = 1L << 20, EXIT_LOAD_EFER = 1L << 21, EXIT_SAVE_PREEMPTION_TIMER = 1L << 22, EXIT_CLEAR_BNDCFGS = 1L << 23;

    // VM-entry controls (ENTRY_CONTROLS)
    public static final long ENTRY_LOAD_DEBUG_CONTROLS = 1L << 2, ENTRY_IA32E_MODE_GUEST = 1L << 9, ENTRY_SMM = 1L << 10,
            ENTRY_DEACTIVATE_DUAL_MONITOR = 1L << 11, ENTRY_LOAD_PERF_GLOBAL_CTRL = 1L << 13, ENTRY_LOAD_PAT = 1L << 14,
            ENTRY_LOAD_EFER = 1L << 15;

    // guest interruptibility state (GUEST_INTERRUPTIBILITY, SDM Vol.3C 24.4.2 Table 24-3)
    public static final long BLOCKING_BY_STI = 1L << 0, BLOCKING_BY_MOV_SS = 1L << 1, BLOCKING_BY_SMI = 1L << 2,
            BLOCKING_BY_NMI = 1L << 3, ENCLAVE_INTERRUPTION = 1L << 4;

    /** Valid bit (31) of the interruption-information fields (VM-entry, VM-exit, IDT-vectoring; SDM Vol.3C 24.8.3, 24.9.2). */
    public static final long INTERRUPTION_INFO_VALID = 1L << 31;
}
