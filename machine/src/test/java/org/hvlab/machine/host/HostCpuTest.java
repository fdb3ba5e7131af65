package org.hvlab.machine.host;

import static org.hvlab.machine.vmx.VmcsFields.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.hvlab.machine.Machine;
import org.hvlab.machine.MachineConfig;
import org.hvlab.machine.Outcome;
import org.hvlab.machine.RunResult;
import org.hvlab.machine.boot.BootLoader;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.cpu.TestCpu;
import org.hvlab.machine.sched.RoundRobin;
import org.hvlab.machine.sched.SeededRandom;
import org.junit.jupiter.api.Test;

/** The Java host API (docs/architecture.md): VMX through HostCpu, guest runs, host NMIs, spin locks and deadlock reports. */
class HostCpuTest {
    static final long GUEST = 0x300000;

    static Machine machine(int cpus, long seed) {
        Machine m = new Machine(new MachineConfig(cpus, 64L << 20, 2_000_000, seed < 0 ? new RoundRobin(50) : new SeededRandom(seed, 64)), null);
        var mem = m.memory();
        // the boot protocol's identity map and GDT (what BootLoader writes with an image), plus a TSS descriptor at 0x28
        mem.write64(BootLoader.PML4, BootLoader.PDPT | 3);
        for (int i = 0; i < 4; i++) mem.write64(BootLoader.PDPT + 8L * i, (BootLoader.PD0 + 0x1000L * i) | 3);
        for (long j = 0; j < 2048; j++) mem.write64(BootLoader.PD0 + 8 * j, (j << 21) | 0x83);
        long[] gdt = {0, 0x00209A0000000000L, 0x00CF92000000FFFFL, 0x00CF9A000000FFFFL, 0x00009A000000FFFFL, 0x00008B0000000067L};
        for (int i = 0; i < gdt.length; i++) mem.write64(BootLoader.GDT + 8L * i, gdt[i]);
        return m;
    }

    static void load(Machine m, long at, String asm) {
        byte[] b = TestCpu.assemble(asm);
        m.memory().writeBytes(at, b, 0, b.length);
    }

    @Test
    void aJavaHypervisorRunsAGuestAndHandlesItsExits() {
        Machine m = machine(1, -1);
        load(m, GUEST, "mov $7, %eax\ncpuid\nmov %eax, %ebx\nvmcall\nmov $0x3f8, %dx\nmov $'g', %al\nout %al, %dx\n"
                + "mov $0xf4, %dx\nmov %ebx, %eax\nout %al, %dx");
        List<String> exits = new ArrayList<>();
        m.install(new MiniHypervisor(m) {
            @Override long guestRip(HostCpu cpu) { return GUEST; }

            @Override
            boolean handle(HostCpu cpu, VmEntryResult exit) {
                exits.add(exit.basicReason() + "@" + Long.toHexString(cpu.vmread(GUEST_RIP)));
                Cpu c = cpu.cpu();
                if (exit.basicReason() == 10) c.r[Cpu.RAX] = 0x2A; // emulated CPUID: the guest sees 42
                if (exit.basicReason() == 18) cpu.print("hypercall from the guest\n");
                skip(cpu);
                return true;
            }
        });
        RunResult r = m.run();
        assertEquals(Outcome.EXITED, r.outcome(), r.message());
        assertEquals(42, r.exitStatus(), "the guest exited with the CPUID answer the host gave");
        assertEquals(List.of("10@300005", "18@300009"), exits);
        assertEquals("hypercall from the guest\ng", m.serial().text());
    }

    @Test
    void anNmiExitLeavesHostNmisBlockedUntilIret() {
        Machine m = machine(2, -1);
        load(m, GUEST, "1: pause\njmp 1b");
        SharedLong phase = new SharedLong("phase", 0);
        List<String> seen = new ArrayList<>();
        m.install(new MiniHypervisor(m) {
            int hostNmis;

            @Override long guestRip(HostCpu cpu) {
                return cpu.index() == 0 ? GUEST : -1;
            }

            @Override
            void hostOnly(HostCpu cpu) { // CPU 1: NMI the guest's CPU twice
                cpu.spinUntil(() -> phase.peek() == 1, "the guest to run");
                cpu.sendNmi(0);
                cpu.spinUntil(() -> phase.peek() == 2, "the first NMI exit");
                cpu.sendNmi(0);
                phase.set(cpu, 3);
            }

            @Override
            public void onNmi(HostCpu cpu) {
                hostNmis++;
                seen.add("host NMI");
            }

            @Override
            boolean handle(HostCpu cpu, VmEntryResult exit) {
                if (exit.basicReason() != 0) throw new HostFault("unexpected exit " + exit);
                seen.add(String.format("exit 0 info=0x%x blocked=%b", cpu.vmread(EXIT_INTERRUPTION_INFO), cpu.nmisBlocked()));
                phase.set(cpu, 2);
                cpu.spinUntil(() -> phase.peek() == 3, "the second NMI to be sent");
                seen.add("before iret: host NMIs " + hostNmis);
                cpu.iret();
                seen.add("after iret: host NMIs " + hostNmis);
                cpu.halt("done");
                return false;
            }

            @Override
            void setUpVmx(HostCpu cpu, long rip) {
                super.setUpVmx(cpu, rip);
                w(cpu, 0x4000, cpu.vmread(PIN_BASED_CONTROLS) | 8); // NMI exiting
                phase.set(cpu, 1);
            }
        });
        RunResult r = m.run();
        assertEquals(Outcome.HYPERVISOR_HALT, r.outcome(), r.message());
        assertEquals(List.of("exit 0 info=0x80000202 blocked=true", "before iret: host NMIs 0", "host NMI", "after iret: host NMIs 1"), seen);
    }

    @Test
    void deadlockReportsLocksWaitsAndJavaStacks() {
        Machine m = machine(2, 3);
        SpinLock a = new SpinLock("A"), b = new SpinLock("B");
        SharedLong both = new SharedLong("both", 0);
        m.install(new MiniHypervisor(m) {
            @Override long guestRip(HostCpu cpu) { return -1; }

            @Override
            void hostOnly(HostCpu cpu) {
                SpinLock first = cpu.index() == 0 ? a : b, second = cpu.index() == 0 ? b : a;
                first.lock(cpu);
                both.incrementAndGet(cpu);
                cpu.spinUntil(() -> both.peek() == 2, "the other CPU to take its first lock");
                takeSecond(cpu, second);
            }

            void takeSecond(HostCpu cpu, SpinLock second) {
                second.lock(cpu);
            }
        });
        RunResult r = m.run();
        assertEquals(Outcome.DEADLOCK, r.outcome(), r.message());
        String msg = r.message();
        assertTrue(msg.contains("CPU 0 host waiting for lock B, holding [A], awaiting B held by CPU 1"), msg);
        assertTrue(msg.contains("CPU 1 host waiting for lock A, holding [B], awaiting A held by CPU 0"), msg);
        assertTrue(msg.contains("HostCpuTest$3.takeSecond"), "the Java host stack names the hypervisor's method: " + msg);
        // the same, as data
        org.hvlab.machine.RunEnding.Deadlock d = (org.hvlab.machine.RunEnding.Deadlock) r.ending();
        org.hvlab.machine.RunEnding.HostWait w0 = d.cpus().get(0).host(), w1 = d.cpus().get(1).host();
        assertEquals(org.hvlab.machine.RunEnding.HostActivity.WAITING, w0.activity());
        assertEquals(java.util.List.of("A"), w0.locksHeld());
        assertEquals("B", w0.awaitedLock());
        assertEquals(1, w0.awaitedOwner());
        assertEquals(java.util.List.of("B"), w1.locksHeld());
        assertEquals(0, w1.awaitedOwner());
        assertTrue(d.cpus().get(0).hostFrames().stream().anyMatch(f -> f.contains("takeSecond")), d.cpus().get(0).hostFrames().toString());
    }

    @Test
    void aFaultInHostCodeIsAHypervisorHaltNamingIt() {
        Machine m = machine(1, -1);
        m.install(cpu -> cpu.vmxon(0x600000)); // CR4.VMXE is clear: #UD
        RunResult r = m.run();
        assertEquals(Outcome.HYPERVISOR_HALT, r.outcome());
        assertEquals("CPU 0: hypervisor fault: CPU 0: VMXON raised #UD", r.message());
        assertTrue(((org.hvlab.machine.RunEnding.HypervisorHalt) r.ending()).cause() instanceof org.hvlab.machine.RunEnding.HaltCause.HostFault);
    }

    @Test
    void hostNmiInterruptsASpinAndRunsTheHandlerOnThatCpu() {
        Machine m = machine(2, 11);
        SharedLong flag = new SharedLong("flag", 0);
        List<String> log = new ArrayList<>();
        m.install(new HostSoftware() {
            @Override
            public void start(HostCpu cpu) {
                if (cpu.index() == 0) {
                    cpu.spinUntil(() -> flag.peek() == 1, "the NMI handler");
                    log.add("CPU 0 released by its own NMI handler");
                    cpu.halt("ok");
                } else {
                    cpu.sendNmi(0);
                }
            }

            @Override
            public void onNmi(HostCpu cpu) {
                log.add("NMI on CPU " + cpu.index() + ", NMIs blocked: " + cpu.nmisBlocked());
                flag.set(cpu, 1);
            }
        });
        RunResult r = m.run();
        assertEquals(Outcome.HYPERVISOR_HALT, r.outcome(), r.message());
        assertEquals(List.of("NMI on CPU 0, NMIs blocked: true", "CPU 0 released by its own NMI handler"), log);
    }
}
