package org.hvlab.machine.vmx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The VMCS field table's encodings agree with their names (SDM Vol.3C 24.11.2, Vol.3D Appendix B), and profiles reject bad data. */
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
        assertEquals("primary processor-based VM-execution controls", VmcsFields.byEncoding(VmcsFields.PROC_BASED_CONTROLS).sdmName());
        assertTrue(VmcsFields.byEncoding(VmcsFields.EXIT_REASON).readOnly());
        assertNull(VmcsFields.byEncoding(0x4003));
    }

    /** One declaration per field: every public constant is a table row under its own name, and every row is a constant. */
    @Test
    void theConstantsAndTheTableAreOneVocabulary() throws Exception {
        int constants = 0;
        for (java.lang.reflect.Field c : VmcsFields.class.getFields()) {
            if (c.getType() != int.class || !java.lang.reflect.Modifier.isStatic(c.getModifiers())) continue;
            constants++;
            VmcsField f = VmcsFields.byEncoding(c.getInt(null));
            assertTrue(f != null, c.getName() + " is not in the table");
            assertEquals(c.getName(), f.name());
            assertEquals(f, VmcsFields.byName(c.getName()));
        }
        assertEquals(VmcsFields.count(), constants, "every table row is a constant");
    }

    @Test
    void malformedProfilesNameFileAndLine() {
        var e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("p.profile", "name = x\nmsr.0x480 = zz\n"));
        assertEquals("p.profile:2: bad number 'zz'", e.getMessage());
        e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("p.profile", "name = x\nfrob = 1\n"));
        assertEquals("p.profile:2: unknown key 'frob'", e.getMessage());
        e = assertThrows(CpuProfile.ProfileException.class,
                () -> CpuProfile.parse("p.profile", "name = x\nmsr.0xc0000080 = 0 writable=0x901 preserved=0x901 rule=efer\n"));
        assertTrue(e.getMessage().contains("VMX capability MSR 0x480 missing"), e.getMessage());
    }

    @Test
    void malformedMsrLinesNameFileAndLine() {
        String[][] cases = {
            {"msr.0x10 = 0 writable=0x1 frob=2", "p.profile:2: unknown MSR attribute 'frob=2' (writable=, preserved=, rule=)"},
            {"msr.0x10 = 0 writable=0x1 preserved=0x3", "p.profile:2: preserved bits 0x2 are not writable"},
            {"msr.0x10 = 0 rule=magic", "p.profile:2: unknown MSR rule 'magic'"},
            {"msr.0x11 = 0 rule=tsc", "p.profile:2: rule tsc belongs to MSR 0x10"},
            {"msr.0x10 = 0 writable=0x1 writable=0x1", "p.profile:2: 'writable' given twice"},
            {"msr.0x10 = 0 preserved=0xg", "p.profile:2: bad number '0xg'"},
        };
        for (String[] c : cases) {
            var e = assertThrows(CpuProfile.ProfileException.class, () -> CpuProfile.parse("p.profile", "name = x\n" + c[0] + "\n"));
            assertEquals(c[1], e.getMessage(), c[0]);
        }
    }
}
