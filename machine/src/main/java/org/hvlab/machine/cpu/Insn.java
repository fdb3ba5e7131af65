package org.hvlab.machine.cpu;

/**
 * One decoded instruction, cached per physical code page and re-decoded when the CPU's
 * decode mode differs. Registers are numbered 0..15 (RAX..R15); byte registers AH, CH, DH,
 * BH (no REX prefix) are 16..19.
 */
public final class Insn {
    public static final int MODE16 = 0, MODE32 = 1, MODE64 = 2;
    // prefix bits
    public static final int P_LOCK = 1, P_REP = 2, P_REPNE = 4, P_OSIZE = 8, P_ASIZE = 16, P_REX = 32, P_REXW = 64;

    /** Operation, one of {@link Op}. */
    public int op;
    /** Sub-operation (ALU kind, shift kind, group index) or condition code. */
    public int sub;
    public int mode;
    public int len;
    /** Operand size in bytes: 1, 2, 4 or 8. */
    public int osz;
    /** Address size in bytes: 2, 4 or 8. */
    public int asz;
    public int prefixes;
    /** ModRM.reg with REX.R (or the register in the opcode), possibly a byte register 16..19. */
    public int reg;
    /** ModRM.rm register when {@link #mem} is false. */
    public int rm;
    public boolean mem;
    /** Memory operand: base and index registers (-1 for none), scale shift, displacement. */
    public int base = -1, index = -1, scale;
    public long disp;
    public boolean ripRel;
    /** Effective segment (Segment.ES..GS) for the memory operand or string source. */
    public int seg;
    /** True when a segment override prefix was given. */
    public boolean segOverride;
    public long imm, imm2;
    /** Raw opcode (with 0x0F00 for two-byte opcodes), for traces. */
    public int opcode;
    public int modrm;

    public boolean lock() { return (prefixes & P_LOCK) != 0; }

    @Override
    public String toString() {
        return Op.name(op) + (sub != 0 ? "/" + sub : "") + " osz=" + osz + " len=" + len;
    }
}
