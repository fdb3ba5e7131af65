package org.hvlab.machine.host;

/**
 * What {@link HostCpu#vmlaunch()} and {@link HostCpu#vmresume()} return: either the entry was
 * refused with a VMfail ({@link #vmfail} not succeeded), or the guest ran and exited — a normal
 * VM exit, or a failed entry (exit reason with bit 31 set, SDM Vol.3C 26.7).
 */
public record VmEntryResult(VmxResult vmfail, int exitReason, long qualification) {
    public boolean exited() {
        return vmfail.succeeded();
    }

    public boolean failedEntry() {
        return exited() && exitReason < 0;
    }

    /** Basic exit reason (bits 15:0). */
    public int basicReason() {
        return exitReason & 0xFFFF;
    }

    @Override
    public String toString() {
        return exited() ? String.format("exit reason 0x%x qualification 0x%x", exitReason, qualification) : vmfail.toString();
    }
}
