package org.hvlab.machine.cpu;

/** Operation identifiers of decoded instructions; the interpreter switches on them. */
public final class Op {
    private Op() {}

    public static final int UD = 0,
            ALU_EG = 1, ALU_GE = 2, ALU_EI = 3, TEST_EG = 4, TEST_EI = 5,
            INC = 6, DEC = 7, NOT = 8, NEG = 9, MUL = 10, IMUL1 = 11, DIV = 12, IDIV = 13,
            IMUL_GE = 14, IMUL_GEI = 15,
            MOV_EG = 16, MOV_GE = 17, MOV_EI = 18, MOV_E_SREG = 19, MOV_SREG_E = 20,
            MOV_R_CR = 21, MOV_CR_R = 22, MOV_R_DR = 23, MOV_DR_R = 24,
            MOVZX = 25, MOVSX = 26, LEA = 27, XCHG = 28, CMPXCHG = 29, XADD = 30, CMPXCHG8B = 31,
            SHIFT_EI = 32, SHIFT_ECL = 33, SHLD = 34, SHRD = 35,
            BT_EG = 36, BT_EI = 37, BSF = 38, BSR = 39, TZCNT = 40, LZCNT = 41, POPCNT = 42,
            SETCC = 43, CMOVCC = 44, JCC = 45, JMP_REL = 46, JMP_E = 47, JMP_FAR_PTR = 48, JMP_FAR_M = 49,
            CALL_REL = 50, CALL_E = 51, CALL_FAR_PTR = 52, CALL_FAR_M = 53, RET = 54, RETF = 55, LOOP = 56,
            PUSH_R = 57, POP_R = 58, PUSH_I = 59, PUSH_E = 60, POP_E = 61, PUSHF = 62, POPF = 63,
            PUSH_SREG = 64, POP_SREG = 65, PUSHA = 66, POPA = 67, ENTER = 68, LEAVE = 69,
            MOVS = 70, STOS = 71, LODS = 72, CMPS = 73, SCAS = 74, INS = 75, OUTS = 76,
            CBW = 77, CWD = 78, CLC = 79, STC = 80, CMC = 81, CLD = 82, STD = 83, CLI = 84, STI = 85,
            SAHF = 86, LAHF = 87, NOP = 88, PAUSE = 89, HLT = 90, INT = 91, INT3 = 92, INTO = 93, IRET = 94,
            IN_I = 95, IN_DX = 96, OUT_I = 97, OUT_DX = 98, CPUID = 99, RDMSR = 100, WRMSR = 101,
            RDTSC = 102, RDTSCP = 103, LGDT = 104, LIDT = 105, SGDT = 106, SIDT = 107, LTR = 108, STR = 109,
            LLDT = 110, SLDT = 111, LMSW = 112, SMSW = 113, INVLPG = 114, WBINVD = 115, INVD = 116, CLTS = 117,
            SWAPGS = 118, SYSCALL = 119, SYSRET = 120, XLAT = 121, BSWAP = 122, FENCE = 123, CLFLUSH = 124,
            VMX = 125, XSETBV = 126, XGETBV = 127, INT1 = 128,
            COUNT = 129;

    private static final String[] NAMES = new String[COUNT];

    static {
        try {
            for (var f : Op.class.getFields()) {
                if (f.getType() == int.class && !f.getName().equals("COUNT")) NAMES[f.getInt(null)] = f.getName();
            }
        } catch (IllegalAccessException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public static String name(int op) {
        return op >= 0 && op < COUNT && NAMES[op] != null ? NAMES[op] : "op" + op;
    }
}
