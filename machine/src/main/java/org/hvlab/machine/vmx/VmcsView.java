package org.hvlab.machine.vmx;

/**
 * Read access to a VMCS by field encoding ({@link VmcsFields}): what the VM-entry checks read. The
 * CPU's own VMCS is one; a guest hypervisor's VMCS12 as a nested hypervisor keeps it is another,
 * so the same checks validate both.
 */
@FunctionalInterface
public interface VmcsView {
    long get(int encoding);
}
