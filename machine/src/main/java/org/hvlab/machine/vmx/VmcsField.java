package org.hvlab.machine.vmx;

/**
 * One VMCS field (SDM Vol.3C 24.11.2 encoding, Vol.3D Appendix B names); {@code name} is its constant
 * in {@link VmcsFields} ({@code GUEST_RIP}).
 */
public record VmcsField(int encoding, String sdmName, String name) {
    public static final int WIDTH_16 = 0, WIDTH_64 = 1, WIDTH_32 = 2, WIDTH_NATURAL = 3;
    public static final int TYPE_CONTROL = 0, TYPE_READ_ONLY = 1, TYPE_GUEST = 2, TYPE_HOST = 3;

    /** Bits 14:13 of the encoding. */
    public int width() {
        return (encoding >> 13) & 3;
    }

    /** Bits 11:10: control, VM-exit information (read-only), guest state, host state. */
    public int type() {
        return (encoding >> 10) & 3;
    }

    /** Bits 9:1. */
    public int index() {
        return (encoding >> 1) & 0x1FF;
    }

    public boolean readOnly() {
        return type() == TYPE_READ_ONLY;
    }

    /** Mask of the bits the field holds (natural width is 64 bits on a 64-bit processor). */
    public long mask() {
        return switch (width()) {
            case WIDTH_16 -> 0xFFFFL;
            case WIDTH_32 -> 0xFFFFFFFFL;
            default -> -1L;
        };
    }

    public String group() {
        return new String[] {"control", "read-only data", "guest state", "host state"}[type()];
    }
}
