package org.hvlab.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hvlab.machine.boot.ElfImage;
import org.hvlab.machine.boot.ElfImageTest;
import org.hvlab.machine.cpu.TestCpu;
import org.hvlab.machine.sched.ChoiceRecord;
import org.hvlab.machine.sched.RoundRobin;
import org.hvlab.machine.sched.SeededRandom;
import org.junit.jupiter.api.Test;

/** Verdicts of whole runs and their reproducibility from the recorded choices. */
class MachineTest {
    static Machine boot(String asm, int cpus, org.hvlab.machine.sched.ChoiceSource choices, long maxSteps) throws Exception {
        byte[] code = TestCpu.assemble(asm);
        Machine m = new Machine(new MachineConfig(cpus, 64L << 20, maxSteps, choices), null);
        m.load(ElfImage.parse("t", ElfImageTest.elf(0x100000, code, code.length)), "");
        return m;
    }

    @Test
    void haltWithInterruptsOffIsADeadlock() throws Exception {
        Machine m = boot("cli\nhlt", 2, new RoundRobin(10), 1000);
        RunResult r = m.run();
        assertEquals(Outcome.DEADLOCK, r.outcome());
        assertEquals(102, r.exitStatus());
        assertTrue(r.message().contains("CPU 0 halted with interrupts off"), r.message());
        assertTrue(r.message().contains("CPU 1 waiting for SIPI"), r.message());
    }

    @Test
    void faultWithoutIdtIsATripleFault() throws Exception {
        RunResult r = boot("nop\nud2", 1, new RoundRobin(10), 1000).run();
        assertEquals(Outcome.SHUTDOWN, r.outcome());
        assertEquals(101, r.exitStatus());
        assertTrue(r.message().contains("triple fault"), r.message());
        assertTrue(r.message().contains("rip=0x100001"), r.message());
    }

    @Test
    void debugExitStatusIsTheGuestsLowByte() throws Exception {
        RunResult r = boot("mov $0x1234, %eax\nout %eax, $0xf4", 1, new RoundRobin(10), 1000).run();
        assertEquals(Outcome.EXITED, r.outcome());
        assertEquals(0x34, r.exitStatus());
        assertEquals(2, r.steps());
    }

    @Test
    void serialBytesAreCapturedInOrder() throws Exception {
        Machine m = boot("mov $0x3f8, %dx\nmov $'o', %al\nout %al, %dx\nmov $'k', %al\nout %al, %dx\nmov $0x3fd, %dx\nin %dx, %al\nmov %al, %bl\nmov $0, %al\nout %al, $0xf4", 1, new RoundRobin(10), 1000);
        RunResult r = m.run();
        assertEquals("ok", m.serial().text());
        assertEquals(0x60, m.cpu(0).r[3] & 0xFF, "line status: transmitter empty");
        assertTrue(r.passed());
    }

    @Test
    void replayingTheRecordedChoicesReproducesTheRun() throws Exception {
        // two CPUs racing on a shared counter with non-atomic increments: the result depends on the schedule
        String asm = String.join("\n",
                "mov $0xfee00300, %rbx",
                "movl $0x000c4500, (%rbx)", // INIT to all others
                "movl $0x000c4609, (%rbx)", // SIPI vector 9
                "mov $20000, %rcx",
                "1: mov 0x9800, %rax", "inc %rax", "mov %rax, 0x9800", "dec %rcx", "jnz 1b",
                "2: cmpq $1, 0x9808", "jne 2b",
                "mov 0x9800, %rax", "mov $0x3f8, %dx", "out %al, %dx", "mov $0, %al", "out %al, $0xf4");
        // AP code at 0x9000 (real mode): count the same way in 16-bit code, then flag done
        String ap = String.join("\n", ".code16", "mov $20000, %cx", "1: addr32 mov 0x9800, %eax", "inc %eax",
                "addr32 mov %eax, 0x9800", "dec %cx", "jnz 1b", "addr32 movl $1, 0x9808", "cli", "3: hlt", "jmp 3b");
        byte[] apCode = TestCpu.assemble(ap);
        Machine a = boot(asm, 2, new SeededRandom(99, 50), 10_000_000);
        a.memory().writeBytes(0x9000, apCode, 0, apCode.length);
        RunResult ra = a.run();
        assertTrue(ra.passed(), ra.message());
        assertTrue(a.cpu(1).instructions > 20000, "the AP ran its 16-bit loop");
        ChoiceRecord rec = a.scheduler().record();
        Machine b = boot(asm, 2, rec.replay(new RoundRobin(1)), 10_000_000);
        b.memory().writeBytes(0x9000, apCode, 0, apCode.length);
        RunResult rb = b.run();
        assertEquals(a.serial().text(), b.serial().text());
        assertEquals(ra.steps(), rb.steps());
        assertEquals(a.cpu(1).instructions, b.cpu(1).instructions);
        assertEquals(a.memory().read64(0x9800), b.memory().read64(0x9800));
    }
}
