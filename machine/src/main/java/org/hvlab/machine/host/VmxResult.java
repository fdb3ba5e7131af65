package org.hvlab.machine.host;

/**
 * The result of a VMX instruction (SDM Vol.3C 30.2): VMsucceed, VMfailInvalid (no current
 * VMCS) or VMfailValid with the VM-instruction error number (docs/vmx-facts.md "Numbers").
 */
public record VmxResult(int error) {
    public static final VmxResult SUCCEED = new VmxResult(0);
    public static final VmxResult FAIL_INVALID = new VmxResult(-1);

    static VmxResult of(int code) {
        return code == 0 ? SUCCEED : code < 0 ? FAIL_INVALID : new VmxResult(code);
    }

    public boolean succeeded() {
        return error == 0;
    }

    @Override
    public String toString() {
        return error == 0 ? "VMsucceed" : error < 0 ? "VMfailInvalid" : "VMfailValid(" + error + ")";
    }
}
