package org.hvlab.machine.cpu;

import static org.hvlab.machine.cpu.Insn.*;

/**
 * x86 instruction decoder for 16-, 32- and 64-bit code (SDM Vol.2 chapter 2 and appendix A).
 * Produces an {@link Insn}; anything it does not know becomes {@link Op#UD}, which raises #UD
 * when executed. Bytes come from {@link Cpu#fetchCode(long)}, which may raise #PF/#GP.
 */
final class Decoder {
    private final Cpu cpu;
    private long start;
    private int pos;
    /** True when the bytes read so far leave the first page. */
    boolean crossedPage;

    Decoder(Cpu cpu) {
        this.cpu = cpu;
    }

    private int next() {
        if (pos >= 15) throw CpuFault.gp0(); // SDM Vol.2 2.3.11: instructions longer than 15 bytes
        long a = start + pos++;
        if (((a ^ start) & ~0xFFFL) != 0) crossedPage = true;
        return cpu.fetchCode(a);
    }

    private long imm8s() { return (byte) next(); }
    private long imm8() { return next(); }
    private long imm16() { return next() | (next() << 8); }
    private long imm32() { return next() | (next() << 8) | (next() << 16) | ((long) next() << 24); }
    private long imm32s() { return (int) imm32(); }
    private long imm64() { return imm32() | (imm32() << 32); }

    /** iz: 16 bits for 16-bit operands, else 32 bits sign-extended. */
    private long immZ(int osz) { return osz == 2 ? imm16() : imm32s(); }

    Insn decode(long linear, int mode) {
        start = linear;
        pos = 0;
        crossedPage = false;
        Insn in = new Insn();
        in.mode = mode;
        in.seg = Segment.DS;
        int prefixes = 0;
        int rex = 0;
        int b;
        // legacy prefixes, then REX (only meaningful immediately before the opcode)
        for (;;) {
            b = next();
            switch (b) {
                case 0xF0 -> { prefixes |= P_LOCK; rex = 0; continue; }
                case 0xF2 -> { prefixes = (prefixes | P_REPNE) & ~P_REP; rex = 0; continue; }
                case 0xF3 -> { prefixes = (prefixes | P_REP) & ~P_REPNE; rex = 0; continue; }
                case 0x66 -> { prefixes |= P_OSIZE; rex = 0; continue; }
                case 0x67 -> { prefixes |= P_ASIZE; rex = 0; continue; }
                case 0x26, 0x2E, 0x36, 0x3E -> {
                    // in 64-bit mode ES/CS/SS/DS overrides are ignored (SDM Vol.1 3.4.2.1)
                    if (mode != MODE64) { in.seg = (b >> 3) & 3; in.segOverride = true; }
                    rex = 0;
                    continue;
                }
                case 0x64, 0x65 -> { in.seg = b - 0x64 + Segment.FS; in.segOverride = true; rex = 0; continue; }
                default -> { }
            }
            if (mode == MODE64 && (b & 0xF0) == 0x40) { rex = b; continue; }
            break;
        }
        if (rex != 0) prefixes |= P_REX | ((rex & 8) != 0 ? P_REXW : 0);
        in.prefixes = prefixes;
        boolean o16 = (prefixes & P_OSIZE) != 0;
        int osz;
        if (mode == MODE64) osz = (rex & 8) != 0 ? 8 : o16 ? 2 : 4;
        else osz = (mode == MODE32) != o16 ? 4 : 2;
        int asz = mode == MODE64 ? ((prefixes & P_ASIZE) != 0 ? 4 : 8)
                : (mode == MODE32) != ((prefixes & P_ASIZE) != 0) ? 4 : 2;
        in.osz = osz;
        in.asz = asz;
        int rexR = (rex & 4) << 1, rexX = (rex & 2) << 2, rexB = (rex & 1) << 3;
        boolean m64 = mode == MODE64;

        if (b == 0x0F) {
            decode0F(in, next(), rex, rexR, rexX, rexB);
        } else {
            in.opcode = b;
            decode1(in, b, rex, rexR, rexX, rexB, m64);
        }
        in.len = pos;
        if (in.lock() && !lockable(in)) {
            in.op = Op.UD; // SDM Vol.2 LOCK: #UD unless a memory-destination read-modify-write
        }
        return in;
    }

    private static boolean lockable(Insn in) {
        if (!in.mem) return false;
        return switch (in.op) {
            case Op.ALU_EG, Op.ALU_EI -> in.sub != 7; // not CMP
            case Op.INC, Op.DEC, Op.NOT, Op.NEG, Op.XCHG, Op.CMPXCHG, Op.XADD, Op.CMPXCHG8B -> true;
            case Op.BT_EG, Op.BT_EI -> in.sub != 0; // BTS, BTR, BTC
            default -> false;
        };
    }

    /** Byte-register number: without REX, 4..7 name AH, CH, DH, BH (16..19). */
    private static int byteReg(int r, int rex) {
        return rex == 0 && r >= 4 && r < 8 ? r + 12 : r;
    }

    private void modrm(Insn in, int rex, int rexR, int rexX, int rexB, boolean byteOps) {
        int m = next();
        in.modrm = m;
        int mod = m >> 6, reg = ((m >> 3) & 7) | rexR, rm = m & 7;
        in.reg = byteOps ? byteReg(reg, rex) : reg;
        if (mod == 3) {
            in.mem = false;
            in.rm = byteOps ? byteReg(rm | rexB, rex) : rm | rexB;
            return;
        }
        in.mem = true;
        if (in.asz == 2) {
            // 16-bit addressing forms (SDM Vol.2 Table 2-1)
            switch (rm) {
                case 0 -> { in.base = 3; in.index = 6; }
                case 1 -> { in.base = 3; in.index = 7; }
                case 2 -> { in.base = 5; in.index = 6; }
                case 3 -> { in.base = 5; in.index = 7; }
                case 4 -> in.base = 6;
                case 5 -> in.base = 7;
                case 6 -> in.base = mod == 0 ? -1 : 5;
                default -> in.base = 3;
            }
            if (mod == 0 && rm == 6) in.disp = (short) imm16();
            else if (mod == 1) in.disp = imm8s();
            else if (mod == 2) in.disp = (short) imm16();
            if (!in.segOverride && in.base == 5) in.seg = Segment.SS;
            return;
        }
        if (rm == 4) {
            int sib = next();
            int ss = sib >> 6, idx = ((sib >> 3) & 7) | rexX, base = sib & 7;
            in.scale = ss;
            in.index = idx == 4 ? -1 : idx;
            if (base == 5 && mod == 0) {
                in.base = -1;
                in.disp = imm32s();
            } else {
                in.base = base | rexB;
            }
        } else if (rm == 5 && mod == 0) {
            in.base = -1;
            in.disp = imm32s();
            in.ripRel = in.mode == MODE64; // SDM Vol.2 2.2.1.6
        } else {
            in.base = rm | rexB;
        }
        if (mod == 1) in.disp = imm8s();
        else if (mod == 2) in.disp = imm32s();
        if (!in.segOverride && in.base >= 0 && ((in.base & 7) == 4 || (in.base & 7) == 5) && in.base < 8) {
            in.seg = Segment.SS; // RSP/RBP-based addressing defaults to SS (R12/R13 do not)
        }
    }

    private static int alu(int b) { return (b >> 3) & 7; }

    private void decode1(Insn in, int b, int rex, int rexR, int rexX, int rexB, boolean m64) {
        int osz = in.osz;
        if (b < 0x40 && (b & 7) < 6) {
            // ALU block 00-3D: ADD OR ADC SBB AND SUB XOR CMP
            in.sub = alu(b);
            switch (b & 7) {
                case 0 -> { in.osz = 1; in.op = Op.ALU_EG; modrm(in, rex, rexR, rexX, rexB, true); }
                case 1 -> { in.op = Op.ALU_EG; modrm(in, rex, rexR, rexX, rexB, false); }
                case 2 -> { in.osz = 1; in.op = Op.ALU_GE; modrm(in, rex, rexR, rexX, rexB, true); }
                case 3 -> { in.op = Op.ALU_GE; modrm(in, rex, rexR, rexX, rexB, false); }
                case 4 -> { in.osz = 1; in.op = Op.ALU_EI; in.rm = 0; in.imm = imm8(); }
                default -> { in.op = Op.ALU_EI; in.rm = 0; in.imm = immZ(osz); }
            }
            return;
        }
        switch (b) {
            case 0x06, 0x0E, 0x16, 0x1E -> { if (m64) { in.op = Op.UD; return; } in.op = Op.PUSH_SREG; in.sub = b >> 3; }
            case 0x07, 0x17, 0x1F -> { if (m64) { in.op = Op.UD; return; } in.op = Op.POP_SREG; in.sub = b >> 3; }
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47 -> { in.op = Op.INC; in.rm = b & 7; }
            case 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F -> { in.op = Op.DEC; in.rm = b & 7; }
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> { in.op = Op.PUSH_R; in.reg = (b & 7) | rexB; in.osz = stackSize(in); }
            case 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F -> { in.op = Op.POP_R; in.reg = (b & 7) | rexB; in.osz = stackSize(in); }
            case 0x60 -> in.op = m64 ? Op.UD : Op.PUSHA;
            case 0x61 -> in.op = m64 ? Op.UD : Op.POPA;
            case 0x63 -> {
                if (!m64) { in.op = Op.UD; return; } // ARPL is not implemented
                in.op = Op.MOVSX; in.sub = 4; modrm(in, rex, rexR, rexX, rexB, false);
            }
            case 0x68 -> { in.op = Op.PUSH_I; in.osz = stackSize(in); in.imm = immZ(in.osz == 2 ? 2 : 4); }
            case 0x6A -> { in.op = Op.PUSH_I; in.osz = stackSize(in); in.imm = imm8s(); }
            case 0x69 -> { in.op = Op.IMUL_GEI; modrm(in, rex, rexR, rexX, rexB, false); in.imm = immZ(osz); }
            case 0x6B -> { in.op = Op.IMUL_GEI; modrm(in, rex, rexR, rexX, rexB, false); in.imm = imm8s(); }
            case 0x6C -> { in.op = Op.INS; in.osz = 1; }
            case 0x6D -> { in.op = Op.INS; if (osz == 8) in.osz = 4; }
            case 0x6E -> { in.op = Op.OUTS; in.osz = 1; }
            case 0x6F -> { in.op = Op.OUTS; if (osz == 8) in.osz = 4; }
            case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F -> {
                in.op = Op.JCC; in.sub = b & 0xF; in.imm = imm8s(); branchSize(in);
            }
            case 0x80, 0x82 -> {
                if (b == 0x82 && m64) { in.op = Op.UD; return; }
                in.osz = 1; modrm(in, rex, rexR, rexX, rexB, true); in.op = Op.ALU_EI; in.sub = in.modrm >> 3 & 7; in.imm = imm8();
            }
            case 0x81 -> { modrm(in, rex, rexR, rexX, rexB, false); in.op = Op.ALU_EI; in.sub = in.modrm >> 3 & 7; in.imm = immZ(osz); }
            case 0x83 -> { modrm(in, rex, rexR, rexX, rexB, false); in.op = Op.ALU_EI; in.sub = in.modrm >> 3 & 7; in.imm = imm8s(); }
            case 0x84 -> { in.osz = 1; in.op = Op.TEST_EG; modrm(in, rex, rexR, rexX, rexB, true); }
            case 0x85 -> { in.op = Op.TEST_EG; modrm(in, rex, rexR, rexX, rexB, false); }
            case 0x86 -> { in.osz = 1; in.op = Op.XCHG; modrm(in, rex, rexR, rexX, rexB, true); }
            case 0x87 -> { in.op = Op.XCHG; modrm(in, rex, rexR, rexX, rexB, false); }
            case 0x88 -> { in.osz = 1; in.op = Op.MOV_EG; modrm(in, rex, rexR, rexX, rexB, true); }
            case 0x89 -> { in.op = Op.MOV_EG; modrm(in, rex, rexR, rexX, rexB, false); }
            case 0x8A -> { in.osz = 1; in.op = Op.MOV_GE; modrm(in, rex, rexR, rexX, rexB, true); }
            case 0x8B -> { in.op = Op.MOV_GE; modrm(in, rex, rexR, rexX, rexB, false); }
            case 0x8C -> { in.op = Op.MOV_E_SREG; modrm(in, rex, rexR, rexX, rexB, false); in.reg &= 7; if (in.reg > 5) in.op = Op.UD; }
            case 0x8D -> { in.op = Op.LEA; modrm(in, rex, rexR, rexX, rexB, false); if (!in.mem) in.op = Op.UD; }
            case 0x8E -> {
                in.op = Op.MOV_SREG_E; in.osz = 2; modrm(in, rex, rexR, rexX, rexB, false); in.reg &= 7;
                if (in.reg > 5 || in.reg == Segment.CS) in.op = Op.UD; // MOV CS is #UD
            }
            case 0x8F -> { in.osz = stackSize(in); modrm(in, rex, rexR, rexX, rexB, false); in.op = (in.modrm >> 3 & 7) == 0 ? Op.POP_E : Op.UD; }
            case 0x90 -> {
                if ((rex & 1) != 0) { in.op = Op.XCHG; in.reg = 0; in.rm = 8; }
                else in.op = (in.prefixes & P_REP) != 0 ? Op.PAUSE : Op.NOP;
            }
            case 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 -> { in.op = Op.XCHG; in.reg = 0; in.rm = (b & 7) | rexB; }
            case 0x98 -> in.op = Op.CBW;
            case 0x99 -> in.op = Op.CWD;
            case 0x9A -> {
                if (m64) { in.op = Op.UD; return; }
                in.op = Op.CALL_FAR_PTR; in.imm = osz == 2 ? imm16() : imm32(); in.imm2 = imm16();
            }
            case 0x9B -> in.op = Op.NOP; // FWAIT: no x87 state to wait for
            case 0x9C -> { in.op = Op.PUSHF; in.osz = stackSize(in); }
            case 0x9D -> { in.op = Op.POPF; in.osz = stackSize(in); }
            case 0x9E -> in.op = Op.SAHF;
            case 0x9F -> in.op = Op.LAHF;
            case 0xA0, 0xA1, 0xA2, 0xA3 -> {
                // MOV with a moffs operand: an absolute address of address-size width
                if ((b & 1) == 0) in.osz = 1;
                in.op = b < 0xA2 ? Op.MOV_GE : Op.MOV_EG;
                in.reg = 0; in.mem = true; in.base = -1;
                in.disp = in.asz == 8 ? imm64() : in.asz == 4 ? imm32() : imm16();
            }
            case 0xA4, 0xA5 -> { in.op = Op.MOVS; if (b == 0xA4) in.osz = 1; }
            case 0xA6, 0xA7 -> { in.op = Op.CMPS; if (b == 0xA6) in.osz = 1; }
            case 0xA8 -> { in.op = Op.TEST_EI; in.osz = 1; in.rm = 0; in.imm = imm8(); }
            case 0xA9 -> { in.op = Op.TEST_EI; in.rm = 0; in.imm = immZ(osz); }
            case 0xAA, 0xAB -> { in.op = Op.STOS; if (b == 0xAA) in.osz = 1; }
            case 0xAC, 0xAD -> { in.op = Op.LODS; if (b == 0xAC) in.osz = 1; }
            case 0xAE, 0xAF -> { in.op = Op.SCAS; if (b == 0xAE) in.osz = 1; }
            case 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7 -> {
                in.op = Op.MOV_EI; in.osz = 1; in.rm = byteReg((b & 7) | rexB, rex); in.imm = imm8();
            }
            case 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF -> {
                in.op = Op.MOV_EI; in.rm = (b & 7) | rexB; in.imm = osz == 8 ? imm64() : osz == 4 ? imm32() : imm16();
            }
            case 0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3 -> {
                boolean byteOp = (b & 1) == 0;
                if (byteOp) in.osz = 1;
                modrm(in, rex, rexR, rexX, rexB, byteOp);
                in.sub = in.modrm >> 3 & 7;
                if (b <= 0xC1) { in.op = Op.SHIFT_EI; in.imm = imm8(); }
                else if (b <= 0xD1) { in.op = Op.SHIFT_EI; in.imm = 1; }
                else in.op = Op.SHIFT_ECL;
            }
            case 0xC2 -> { in.op = Op.RET; in.imm = imm16(); branchSize(in); }
            case 0xC3 -> { in.op = Op.RET; branchSize(in); }
            case 0xC4, 0xC5 -> in.op = Op.UD; // LES/LDS and VEX prefixes are not implemented
            case 0xC6 -> { in.osz = 1; modrm(in, rex, rexR, rexX, rexB, true); in.op = (in.modrm >> 3 & 7) == 0 ? Op.MOV_EI : Op.UD; in.imm = imm8(); }
            case 0xC7 -> { modrm(in, rex, rexR, rexX, rexB, false); in.op = (in.modrm >> 3 & 7) == 0 ? Op.MOV_EI : Op.UD; in.imm = immZ(osz); }
            case 0xC8 -> { in.op = Op.ENTER; in.osz = stackSize(in); in.imm = imm16(); in.imm2 = imm8(); }
            case 0xC9 -> { in.op = Op.LEAVE; in.osz = stackSize(in); }
            case 0xCA -> { in.op = Op.RETF; in.imm = imm16(); }
            case 0xCB -> in.op = Op.RETF;
            case 0xCC -> in.op = Op.INT3;
            case 0xCD -> { in.op = Op.INT; in.imm = imm8(); }
            case 0xCE -> in.op = m64 ? Op.UD : Op.INTO;
            case 0xCF -> in.op = Op.IRET;
            case 0xD7 -> in.op = Op.XLAT;
            case 0xE0, 0xE1, 0xE2, 0xE3 -> { in.op = Op.LOOP; in.sub = b & 3; in.imm = imm8s(); branchSize(in); }
            case 0xE4 -> { in.op = Op.IN_I; in.osz = 1; in.imm = imm8(); }
            case 0xE5 -> { in.op = Op.IN_I; if (osz == 8) in.osz = 4; in.imm = imm8(); }
            case 0xE6 -> { in.op = Op.OUT_I; in.osz = 1; in.imm = imm8(); }
            case 0xE7 -> { in.op = Op.OUT_I; if (osz == 8) in.osz = 4; in.imm = imm8(); }
            case 0xE8 -> { in.op = Op.CALL_REL; branchSize(in); in.imm = in.osz == 2 ? (short) imm16() : imm32s(); }
            case 0xE9 -> { in.op = Op.JMP_REL; branchSize(in); in.imm = in.osz == 2 ? (short) imm16() : imm32s(); }
            case 0xEA -> {
                if (m64) { in.op = Op.UD; return; }
                in.op = Op.JMP_FAR_PTR; in.imm = osz == 2 ? imm16() : imm32(); in.imm2 = imm16();
            }
            case 0xEB -> { in.op = Op.JMP_REL; in.imm = imm8s(); branchSize(in); }
            case 0xEC -> { in.op = Op.IN_DX; in.osz = 1; }
            case 0xED -> { in.op = Op.IN_DX; if (osz == 8) in.osz = 4; }
            case 0xEE -> { in.op = Op.OUT_DX; in.osz = 1; }
            case 0xEF -> { in.op = Op.OUT_DX; if (osz == 8) in.osz = 4; }
            case 0xF1 -> in.op = Op.INT1;
            case 0xF4 -> in.op = Op.HLT;
            case 0xF5 -> in.op = Op.CMC;
            case 0xF6, 0xF7 -> {
                boolean byteOp = b == 0xF6;
                if (byteOp) in.osz = 1;
                modrm(in, rex, rexR, rexX, rexB, byteOp);
                int g = in.modrm >> 3 & 7;
                switch (g) {
                    case 0, 1 -> { in.op = Op.TEST_EI; in.imm = byteOp ? imm8() : immZ(osz); }
                    case 2 -> in.op = Op.NOT;
                    case 3 -> in.op = Op.NEG;
                    case 4 -> in.op = Op.MUL;
                    case 5 -> in.op = Op.IMUL1;
                    case 6 -> in.op = Op.DIV;
                    default -> in.op = Op.IDIV;
                }
            }
            case 0xF8 -> in.op = Op.CLC;
            case 0xF9 -> in.op = Op.STC;
            case 0xFA -> in.op = Op.CLI;
            case 0xFB -> in.op = Op.STI;
            case 0xFC -> in.op = Op.CLD;
            case 0xFD -> in.op = Op.STD;
            case 0xFE -> {
                in.osz = 1; modrm(in, rex, rexR, rexX, rexB, true);
                int g = in.modrm >> 3 & 7;
                in.op = g == 0 ? Op.INC : g == 1 ? Op.DEC : Op.UD;
            }
            case 0xFF -> {
                modrm(in, rex, rexR, rexX, rexB, false);
                int g = in.modrm >> 3 & 7;
                switch (g) {
                    case 0 -> in.op = Op.INC;
                    case 1 -> in.op = Op.DEC;
                    case 2 -> { in.op = Op.CALL_E; branchSize(in); }
                    case 3 -> { in.op = in.mem ? Op.CALL_FAR_M : Op.UD; }
                    case 4 -> { in.op = Op.JMP_E; branchSize(in); }
                    case 5 -> { in.op = in.mem ? Op.JMP_FAR_M : Op.UD; }
                    case 6 -> { in.op = Op.PUSH_E; in.osz = stackSize(in); }
                    default -> in.op = Op.UD;
                }
            }
            default -> in.op = Op.UD; // BCD, BOUND, x87, and everything else not implemented
        }
    }

    /** Stack operations default to 64 bits in 64-bit mode; 66h selects 16 (SDM Vol.1 6.2.5). */
    private static int stackSize(Insn in) {
        if (in.mode == MODE64) return (in.prefixes & P_OSIZE) != 0 ? 2 : 8;
        return in.osz;
    }

    /** Near branches in 64-bit mode always use 64-bit operand size on Intel (66h ignored). */
    private static void branchSize(Insn in) {
        if (in.mode == MODE64) in.osz = 8;
    }

    private void decode0F(Insn in, int b, int rex, int rexR, int rexX, int rexB) {
        in.opcode = 0x0F00 | b;
        boolean m64 = in.mode == MODE64;
        int osz = in.osz;
        int pfx = in.prefixes;
        switch (b) {
            case 0x00 -> {
                in.osz = 2; modrm(in, rex, rexR, rexX, rexB, false);
                switch (in.modrm >> 3 & 7) {
                    case 0 -> { in.op = Op.SLDT; in.osz = in.mem ? 2 : osz; }
                    case 1 -> { in.op = Op.STR; in.osz = in.mem ? 2 : osz; }
                    case 2 -> in.op = Op.LLDT;
                    case 3 -> in.op = Op.LTR;
                    default -> in.op = Op.UD;
                }
            }
            case 0x01 -> {
                modrm(in, rex, rexR, rexX, rexB, false);
                int g = in.modrm >> 3 & 7;
                if (in.mem) {
                    switch (g) {
                        case 0 -> in.op = Op.SGDT;
                        case 1 -> in.op = Op.SIDT;
                        case 2 -> in.op = Op.LGDT;
                        case 3 -> in.op = Op.LIDT;
                        case 4 -> { in.op = Op.SMSW; in.osz = 2; }
                        case 6 -> { in.op = Op.LMSW; in.osz = 2; }
                        case 7 -> in.op = Op.INVLPG;
                        default -> in.op = Op.UD;
                    }
                } else {
                    switch (in.modrm) {
                        case 0xC1, 0xC2, 0xC3, 0xC4 -> { in.op = Op.VMX; in.sub = in.modrm; }
                        case 0xD0 -> in.op = Op.XGETBV;
                        case 0xD1 -> in.op = Op.XSETBV;
                        case 0xF8 -> in.op = m64 ? Op.SWAPGS : Op.UD;
                        case 0xF9 -> in.op = Op.RDTSCP;
                        default -> {
                            if (g == 4) { in.op = Op.SMSW; }
                            else if (g == 6) { in.op = Op.LMSW; in.osz = 2; }
                            else in.op = Op.UD;
                        }
                    }
                }
            }
            case 0x05 -> in.op = m64 ? Op.SYSCALL : Op.UD;
            case 0x06 -> in.op = Op.CLTS;
            case 0x07 -> in.op = m64 ? Op.SYSRET : Op.UD;
            case 0x08 -> in.op = Op.INVD;
            case 0x09 -> in.op = Op.WBINVD;
            case 0x0B -> in.op = Op.UD; // UD2
            case 0x0D, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F -> {
                // PREFETCH hints and the reserved-NOP space (multi-byte NOP is 0F 1F /0)
                modrm(in, rex, rexR, rexX, rexB, false); in.op = Op.NOP;
            }
            case 0x20, 0x21, 0x22, 0x23 -> {
                // MOV to/from control and debug registers: the r/m field always names a register
                int m = next();
                in.modrm = m;
                in.reg = ((m >> 3) & 7) | rexR;
                in.rm = (m & 7) | rexB;
                in.osz = m64 ? 8 : 4;
                in.op = switch (b) { case 0x20 -> Op.MOV_R_CR; case 0x22 -> Op.MOV_CR_R; case 0x21 -> Op.MOV_R_DR; default -> Op.MOV_DR_R; };
            }
            case 0x30 -> in.op = Op.WRMSR;
            case 0x31 -> in.op = Op.RDTSC;
            case 0x32 -> in.op = Op.RDMSR;
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F -> {
                in.op = Op.CMOVCC; in.sub = b & 0xF; modrm(in, rex, rexR, rexX, rexB, false);
            }
            case 0x78, 0x79 -> { modrm(in, rex, rexR, rexX, rexB, false); in.op = Op.VMX; in.sub = in.opcode; in.osz = m64 ? 8 : 4; }
            case 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F -> {
                in.op = Op.JCC; in.sub = b & 0xF; branchSize(in); in.imm = in.osz == 2 ? (short) imm16() : imm32s();
            }
            case 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F -> {
                in.op = Op.SETCC; in.sub = b & 0xF; in.osz = 1; modrm(in, rex, rexR, rexX, rexB, true);
            }
            case 0xA0, 0xA8 -> { in.op = Op.PUSH_SREG; in.sub = b == 0xA0 ? Segment.FS : Segment.GS; in.osz = stackSize(in); }
            case 0xA1, 0xA9 -> { in.op = Op.POP_SREG; in.sub = b == 0xA1 ? Segment.FS : Segment.GS; in.osz = stackSize(in); }
            case 0xA2 -> in.op = Op.CPUID;
            case 0xA3, 0xAB, 0xB3, 0xBB -> {
                in.op = Op.BT_EG; in.sub = (b >> 3) & 3; modrm(in, rex, rexR, rexX, rexB, false);
            }
            case 0xA4, 0xAC -> { in.op = b == 0xA4 ? Op.SHLD : Op.SHRD; modrm(in, rex, rexR, rexX, rexB, false); in.imm = imm8(); in.sub = 1; }
            case 0xA5, 0xAD -> { in.op = b == 0xA5 ? Op.SHLD : Op.SHRD; modrm(in, rex, rexR, rexX, rexB, false); in.sub = 0; }
            case 0xAE -> {
                modrm(in, rex, rexR, rexX, rexB, false);
                int g = in.modrm >> 3 & 7;
                if (!in.mem && g >= 5) in.op = Op.FENCE; // LFENCE, MFENCE, SFENCE
                else if (in.mem && g == 7) { in.op = Op.CLFLUSH; in.osz = 1; }
                else in.op = Op.UD;
            }
            case 0xAF -> { in.op = Op.IMUL_GE; modrm(in, rex, rexR, rexX, rexB, false); }
            case 0xB0 -> { in.op = Op.CMPXCHG; in.osz = 1; modrm(in, rex, rexR, rexX, rexB, true); }
            case 0xB1 -> { in.op = Op.CMPXCHG; modrm(in, rex, rexR, rexX, rexB, false); }
            case 0xB6, 0xB7, 0xBE, 0xBF -> {
                boolean byteSrc = (b & 1) == 0;
                in.op = b < 0xBE ? Op.MOVZX : Op.MOVSX;
                in.sub = byteSrc ? 1 : 2;
                modrm(in, rex, rexR, rexX, rexB, false);
                if (byteSrc && !in.mem) in.rm = byteReg(in.rm, rex);
            }
            case 0xB8 -> {
                modrm(in, rex, rexR, rexX, rexB, false);
                in.op = (pfx & P_REP) != 0 ? Op.POPCNT : Op.UD; // JMPE is not an x86-64 instruction
            }
            case 0xBA -> {
                modrm(in, rex, rexR, rexX, rexB, false);
                int g = in.modrm >> 3 & 7;
                in.imm = imm8();
                if (g < 4) in.op = Op.UD;
                else { in.op = Op.BT_EI; in.sub = g - 4; }
            }
            case 0xBC -> { modrm(in, rex, rexR, rexX, rexB, false); in.op = (pfx & P_REP) != 0 ? Op.TZCNT : Op.BSF; }
            case 0xBD -> { modrm(in, rex, rexR, rexX, rexB, false); in.op = (pfx & P_REP) != 0 ? Op.LZCNT : Op.BSR; }
            case 0xC0 -> { in.op = Op.XADD; in.osz = 1; modrm(in, rex, rexR, rexX, rexB, true); }
            case 0xC1 -> { in.op = Op.XADD; modrm(in, rex, rexR, rexX, rexB, false); }
            case 0xC7 -> {
                modrm(in, rex, rexR, rexX, rexB, false);
                int g = in.modrm >> 3 & 7;
                if (g == 1 && in.mem) { in.op = Op.CMPXCHG8B; in.sub = in.osz == 8 ? 16 : 8; }
                else if ((g == 6 || g == 7) && in.mem) { in.op = Op.VMX; in.sub = 0x0FC700 | g; }
                else in.op = Op.UD;
            }
            case 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF -> { in.op = Op.BSWAP; in.reg = (b & 7) | rexB; }
            case 0x38 -> {
                int b3 = next();
                if (in.mode != Insn.MODE64 || (pfx & P_OSIZE) == 0 || (b3 != 0x80 && b3 != 0x81)) { in.op = Op.UD; return; }
                // INVEPT / INVVPID (66 0F 38 80/81)
                modrm(in, rex, rexR, rexX, rexB, false);
                in.op = Op.VMX; in.sub = 0x0F3800 | b3; in.opcode = 0x0F3800 | b3;
            }
            default -> in.op = Op.UD;
        }
    }
}
