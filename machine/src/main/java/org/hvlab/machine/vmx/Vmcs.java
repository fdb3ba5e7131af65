package org.hvlab.machine.vmx;

import org.hvlab.machine.mem.PhysicalMemory;

/**
 * A VMCS as the processor holds it while it is active (SDM Vol.3C 24.1, 24.11.1): the field
 * values and the launch state. Its region in memory holds the revision identifier (bits 30:0),
 * the shadow-VMCS indicator (bit 31) and the abort indicator; the rest of the region is
 * implementation-specific, and this implementation keeps the launch state at offset 8 and the
 * fields at 16 + 8 x slot, written back by VMCLEAR. Software must not rely on that layout.
 */
public final class Vmcs implements VmcsView {
    static final int LAUNCH_STATE = 8, FIELDS = 16;
    /** Bytes of a VMCS region: IA32_VMX_BASIC bits 44:32 report 4096. */
    public static final int REGION_SIZE = 4096;

    public final long address;
    final long[] values = new long[VmcsFields.count()];
    public boolean launched;

    Vmcs(long address) {
        this.address = address;
    }

    /** Reads a VMCS from its region (VMPTRLD of a VMCS not active on this processor). */
    static Vmcs fromMemory(PhysicalMemory mem, long address) {
        Vmcs v = new Vmcs(address);
        v.launched = mem.read32(address + LAUNCH_STATE) == 1;
        for (int i = 0; i < v.values.length; i++) v.values[i] = mem.read64(address + FIELDS + 8L * i);
        return v;
    }

    /** Writes the VMCS data to its region (VMCLEAR). */
    void flush(PhysicalMemory mem) {
        mem.write32(address + LAUNCH_STATE, launched ? 1 : 0);
        for (int i = 0; i < values.length; i++) mem.write64(address + FIELDS + 8L * i, values[i]);
    }

    public long get(int encoding) {
        int s = VmcsFields.slot(encoding);
        if (s < 0) throw new IllegalArgumentException("no VMCS field 0x" + Integer.toHexString(encoding));
        return values[s];
    }

    public void set(int encoding, long value) {
        int s = VmcsFields.slot(encoding);
        if (s < 0) throw new IllegalArgumentException("no VMCS field 0x" + Integer.toHexString(encoding));
        values[s] = value & VmcsFields.maskOfSlot(s);
    }
}
