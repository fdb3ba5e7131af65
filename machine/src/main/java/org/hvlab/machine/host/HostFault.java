package org.hvlab.machine.host;

/**
 * An exception that a host operation raised (a #UD or #GP of a VMX instruction, a CR or MSR
 * write): a bug in the Java hypervisor. If it escapes {@link HostSoftware#start}, the run ends
 * with a hypervisor-halt verdict naming it.
 */
public final class HostFault extends RuntimeException {
    public HostFault(String message) {
        super(message, null, false, false);
    }
}
