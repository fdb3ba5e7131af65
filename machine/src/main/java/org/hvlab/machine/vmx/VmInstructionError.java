package org.hvlab.machine.vmx;

/**
 * VM-instruction error numbers (SDM Vol.3C 30.4 "VM Instruction Error Numbers"), with the SDM's
 * descriptions. VMfailValid stores the number in the current VMCS's VM-instruction error field.
 */
public enum VmInstructionError {
    VMCALL_IN_ROOT(1, "VMCALL executed in VMX root operation"),
    VMCLEAR_INVALID_ADDRESS(2, "VMCLEAR with invalid physical address"),
    VMCLEAR_VMXON_POINTER(3, "VMCLEAR with VMXON pointer"),
    VMLAUNCH_NONCLEAR_VMCS(4, "VMLAUNCH with non-clear VMCS"),
    VMRESUME_NONLAUNCHED_VMCS(5, "VMRESUME with non-launched VMCS"),
    VMRESUME_AFTER_VMXOFF(6, "VMRESUME after VMXOFF"),
    INVALID_CONTROL_FIELDS(7, "VM entry with invalid control field(s)"),
    INVALID_HOST_STATE(8, "VM entry with invalid host-state field(s)"),
    VMPTRLD_INVALID_ADDRESS(9, "VMPTRLD with invalid physical address"),
    VMPTRLD_VMXON_POINTER(10, "VMPTRLD with VMXON pointer"),
    VMPTRLD_INCORRECT_REVISION(11, "VMPTRLD with incorrect VMCS revision identifier"),
    UNSUPPORTED_COMPONENT(12, "VMREAD/VMWRITE from/to unsupported VMCS component"),
    VMWRITE_READ_ONLY(13, "VMWRITE to read-only VMCS component"),
    VMXON_IN_ROOT(15, "VMXON executed in VMX root operation"),
    INVALID_EXECUTIVE_VMCS_POINTER(16, "VM entry with invalid executive-VMCS pointer"),
    NONLAUNCHED_EXECUTIVE_VMCS(17, "VM entry with non-launched executive VMCS"),
    EXECUTIVE_VMCS_NOT_VMXON_POINTER(18, "VM entry with executive-VMCS pointer not VMXON pointer"),
    VMCALL_NONCLEAR_VMCS(19, "VMCALL with non-clear VMCS"),
    VMCALL_INVALID_EXIT_CONTROLS(20, "VMCALL with invalid VM-exit control fields"),
    VMCALL_INCORRECT_MSEG_REVISION(22, "VMCALL with incorrect MSEG revision identifier"),
    VMXOFF_UNDER_DUAL_MONITOR(23, "VMXOFF under dual-monitor treatment of SMIs and SMM"),
    VMCALL_INVALID_SMM_MONITOR_FEATURES(24, "VMCALL with invalid SMM-monitor features"),
    INVALID_EXECUTIVE_CONTROLS(25, "VM entry with invalid VM-execution control fields in executive VMCS"),
    ENTRY_EVENTS_BLOCKED_BY_MOV_SS(26, "VM entry with events blocked by MOV SS"),
    INVALID_INVEPT_INVVPID_OPERAND(28, "invalid operand to INVEPT/INVVPID");

    /** The number VMfailValid stores. */
    public final int number;
    /** The SDM's description. */
    public final String sdmName;

    VmInstructionError(int number, String sdmName) {
        this.number = number;
        this.sdmName = sdmName;
    }

    @Override
    public String toString() {
        return sdmName + " (" + number + ")";
    }
}
