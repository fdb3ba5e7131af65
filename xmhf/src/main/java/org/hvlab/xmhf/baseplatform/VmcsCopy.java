package org.hvlab.xmhf.baseplatform;

import static org.hvlab.machine.vmx.VmcsFields.*;
import static org.hvlab.machine.vmx.VmxControls.*;
import static org.hvlab.xmhf.baseplatform.Fields.*;

import org.hvlab.machine.host.HostCpu;

/**
 * XMHF's software copy of the VMCS ({@code vcpu->vmcs}, docs/xmhf-facts.md "baseplatform"): read
 * from the hardware VMCS when an intercept starts ({@link #get}) and written back before the
 * next VM entry ({@link #put}). Intercept handlers edit the copy, not the hardware — so a
 * write to the hardware VMCS in between is overwritten by the put (bug 087's mechanism).
 */
public final class VmcsCopy {
    /** Fields written back by put: the controls handlers change and the whole guest state. */
    static final int[] WRITABLE = {
            PIN_BASED_CONTROLS, PROC_BASED_CONTROLS, PROC_BASED_CONTROLS2, EXCEPTION_BITMAP, ENTRY_CONTROLS, EPT_POINTER,
            ENTRY_INTERRUPTION_INFO, ENTRY_EXCEPTION_ERROR_CODE, ENTRY_INSTRUCTION_LENGTH,
            CR0_GUEST_HOST_MASK, CR4_GUEST_HOST_MASK, CR0_READ_SHADOW, CR4_READ_SHADOW,
            GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_DR7, GUEST_RSP, GUEST_RIP, GUEST_RFLAGS,
            GUEST_ES_SELECTOR, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR, GUEST_DS_SELECTOR, GUEST_FS_SELECTOR, GUEST_GS_SELECTOR,
            GUEST_LDTR_SELECTOR, GUEST_TR_SELECTOR,
            GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE, GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE, GUEST_LDTR_BASE,
            GUEST_TR_BASE, GUEST_GDTR_BASE, GUEST_IDTR_BASE,
            GUEST_ES_LIMIT, GUEST_CS_LIMIT, GUEST_SS_LIMIT, GUEST_DS_LIMIT, GUEST_FS_LIMIT, GUEST_GS_LIMIT, GUEST_LDTR_LIMIT,
            GUEST_TR_LIMIT, GUEST_GDTR_LIMIT, GUEST_IDTR_LIMIT,
            GUEST_ES_ACCESS_RIGHTS, GUEST_CS_ACCESS_RIGHTS, GUEST_SS_ACCESS_RIGHTS, GUEST_DS_ACCESS_RIGHTS,
            GUEST_FS_ACCESS_RIGHTS, GUEST_GS_ACCESS_RIGHTS, GUEST_LDTR_ACCESS_RIGHTS, GUEST_TR_ACCESS_RIGHTS,
            GUEST_INTERRUPTIBILITY, GUEST_ACTIVITY_STATE, GUEST_SYSENTER_CS, GUEST_SYSENTER_ESP, GUEST_SYSENTER_EIP};
    /** Exit information: read by get, never written back (read-only fields). */
    static final int[] READ_ONLY = {
            EXIT_REASON, EXIT_QUALIFICATION, EXIT_INTERRUPTION_INFO, EXIT_INTERRUPTION_ERROR_CODE, IDT_VECTORING_INFO,
            IDT_VECTORING_ERROR_CODE, EXIT_INSTRUCTION_LENGTH, GUEST_LINEAR_ADDRESS, GUEST_PHYSICAL_ADDRESS};
    private static final int[] ALL = concat(WRITABLE, READ_ONLY);
    /** Slot of each field by encoding (an array: the copy is read on every intercept). */
    private static final short[] INDEX = new short[0x7000];

    static {
        java.util.Arrays.fill(INDEX, (short) -1);
        for (int i = 0; i < ALL.length; i++) INDEX[ALL[i]] = (short) i;
    }

    private final long[] values = new long[ALL.length];
    private final long[] writeBack = new long[WRITABLE.length];
    private boolean valid;

    /** Reads the hardware VMCS into the copy (one host operation). */
    public void get(HostCpu cpu) {
        cpu.vmreadAll(ALL, values);
        valid = true;
    }

    /** Writes the copy's writable fields back to the hardware VMCS (one host operation). */
    public void put(HostCpu cpu) {
        System.arraycopy(values, 0, writeBack, 0, WRITABLE.length);
        cpu.vmwriteAll(WRITABLE, writeBack);
        valid = false;
    }

    /** Whether the copy holds the current intercept's state (between get and put). */
    public boolean valid() {
        return valid;
    }

    public long read(int encoding) {
        return values[slot(encoding)];
    }

    public void write(int encoding, long value) {
        int i = slot(encoding);
        if (i >= WRITABLE.length) throw new IllegalArgumentException(String.format("VMCS field 0x%04x is read-only in the copy", encoding));
        values[i] = value;
    }

    private static int slot(int encoding) {
        int i = encoding >= 0 && encoding < INDEX.length ? INDEX[encoding] : -1;
        if (i < 0) throw new IllegalArgumentException(String.format("VMCS field 0x%04x is not in XMHF's copy", encoding));
        return i;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = new int[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
