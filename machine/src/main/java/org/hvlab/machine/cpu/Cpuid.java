package org.hvlab.machine.cpu;

/**
 * CPUID leaves of the simulated processor: what it reports is what the interpreter implements
 * (no x87/SSE, so those bits are clear). Capability profiles (VT-x issue) may replace leaves.
 */
public final class Cpuid {
    /** Physical address width reported in leaf 0x80000008 and used for reserved-bit checks. */
    public static final int MAXPHYADDR = 39;

    private Cpuid() {}

    /** Returns {eax, ebx, ecx, edx}. */
    public static int[] query(Cpu cpu, int leaf, int subleaf) {
        int cpus = cpu.cpuCount();
        return switch (leaf) {
            case 0 -> new int[] {0xD, 0x756E6547, 0x6C65746E, 0x49656E69}; // "GenuineIntel"
            case 1 -> new int[] {
                    0x000906EA, // family 6 model 0x9E stepping 10
                    (cpu.apicId() << 24) | ((cpus & 0xFF) << 16) | (8 << 8),
                    // ECX: 5 VMX (enabled with the VT-x issue), 13 CMPXCHG16B, 21 x2APIC, 23 POPCNT
                    (1 << 5) | (1 << 13) | (1 << 21) | (1 << 23),
                    // EDX: 3 PSE 4 TSC 5 MSR 6 PAE 8 CX8 9 APIC 12 MTRR 13 PGE 15 CMOV 16 PAT 17 PSE36 19 CLFSH 28 HTT
                    (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 12) | (1 << 13)
                            | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 19) | (cpus > 1 ? 1 << 28 : 0)};
            case 7 -> subleaf == 0 ? new int[] {0, 1 << 3, 0, 0} : new int[4]; // EBX 3: BMI1 (TZCNT)
            case 0xB -> subleaf == 0 ? new int[] {0, 1, 0x100, cpu.apicId()}
                    : subleaf == 1 ? new int[] {8, cpus, 0x201, cpu.apicId()} : new int[] {0, 0, subleaf, cpu.apicId()};
            case 0x80000000 -> new int[] {0x80000008, 0, 0, 0};
            // ECX: 0 LAHF in 64-bit mode, 5 LZCNT; EDX: 11 SYSCALL 20 NX 26 1 GiB pages 27 RDTSCP 29 LM
            case 0x80000001 -> new int[] {0, 0, 1 | (1 << 5), (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29)};
            case 0x80000002 -> str("hvlab x86-64 sim");
            case 0x80000003 -> str("ulated CPU      ");
            case 0x80000004 -> str("                ");
            case 0x80000008 -> new int[] {(48 << 8) | MAXPHYADDR, 0, 0, 0};
            default -> new int[4];
        };
    }

    private static int[] str(String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int[] r = new int[4];
        for (int i = 0; i < 16; i++) r[i / 4] |= (b[i] & 0xFF) << (8 * (i % 4));
        return r;
    }
}
