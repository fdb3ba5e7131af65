package org.hvlab.machine.vmx;

/**
 * A VM-entry check that failed, naming itself (in the spirit of KVM's {@code CC()} trace): either
 * VMfailValid with {@code error} (SDM Vol.3C 26.2, checks on controls and host state), or a failed
 * entry with exit reason {@code exitReason} and {@code qualification} (26.3 guest state, 26.4 MSR
 * loading; {@code error} is null). {@code section} is the SDM section, {@code check} a sentence.
 */
public record EntryCheckFailure(VmInstructionError error, int exitReason, long qualification, String section, String check) {
    /** VMfailValid(7): a check on the VM-execution, VM-exit or VM-entry controls (26.2.1). */
    static EntryCheckFailure control(String section, String check) {
        return new EntryCheckFailure(VmInstructionError.INVALID_CONTROL_FIELDS, -1, 0, section, check);
    }

    /** VMfailValid(8): a check on the host-state area (26.2.2 to 26.2.4). */
    static EntryCheckFailure host(String section, String check) {
        return new EntryCheckFailure(VmInstructionError.INVALID_HOST_STATE, -1, 0, section, check);
    }

    /** A failed entry for invalid guest state (exit reason 33) with {@code qualification} (26.3.1). */
    public static EntryCheckFailure guest(long qualification, String section, String check) {
        return new EntryCheckFailure(null, ExitReason.ENTRY_FAILURE_GUEST_STATE.code, qualification, section, check);
    }

    /** A failed entry while loading MSR list entry {@code entry} (1-based, exit reason 34, 26.4). */
    public static EntryCheckFailure msrLoading(long entry, String check) {
        return new EntryCheckFailure(null, ExitReason.ENTRY_FAILURE_MSR_LOADING.code, entry, "26.4", check);
    }

    public boolean vmfail() {
        return error != null;
    }

    /** {@code VMfailValid(7) VM entry with invalid control field(s): SDM 26.2.1.1: ...} or the failed entry's form. */
    public String render() {
        String head = error != null ? "VMfailValid(" + error.number + ") " + error.sdmName
                : String.format("failed entry, %s, qualification %d", ExitReason.describe(exitReason), qualification);
        return head + ": SDM Vol.3C " + section + ": " + check;
    }
}
