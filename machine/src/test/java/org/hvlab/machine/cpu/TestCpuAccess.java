package org.hvlab.machine.cpu;

import org.hvlab.machine.events.EventBus;

/** TestCpu for tests outside the cpu package: a CPU that runs assembled code. */
public final class TestCpuAccess {
    private final TestCpu t = new TestCpu();

    public EventBus bus() {
        return t.cpu.bus;
    }

    /** Loads {@code asm} at TestCpu.CODE and runs up to {@code n} instructions; returns where the code starts. */
    public long runCode(String asm, int n) {
        t.load(TestCpu.CODE, TestCpu.assemble(asm));
        t.cpu.rip = TestCpu.CODE;
        t.cpu.run(n);
        return TestCpu.CODE;
    }
}
