package org.hvlab.machine.control;

/**
 * Something done to the machine from outside at a scheduling boundary (docs/architecture.md "Run
 * control"): what QMP's {@code inject-nmi}, a debugger's memory and register writes and an
 * injection plan do. Each one applied is recorded with its step, so a session replays.
 */
public sealed interface ExternalEvent {
    /** An NMI at the pin of CPU {@code cpu}, or of every CPU ({@code cpu} = -1), as QEMU's inject-nmi. */
    record Nmi(int cpu) implements ExternalEvent {
        public Nmi {
            if (cpu < -1) throw new IllegalArgumentException("NMI target must be a CPU index or -1 (every CPU), got " + cpu);
        }
    }

    /** Bytes written into guest-physical memory at {@code address}. */
    record WritePhysical(long address, byte[] bytes) implements ExternalEvent {
        public WritePhysical {
            if (address < 0 || bytes.length == 0 || address + bytes.length < address) {
                throw new IllegalArgumentException(String.format("physical write of %d bytes at 0x%x", bytes.length, address));
            }
            bytes = bytes.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof WritePhysical w && w.address == address && java.util.Arrays.equals(w.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(address) * 31 + java.util.Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return String.format("WritePhysical[0x%x, %d bytes]", address, bytes.length);
        }
    }

    /** A general-purpose register ({@code Cpu.RAX}..{@code Cpu.R15}) or RIP ({@link #RIP}) of CPU {@code cpu} set. */
    record WriteRegister(int cpu, int register, long value) implements ExternalEvent {
        public static final int RIP = 16;

        public WriteRegister {
            if (cpu < 0) throw new IllegalArgumentException("register write needs a CPU index, got " + cpu);
            if (register < 0 || register > RIP) throw new IllegalArgumentException("register must be 0-15 (RAX..R15) or 16 (RIP), got " + register);
        }
    }

    /** An event applied at {@code step} (the machine's step count at that boundary). */
    record Applied(long step, ExternalEvent event) {}
}
