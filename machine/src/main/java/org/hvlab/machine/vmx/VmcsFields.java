package org.hvlab.machine.vmx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The VMCS field table: every field whose index is within the range IA32_VMX_VMCS_ENUM of the
 * supported profiles reports (SDM Vol.3D Appendix B). Each field is declared once, as a named
 * constant with its encoding; the table below gives each constant its SDM name. Code names
 * fields by these constants and looks their width and type up here; no other file writes an
 * encoding in hex (VmcsFieldsTest checks the constants and the table against each other).
 */
public final class VmcsFields {
    // 16-bit control fields (SDM Vol.3D Appendix B)
    public static final int VPID = 0x0000;
    public static final int POSTED_INTERRUPT_NOTIFICATION_VECTOR = 0x0002;
    public static final int EPTP_INDEX = 0x0004;
    // 16-bit guest-state fields (SDM Vol.3D Appendix B)
    public static final int GUEST_ES_SELECTOR = 0x0800;
    public static final int GUEST_CS_SELECTOR = 0x0802;
    public static final int GUEST_SS_SELECTOR = 0x0804;
    public static final int GUEST_DS_SELECTOR = 0x0806;
    public static final int GUEST_FS_SELECTOR = 0x0808;
    public static final int GUEST_GS_SELECTOR = 0x080A;
    public static final int GUEST_LDTR_SELECTOR = 0x080C;
    public static final int GUEST_TR_SELECTOR = 0x080E;
    public static final int GUEST_INTERRUPT_STATUS = 0x0810;
    public static final int PML_INDEX = 0x0812;
    // 16-bit host-state fields (SDM Vol.3D Appendix B)
    public static final int HOST_ES_SELECTOR = 0x0C00;
    public static final int HOST_CS_SELECTOR = 0x0C02;
    public static final int HOST_SS_SELECTOR = 0x0C04;
    public static final int HOST_DS_SELECTOR = 0x0C06;
    public static final int HOST_FS_SELECTOR = 0x0C08;
    public static final int HOST_GS_SELECTOR = 0x0C0A;
    public static final int HOST_TR_SELECTOR = 0x0C0C;
    // 64-bit control fields (SDM Vol.3D Appendix B)
    public static final int IO_BITMAP_A = 0x2000;
    public static final int IO_BITMAP_B = 0x2002;
    public static final int MSR_BITMAP = 0x2004;
    public static final int EXIT_MSR_STORE_ADDRESS = 0x2006;
    public static final int EXIT_MSR_LOAD_ADDRESS = 0x2008;
    public static final int ENTRY_MSR_LOAD_ADDRESS = 0x200A;
    public static final int EXECUTIVE_VMCS_POINTER = 0x200C;
    public static final int PML_ADDRESS = 0x200E;
    public static final int TSC_OFFSET = 0x2010;
    public static final int VIRTUAL_APIC_ADDRESS = 0x2012;
    public static final int APIC_ACCESS_ADDRESS = 0x2014;
    public static final int POSTED_INTERRUPT_DESCRIPTOR_ADDRESS = 0x2016;
    public static final int VM_FUNCTION_CONTROLS = 0x2018;
    public static final int EPT_POINTER = 0x201A;
    public static final int EOI_EXIT_BITMAP_0 = 0x201C;
    public static final int EOI_EXIT_BITMAP_1 = 0x201E;
    public static final int EOI_EXIT_BITMAP_2 = 0x2020;
    public static final int EOI_EXIT_BITMAP_3 = 0x2022;
    public static final int EPTP_LIST_ADDRESS = 0x2024;
    public static final int VMREAD_BITMAP_ADDRESS = 0x2026;
    public static final int VMWRITE_BITMAP_ADDRESS = 0x2028;
    public static final int VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS = 0x202A;
    public static final int XSS_EXITING_BITMAP = 0x202C;
    public static final int ENCLS_EXITING_BITMAP = 0x202E;
    // 64-bit read-only data fields (SDM Vol.3D Appendix B)
    public static final int GUEST_PHYSICAL_ADDRESS = 0x2400;
    // 64-bit guest-state fields (SDM Vol.3D Appendix B)
    public static final int VMCS_LINK_POINTER = 0x2800;
    public static final int GUEST_DEBUGCTL = 0x2802;
    public static final int GUEST_PAT = 0x2804;
    public static final int GUEST_EFER = 0x2806;
    public static final int GUEST_PERF_GLOBAL_CTRL = 0x2808;
    public static final int GUEST_PDPTE0 = 0x280A;
    public static final int GUEST_PDPTE1 = 0x280C;
    public static final int GUEST_PDPTE2 = 0x280E;
    public static final int GUEST_PDPTE3 = 0x2810;
    public static final int GUEST_BNDCFGS = 0x2812;
    public static final int GUEST_RTIT_CTL = 0x2814;
    // 64-bit host-state fields (SDM Vol.3D Appendix B)
    public static final int HOST_PAT = 0x2C00;
    public static final int HOST_EFER = 0x2C02;
    public static final int HOST_PERF_GLOBAL_CTRL = 0x2C04;
    // 32-bit control fields (SDM Vol.3D Appendix B)
    public static final int PIN_BASED_CONTROLS = 0x4000;
    public static final int PROC_BASED_CONTROLS = 0x4002;
    public static final int EXCEPTION_BITMAP = 0x4004;
    public static final int PF_ERROR_CODE_MASK = 0x4006;
    public static final int PF_ERROR_CODE_MATCH = 0x4008;
    public static final int CR3_TARGET_COUNT = 0x400A;
    public static final int EXIT_CONTROLS = 0x400C;
    public static final int EXIT_MSR_STORE_COUNT = 0x400E;
    public static final int EXIT_MSR_LOAD_COUNT = 0x4010;
    public static final int ENTRY_CONTROLS = 0x4012;
    public static final int ENTRY_MSR_LOAD_COUNT = 0x4014;
    public static final int ENTRY_INTERRUPTION_INFO = 0x4016;
    public static final int ENTRY_EXCEPTION_ERROR_CODE = 0x4018;
    public static final int ENTRY_INSTRUCTION_LENGTH = 0x401A;
    public static final int TPR_THRESHOLD = 0x401C;
    public static final int PROC_BASED_CONTROLS2 = 0x401E;
    public static final int PLE_GAP = 0x4020;
    public static final int PLE_WINDOW = 0x4022;
    // 32-bit read-only data fields (SDM Vol.3D Appendix B)
    public static final int VM_INSTRUCTION_ERROR = 0x4400;
    public static final int EXIT_REASON = 0x4402;
    public static final int EXIT_INTERRUPTION_INFO = 0x4404;
    public static final int EXIT_INTERRUPTION_ERROR_CODE = 0x4406;
    public static final int IDT_VECTORING_INFO = 0x4408;
    public static final int IDT_VECTORING_ERROR_CODE = 0x440A;
    public static final int EXIT_INSTRUCTION_LENGTH = 0x440C;
    public static final int EXIT_INSTRUCTION_INFO = 0x440E;
    // 32-bit guest-state fields (SDM Vol.3D Appendix B)
    public static final int GUEST_ES_LIMIT = 0x4800;
    public static final int GUEST_CS_LIMIT = 0x4802;
    public static final int GUEST_SS_LIMIT = 0x4804;
    public static final int GUEST_DS_LIMIT = 0x4806;
    public static final int GUEST_FS_LIMIT = 0x4808;
    public static final int GUEST_GS_LIMIT = 0x480A;
    public static final int GUEST_LDTR_LIMIT = 0x480C;
    public static final int GUEST_TR_LIMIT = 0x480E;
    public static final int GUEST_GDTR_LIMIT = 0x4810;
    public static final int GUEST_IDTR_LIMIT = 0x4812;
    public static final int GUEST_ES_ACCESS_RIGHTS = 0x4814;
    public static final int GUEST_CS_ACCESS_RIGHTS = 0x4816;
    public static final int GUEST_SS_ACCESS_RIGHTS = 0x4818;
    public static final int GUEST_DS_ACCESS_RIGHTS = 0x481A;
    public static final int GUEST_FS_ACCESS_RIGHTS = 0x481C;
    public static final int GUEST_GS_ACCESS_RIGHTS = 0x481E;
    public static final int GUEST_LDTR_ACCESS_RIGHTS = 0x4820;
    public static final int GUEST_TR_ACCESS_RIGHTS = 0x4822;
    public static final int GUEST_INTERRUPTIBILITY = 0x4824;
    public static final int GUEST_ACTIVITY_STATE = 0x4826;
    public static final int GUEST_SMBASE = 0x4828;
    public static final int GUEST_SYSENTER_CS = 0x482A;
    public static final int VMX_PREEMPTION_TIMER_VALUE = 0x482E;
    // 32-bit host-state fields (SDM Vol.3D Appendix B)
    public static final int HOST_SYSENTER_CS = 0x4C00;
    // natural-width control fields (SDM Vol.3D Appendix B)
    public static final int CR0_GUEST_HOST_MASK = 0x6000;
    public static final int CR4_GUEST_HOST_MASK = 0x6002;
    public static final int CR0_READ_SHADOW = 0x6004;
    public static final int CR4_READ_SHADOW = 0x6006;
    public static final int CR3_TARGET_VALUE_0 = 0x6008;
    public static final int CR3_TARGET_VALUE_1 = 0x600A;
    public static final int CR3_TARGET_VALUE_2 = 0x600C;
    public static final int CR3_TARGET_VALUE_3 = 0x600E;
    // natural-width read-only data fields (SDM Vol.3D Appendix B)
    public static final int EXIT_QUALIFICATION = 0x6400;
    public static final int IO_RCX = 0x6402;
    public static final int IO_RSI = 0x6404;
    public static final int IO_RDI = 0x6406;
    public static final int IO_RIP = 0x6408;
    public static final int GUEST_LINEAR_ADDRESS = 0x640A;
    // natural-width guest-state fields (SDM Vol.3D Appendix B)
    public static final int GUEST_CR0 = 0x6800;
    public static final int GUEST_CR3 = 0x6802;
    public static final int GUEST_CR4 = 0x6804;
    public static final int GUEST_ES_BASE = 0x6806;
    public static final int GUEST_CS_BASE = 0x6808;
    public static final int GUEST_SS_BASE = 0x680A;
    public static final int GUEST_DS_BASE = 0x680C;
    public static final int GUEST_FS_BASE = 0x680E;
    public static final int GUEST_GS_BASE = 0x6810;
    public static final int GUEST_LDTR_BASE = 0x6812;
    public static final int GUEST_TR_BASE = 0x6814;
    public static final int GUEST_GDTR_BASE = 0x6816;
    public static final int GUEST_IDTR_BASE = 0x6818;
    public static final int GUEST_DR7 = 0x681A;
    public static final int GUEST_RSP = 0x681C;
    public static final int GUEST_RIP = 0x681E;
    public static final int GUEST_RFLAGS = 0x6820;
    public static final int GUEST_PENDING_DEBUG_EXCEPTIONS = 0x6822;
    public static final int GUEST_SYSENTER_ESP = 0x6824;
    public static final int GUEST_SYSENTER_EIP = 0x6826;
    // natural-width host-state fields (SDM Vol.3D Appendix B)
    public static final int HOST_CR0 = 0x6C00;
    public static final int HOST_CR3 = 0x6C02;
    public static final int HOST_CR4 = 0x6C04;
    public static final int HOST_FS_BASE = 0x6C06;
    public static final int HOST_GS_BASE = 0x6C08;
    public static final int HOST_TR_BASE = 0x6C0A;
    public static final int HOST_GDTR_BASE = 0x6C0C;
    public static final int HOST_IDTR_BASE = 0x6C0E;
    public static final int HOST_SYSENTER_ESP = 0x6C10;
    public static final int HOST_SYSENTER_EIP = 0x6C12;
    public static final int HOST_RSP = 0x6C14;
    public static final int HOST_RIP = 0x6C16;

    /** Each constant above and its SDM name. */
    private static final String TABLE = """
            VPID                                          virtual-processor identifier (VPID)
            POSTED_INTERRUPT_NOTIFICATION_VECTOR          posted-interrupt notification vector
            EPTP_INDEX                                    EPTP index
            GUEST_ES_SELECTOR                             guest ES selector
            GUEST_CS_SELECTOR                             guest CS selector
            GUEST_SS_SELECTOR                             guest SS selector
            GUEST_DS_SELECTOR                             guest DS selector
            GUEST_FS_SELECTOR                             guest FS selector
            GUEST_GS_SELECTOR                             guest GS selector
            GUEST_LDTR_SELECTOR                           guest LDTR selector
            GUEST_TR_SELECTOR                             guest TR selector
            GUEST_INTERRUPT_STATUS                        guest interrupt status
            PML_INDEX                                     PML index
            HOST_ES_SELECTOR                              host ES selector
            HOST_CS_SELECTOR                              host CS selector
            HOST_SS_SELECTOR                              host SS selector
            HOST_DS_SELECTOR                              host DS selector
            HOST_FS_SELECTOR                              host FS selector
            HOST_GS_SELECTOR                              host GS selector
            HOST_TR_SELECTOR                              host TR selector
            IO_BITMAP_A                                   address of I/O bitmap A
            IO_BITMAP_B                                   address of I/O bitmap B
            MSR_BITMAP                                    address of MSR bitmaps
            EXIT_MSR_STORE_ADDRESS                        VM-exit MSR-store address
            EXIT_MSR_LOAD_ADDRESS                         VM-exit MSR-load address
            ENTRY_MSR_LOAD_ADDRESS                        VM-entry MSR-load address
            EXECUTIVE_VMCS_POINTER                        executive-VMCS pointer
            PML_ADDRESS                                   PML address
            TSC_OFFSET                                    TSC offset
            VIRTUAL_APIC_ADDRESS                          virtual-APIC address
            APIC_ACCESS_ADDRESS                           APIC-access address
            POSTED_INTERRUPT_DESCRIPTOR_ADDRESS           posted-interrupt descriptor address
            VM_FUNCTION_CONTROLS                          VM-function controls
            EPT_POINTER                                   EPT pointer
            EOI_EXIT_BITMAP_0                             EOI-exit bitmap 0
            EOI_EXIT_BITMAP_1                             EOI-exit bitmap 1
            EOI_EXIT_BITMAP_2                             EOI-exit bitmap 2
            EOI_EXIT_BITMAP_3                             EOI-exit bitmap 3
            EPTP_LIST_ADDRESS                             EPTP-list address
            VMREAD_BITMAP_ADDRESS                         VMREAD-bitmap address
            VMWRITE_BITMAP_ADDRESS                        VMWRITE-bitmap address
            VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS  virtualization-exception information address
            XSS_EXITING_BITMAP                            XSS-exiting bitmap
            ENCLS_EXITING_BITMAP                          ENCLS-exiting bitmap
            GUEST_PHYSICAL_ADDRESS                        guest-physical address
            VMCS_LINK_POINTER                             VMCS link pointer
            GUEST_DEBUGCTL                                guest IA32_DEBUGCTL
            GUEST_PAT                                     guest IA32_PAT
            GUEST_EFER                                    guest IA32_EFER
            GUEST_PERF_GLOBAL_CTRL                        guest IA32_PERF_GLOBAL_CTRL
            GUEST_PDPTE0                                  guest PDPTE0
            GUEST_PDPTE1                                  guest PDPTE1
            GUEST_PDPTE2                                  guest PDPTE2
            GUEST_PDPTE3                                  guest PDPTE3
            GUEST_BNDCFGS                                 guest IA32_BNDCFGS
            GUEST_RTIT_CTL                                guest IA32_RTIT_CTL
            HOST_PAT                                      host IA32_PAT
            HOST_EFER                                     host IA32_EFER
            HOST_PERF_GLOBAL_CTRL                         host IA32_PERF_GLOBAL_CTRL
            PIN_BASED_CONTROLS                            pin-based VM-execution controls
            PROC_BASED_CONTROLS                           primary processor-based VM-execution controls
            EXCEPTION_BITMAP                              exception bitmap
            PF_ERROR_CODE_MASK                            page-fault error-code mask
            PF_ERROR_CODE_MATCH                           page-fault error-code match
            CR3_TARGET_COUNT                              CR3-target count
            EXIT_CONTROLS                                 VM-exit controls
            EXIT_MSR_STORE_COUNT                          VM-exit MSR-store count
            EXIT_MSR_LOAD_COUNT                           VM-exit MSR-load count
            ENTRY_CONTROLS                                VM-entry controls
            ENTRY_MSR_LOAD_COUNT                          VM-entry MSR-load count
            ENTRY_INTERRUPTION_INFO                       VM-entry interruption-information field
            ENTRY_EXCEPTION_ERROR_CODE                    VM-entry exception error code
            ENTRY_INSTRUCTION_LENGTH                      VM-entry instruction length
            TPR_THRESHOLD                                 TPR threshold
            PROC_BASED_CONTROLS2                          secondary processor-based VM-execution controls
            PLE_GAP                                       PLE_Gap
            PLE_WINDOW                                    PLE_Window
            VM_INSTRUCTION_ERROR                          VM-instruction error
            EXIT_REASON                                   exit reason
            EXIT_INTERRUPTION_INFO                        VM-exit interruption information
            EXIT_INTERRUPTION_ERROR_CODE                  VM-exit interruption error code
            IDT_VECTORING_INFO                            IDT-vectoring information field
            IDT_VECTORING_ERROR_CODE                      IDT-vectoring error code
            EXIT_INSTRUCTION_LENGTH                       VM-exit instruction length
            EXIT_INSTRUCTION_INFO                         VM-exit instruction information
            GUEST_ES_LIMIT                                guest ES limit
            GUEST_CS_LIMIT                                guest CS limit
            GUEST_SS_LIMIT                                guest SS limit
            GUEST_DS_LIMIT                                guest DS limit
            GUEST_FS_LIMIT                                guest FS limit
            GUEST_GS_LIMIT                                guest GS limit
            GUEST_LDTR_LIMIT                              guest LDTR limit
            GUEST_TR_LIMIT                                guest TR limit
            GUEST_GDTR_LIMIT                              guest GDTR limit
            GUEST_IDTR_LIMIT                              guest IDTR limit
            GUEST_ES_ACCESS_RIGHTS                        guest ES access rights
            GUEST_CS_ACCESS_RIGHTS                        guest CS access rights
            GUEST_SS_ACCESS_RIGHTS                        guest SS access rights
            GUEST_DS_ACCESS_RIGHTS                        guest DS access rights
            GUEST_FS_ACCESS_RIGHTS                        guest FS access rights
            GUEST_GS_ACCESS_RIGHTS                        guest GS access rights
            GUEST_LDTR_ACCESS_RIGHTS                      guest LDTR access rights
            GUEST_TR_ACCESS_RIGHTS                        guest TR access rights
            GUEST_INTERRUPTIBILITY                        guest interruptibility state
            GUEST_ACTIVITY_STATE                          guest activity state
            GUEST_SMBASE                                  guest SMBASE
            GUEST_SYSENTER_CS                             guest IA32_SYSENTER_CS
            VMX_PREEMPTION_TIMER_VALUE                    VMX-preemption timer value
            HOST_SYSENTER_CS                              host IA32_SYSENTER_CS
            CR0_GUEST_HOST_MASK                           CR0 guest/host mask
            CR4_GUEST_HOST_MASK                           CR4 guest/host mask
            CR0_READ_SHADOW                               CR0 read shadow
            CR4_READ_SHADOW                               CR4 read shadow
            CR3_TARGET_VALUE_0                            CR3-target value 0
            CR3_TARGET_VALUE_1                            CR3-target value 1
            CR3_TARGET_VALUE_2                            CR3-target value 2
            CR3_TARGET_VALUE_3                            CR3-target value 3
            EXIT_QUALIFICATION                            exit qualification
            IO_RCX                                        I/O RCX
            IO_RSI                                        I/O RSI
            IO_RDI                                        I/O RDI
            IO_RIP                                        I/O RIP
            GUEST_LINEAR_ADDRESS                          guest-linear address
            GUEST_CR0                                     guest CR0
            GUEST_CR3                                     guest CR3
            GUEST_CR4                                     guest CR4
            GUEST_ES_BASE                                 guest ES base
            GUEST_CS_BASE                                 guest CS base
            GUEST_SS_BASE                                 guest SS base
            GUEST_DS_BASE                                 guest DS base
            GUEST_FS_BASE                                 guest FS base
            GUEST_GS_BASE                                 guest GS base
            GUEST_LDTR_BASE                               guest LDTR base
            GUEST_TR_BASE                                 guest TR base
            GUEST_GDTR_BASE                               guest GDTR base
            GUEST_IDTR_BASE                               guest IDTR base
            GUEST_DR7                                     guest DR7
            GUEST_RSP                                     guest RSP
            GUEST_RIP                                     guest RIP
            GUEST_RFLAGS                                  guest RFLAGS
            GUEST_PENDING_DEBUG_EXCEPTIONS                guest pending debug exceptions
            GUEST_SYSENTER_ESP                            guest IA32_SYSENTER_ESP
            GUEST_SYSENTER_EIP                            guest IA32_SYSENTER_EIP
            HOST_CR0                                      host CR0
            HOST_CR3                                      host CR3
            HOST_CR4                                      host CR4
            HOST_FS_BASE                                  host FS base
            HOST_GS_BASE                                  host GS base
            HOST_TR_BASE                                  host TR base
            HOST_GDTR_BASE                                host GDTR base
            HOST_IDTR_BASE                                host IDTR base
            HOST_SYSENTER_ESP                             host IA32_SYSENTER_ESP
            HOST_SYSENTER_EIP                             host IA32_SYSENTER_EIP
            HOST_RSP                                      host RSP
            HOST_RIP                                      host RIP
            """;

    private static final List<VmcsField> ALL;
    /** Fields by encoding (an array, not a map: encodings collide badly in a hash table and VM entry looks them up constantly). */
    private static final VmcsField[] BY_ENCODING = new VmcsField[0x7000];
    /** The value mask of each slot (the field's width). */
    private static final long[] MASK;
    /** Slot of each field in a VMCS's value array, indexed by encoding (all encodings are below 0x7000); -1 if none. */
    private static final short[] SLOT = new short[0x7000];

    static {
        java.util.Arrays.fill(SLOT, (short) -1);
        List<VmcsField> all = new ArrayList<>();
        for (String line : TABLE.strip().split("\n")) {
            String l = line.strip();
            int cut = l.indexOf(' ');
            String name = l.substring(0, cut);
            int enc = encodingOf(name);
            VmcsField f = new VmcsField(enc, l.substring(cut).strip(), name);
            if (BY_ENCODING[enc] != null) throw new ExceptionInInitializerError("duplicate VMCS field " + l);
            BY_ENCODING[enc] = f;
            SLOT[enc] = (short) all.size();
            all.add(f);
        }
        ALL = Collections.unmodifiableList(all);
        MASK = new long[all.size()];
        for (int i = 0; i < MASK.length; i++) MASK[i] = all.get(i).mask();
    }

    private VmcsFields() {}

    /** The encoding of the constant named {@code name}. */
    private static int encodingOf(String name) {
        try {
            return VmcsFields.class.getField(name).getInt(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("VMCS field table names no constant " + name);
        }
    }

    /** The field named by its constant ({@code GUEST_RIP}), or null. */
    public static VmcsField byName(String name) {
        for (VmcsField f : ALL) if (f.name().equals(name)) return f;
        return null;
    }

    public static List<VmcsField> all() {
        return ALL;
    }

    public static int count() {
        return ALL.size();
    }

    /** The field with this full encoding (bit 0 clear), or null. */
    public static VmcsField byEncoding(int encoding) {
        return encoding >= 0 && encoding < BY_ENCODING.length ? BY_ENCODING[encoding] : null;
    }

    /** The value mask (width) of the field in a slot. */
    static long maskOfSlot(int slot) {
        return MASK[slot];
    }

    /** Slot of a field in {@link Vmcs} storage, or -1. */
    public static int slot(int encoding) {
        return encoding >= 0 && encoding < SLOT.length ? SLOT[encoding] : -1;
    }
}
