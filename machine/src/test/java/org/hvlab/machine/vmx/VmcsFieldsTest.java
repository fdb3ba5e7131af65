package org.hvlab.machine.vmx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The VMCS field table's encodings agree with their names (SDM Vol.3C 25.11.2, Appendix B), and profiles reject bad data. */
class VmcsFieldsTest {
    @Test
    void encodingBitsMatchTheGroupsAndWidths() {
        for (VmcsField f : VmcsFields.all()) {
            assertEquals(0, f.encoding() & 1, f.sdmName() + ": full encodings only");
            assertEquals(0, f.encoding() & ~0x6FFE, f.sdmName() + ": reserved encoding bits clear");
            String n = f.sdmName();
            if (n.startsWith("guest ") && !n.equals("guest-physical address") && !n.equals("guest-linear address")) {
                assertEquals(VmcsField.TYPE_GUEST, f.type(), n);
            }
            if (n.startsWith("host ")) assertEquals(VmcsField.TYPE_HOST, f.type(), n);
            if (n.endsWith(" selector")) assertEquals(VmcsField.WIDTH_16, f.width(), n);
            if (n.endsWith(" limit") || n.endsWith(" access rights")) assertEquals(VmcsField.WIDTH_32, f.width(), n);
            if (n.endsWith(" base") && !n.contains("PML")) assertEquals(VmcsField.WIDTH_NATURAL, f.width(), n);
            assertTrue(f.index() <= 23, n + ": within VMCS_ENUM 0x2e");
        }
        assertEquals("control_VMX_cpu_based", VmcsFields.byEncoding(0x4002).xmhfName());
        assertEquals("info_vmexit_reason", VmcsFields.byEncoding(0x4402).xmhfName());
        assertTrue(VmcsFields.byEncoding(0x4402).readOnly());
        assertNull(VmcsFields.byEncoding(0x4003));
    }

    @Test
    void malformedProfilesNameFileAndLine() {
        var e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("p.profile", "name = x\nmsr.0x480 = zz\n"));
        assertEquals("p.profile:2: bad number 'zz'", e.getMessage());
        e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("p.profile", "name = x\nfrob = 1\n"));
        assertEquals("p.profile:2: unknown key 'frob'", e.getMessage());
        e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("p.profile", "name = x\nefer.writable = 1\n"));
        assertTrue(e.getMessage().contains("VMX capability MSR 0x480 missing"), e.getMessage());
    }
}
