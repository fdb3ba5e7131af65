package org.hvlab.xmhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hvlab.machine.Outcome;
import org.hvlab.xmhf.hypapp.Hypapp;
import org.hvlab.xmhf.runtime.Vcpu;
import org.junit.jupiter.api.Test;

/** XMHF's intercepts that guests do not reach by themselves: the hypapp API and XMHF's halt reports. */
class XmhfInterceptsTest {
    @Test
    void anExceptionTheHypappInterceptsButDoesNotHandleIsXmhfsVmexitExceptionHalt() {
        // a hypapp that intercepts #UD (exception bitmap bit 6) and leaves it to XMHF
        Hypapp interceptUd = new Hypapp() {
            @Override
            public void onStartup(Xmhf xmhf, Vcpu v) {
                v.cpu.vmwrite(org.hvlab.machine.vmx.VmcsFields.EXCEPTION_BITMAP, 1 << 6);
            }
        };
        var r = XmhfRuns.run("exceptions", 1, 1, "", new XmhfOptions(), interceptUd, 50_000_000L);
        assertEquals(Outcome.HYPERVISOR_HALT, r.result().outcome(), r.result().message());
        assertEquals("CPU 0: CPU(0x00): VMEXIT-EXCEPTION, interruption information 0x80000306; HALT", r.result().message());
        String xmhfLines = r.serial().substring(r.serial().indexOf("CPU(0x00): VMEXIT-EXCEPTION:"));
        assertTrue(xmhfLines.startsWith("CPU(0x00): VMEXIT-EXCEPTION:\ncontrol_exception_bitmap=0x00000040\n"
                + "interruption information=0x80000306\nerrorcode=0x00000000\n\tCPU(0x00): RFLAGS=0x"), xmhfLines);
        assertTrue(xmhfLines.contains("\tCS:RIP =0x0008:0x"), xmhfLines);
        assertFalse(xmhfLines.contains("Nested events unhandled"), "no event was being delivered");
    }

    @Test
    void vmxIsHiddenFromTheGuest() {
        // CPUID clears the VMX bit under XMHF, and setting CR4.VMXE is #GP as on a CPU without VMX:
        // vmxbasic's first VMX step faults, and without an IDT that is a triple fault XMHF reports
        var r = XmhfRuns.xmhf("vmxbasic", 1, 1, "", new XmhfOptions());
        assertEquals(Outcome.HYPERVISOR_HALT, r.result().outcome(), r.result().message());
        assertEquals("CPU 0: CPU(0x00): guest triple fault; HALT", r.result().message());
        var m = java.util.regex.Pattern.compile("guest triple fault at guest RIP 0x([0-9a-f]+)").matcher(r.serial());
        assertTrue(m.find(), r.serial());
        long rip = Long.parseLong(m.group(1), 16);
        var mem = r.machine().memory();
        assertEquals(List.of(0x0F, 0x22, 0xE0), List.of(mem.read8(rip), mem.read8(rip + 1), mem.read8(rip + 2)), "MOV %rax, %cr4");
        assertEquals(0x2000, r.machine().cpu(0).r[0] & 0x2000, "the value had VMXE set");
    }

    @Test
    void theMsrScanSeesUnderXmhfWhatItSeesOnTheBareMachine() {
        var bare = XmhfRuns.bare("msrscan", 1, 1, "");
        var under = XmhfRuns.xmhf("msrscan", 1, 1, "", new XmhfOptions());
        assertEquals(0, under.result().exitStatus(), under.result().message() + under.serial());
        // the TSC rows are this run's time (more instructions pass under a hypervisor)
        String a = dropTimeRows(bare.guestSerial()), b = dropTimeRows(under.guestSerial());
        assertEquals(a, b);
        assertTrue(a.lines().count() > 100, "the whole table: " + a.lines().count() + " lines");
    }

    private static String dropTimeRows(String table) {
        StringBuilder sb = new StringBuilder();
        for (String l : table.split("\n")) {
            if (l.startsWith("0x00000010 ") || l.startsWith("0x0000003b ")) continue;
            sb.append(l).append('\n');
        }
        return sb.toString();
    }
}
