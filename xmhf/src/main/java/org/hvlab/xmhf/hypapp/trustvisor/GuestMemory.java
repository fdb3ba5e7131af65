package org.hvlab.xmhf.hypapp.trustvisor;

import org.hvlab.machine.host.HostCpu;

/**
 * The guest OS's memory as TrustVisor reads it: guest-linear addresses translated through the
 * guest's own 4-level page tables (SDM Vol.3A 4.5) by software, with the permission bits
 * accumulated on the way, so a ring-3 caller can only name memory it can reach itself.
 * Guest-physical = host-physical (EPT01 is an identity map).
 */
final class GuestMemory {
    static final long P = 1, RW = 2, US = 4, PS = 1 << 7;
    static final long ADDR = 0x000FFFFFFFFFF000L;

    /** A translation: guest-physical address, and whether every level allows user and write access. */
    record Walk(long gpa, boolean user, boolean writable) {}

    private final HostCpu cpu;
    private final long cr3;

    GuestMemory(HostCpu cpu, long cr3) {
        this.cpu = cpu;
        this.cr3 = cr3 & ADDR;
    }

    /** The translation of {@code la}, or null when it is not mapped (or not canonical). */
    Walk walk(long la) {
        if (la != ((la << 16) >> 16)) return null;
        long table = cr3;
        boolean user = true, writable = true;
        for (int level = 4; level >= 1; level--) {
            int index = (int) ((la >>> (12 + 9 * (level - 1))) & 0x1FF);
            long e = cpu.read64(table + 8L * index);
            if ((e & P) == 0) return null;
            user &= (e & US) != 0;
            writable &= (e & RW) != 0;
            if (level > 1 && (e & PS) != 0 && level <= 3) {
                long size = 1L << (12 + 9 * (level - 1));
                return new Walk((e & ADDR & ~(size - 1)) | (la & (size - 1)), user, writable);
            }
            table = e & ADDR;
        }
        return new Walk(table | (la & 0xFFF), user, writable);
    }

    /** Reads {@code length} bytes at {@code la}, page by page; null if some page is not mapped (or not user-accessible for a user caller). */
    byte[] read(long la, int length, boolean userCaller) {
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            Walk w = walk(la + done);
            if (w == null || (userCaller && !w.user())) return null;
            int n = (int) Math.min(length - done, 0x1000 - ((la + done) & 0xFFF));
            System.arraycopy(cpu.readBytes(w.gpa(), n), 0, out, done, n);
            done += n;
        }
        return out;
    }

    /** Writes {@code data} at {@code la}; false (nothing written) if some page is not mapped writable. */
    boolean write(long la, byte[] data, boolean userCaller) {
        long[] gpas = new long[(int) (((la & 0xFFF) + data.length + 0xFFF) >>> 12)];
        for (int k = 0, done = 0; done < data.length; k++) {
            Walk w = walk(la + done);
            if (w == null || !w.writable() || (userCaller && !w.user())) return false;
            gpas[k] = w.gpa();
            done += (int) Math.min(data.length - done, 0x1000 - ((la + done) & 0xFFF));
        }
        for (int k = 0, done = 0; done < data.length; k++) {
            int n = (int) Math.min(data.length - done, 0x1000 - ((la + done) & 0xFFF));
            cpu.writeBytes(gpas[k], data, done, n);
            done += n;
        }
        return true;
    }

    long read64(long la, boolean userCaller) {
        byte[] b = read(la, 8, userCaller);
        if (b == null) throw new IllegalStateException("unmapped");
        return java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
