package org.hvlab.xmhf.baseplatform;

import static org.hvlab.machine.vmx.VmcsFields.*;

/** What XMHF adds to the machine's VMX vocabulary: its segment-field groups and the NMI interruption information (control bits are machine.vmx.VmxControls). */
public final class Fields {
    private Fields() {}

    /** Segment fields per register ES, CS, SS, DS, FS, GS: selector, base, limit, access rights. */
    public static final int[][] GUEST_SEGMENTS = {
            {GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_ACCESS_RIGHTS},
            {GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_ACCESS_RIGHTS},
            {GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_ACCESS_RIGHTS},
            {GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_ACCESS_RIGHTS},
            {GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_ACCESS_RIGHTS},
            {GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_ACCESS_RIGHTS}};

    /** Interruption information of an NMI (type 2, vector 2, valid). */
    public static final long NMI_INFO = 0x80000202L;
}
