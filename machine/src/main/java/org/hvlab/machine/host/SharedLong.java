package org.hvlab.machine.host;

/**
 * A 64-bit memory cell shared by the CPUs (a volatile variable or an atomic in XMHF). Every
 * access is a yield point, so the scheduler can interleave CPUs between any two accesses —
 * which is where the seeds' races live. The atomic operations are atomic because only one
 * coroutine runs at a time and they contain no yield point inside.
 */
public final class SharedLong {
    private final String name;
    private long value;

    public SharedLong(String name, long initial) {
        this.name = name;
        this.value = initial;
    }

    public long get(HostCpu cpu) {
        cpu.yieldPoint();
        return value;
    }

    public void set(HostCpu cpu, long v) {
        cpu.yieldPoint();
        value = v;
    }

    public long incrementAndGet(HostCpu cpu) {
        cpu.yieldPoint();
        return ++value;
    }

    public long decrementAndGet(HostCpu cpu) {
        cpu.yieldPoint();
        return --value;
    }

    public boolean compareAndSet(HostCpu cpu, long expect, long update) {
        cpu.yieldPoint();
        if (value != expect) return false;
        value = update;
        return true;
    }

    /** The value without a yield point, for conditions of {@link HostCpu#spinUntil} and reports. */
    public long peek() {
        return value;
    }

    @Override
    public String toString() {
        return name + "=" + value;
    }
}
