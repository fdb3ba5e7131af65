package org.hvlab.machine.host;

/**
 * A spin lock in the simulator (XMHF's spin locks): acquiring spins at yield points until the
 * owner releases it, so another CPU (or this one's NMI handler) can run meanwhile. Its owner is
 * known, so a deadlock report names who holds what and who waits for it. Not re-entrant:
 * taking a lock this CPU already holds spins forever, as on hardware.
 */
public final class SpinLock {
    final String name;
    HostCpu owner;

    public SpinLock(String name) {
        this.name = name;
    }

    public void lock(HostCpu cpu) {
        cpu.spinUntil(() -> owner == null, "lock " + name, this); // the report names the holder at the time
        owner = cpu;
        cpu.held.add(this);
    }

    /**
     * Takes the lock if it is free and returns true, else returns false at once. One yield
     * point, before the test: nothing runs between the test and the take.
     */
    public boolean tryLock(HostCpu cpu) {
        cpu.yieldPoint();
        if (owner != null) return false;
        owner = cpu;
        cpu.held.add(this);
        return true;
    }

    public void unlock(HostCpu cpu) {
        cpu.yieldPoint();
        if (owner != cpu) throw new HostFault("CPU " + cpu.index() + " released " + name + " which " + (owner == null ? "nobody" : "CPU " + owner.index()) + " holds");
        owner = null;
        cpu.held.remove(this);
    }

    /** The holder, or null. Reading it is not a yield point (it is how reports look at it). */
    public HostCpu owner() {
        return owner;
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name + (owner == null ? " (free)" : " (held by CPU " + owner.index() + ")");
    }
}
