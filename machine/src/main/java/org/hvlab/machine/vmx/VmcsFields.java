package org.hvlab.machine.vmx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The VMCS field table: every field whose index is within the range IA32_VMX_VMCS_ENUM of the
 * supported profiles reports (SDM Vol.3C Appendix B). Code looks fields up here; nothing else
 * hard-codes an encoding's width or type.
 */
public final class VmcsFields {
    private static final String TABLE = """
            0000 virtual-processor identifier (VPID)            control_vpid
            0002 posted-interrupt notification vector           control_post_interrupt_notification_vec
            0004 EPTP index                                     control_eptp_index
            0800 guest ES selector                              guest_ES_selector
            0802 guest CS selector                              guest_CS_selector
            0804 guest SS selector                              guest_SS_selector
            0806 guest DS selector                              guest_DS_selector
            0808 guest FS selector                              guest_FS_selector
            080A guest GS selector                              guest_GS_selector
            080C guest LDTR selector                            guest_LDTR_selector
            080E guest TR selector                              guest_TR_selector
            0810 guest interrupt status                         guest_interrupt_status
            0812 PML index                                      guest_PML_index
            0C00 host ES selector                               host_ES_selector
            0C02 host CS selector                               host_CS_selector
            0C04 host SS selector                               host_SS_selector
            0C06 host DS selector                               host_DS_selector
            0C08 host FS selector                               host_FS_selector
            0C0A host GS selector                               host_GS_selector
            0C0C host TR selector                               host_TR_selector
            2000 address of I/O bitmap A                        control_IO_BitmapA_address
            2002 address of I/O bitmap B                        control_IO_BitmapB_address
            2004 address of MSR bitmaps                         control_MSR_Bitmaps_address
            2006 VM-exit MSR-store address                      control_VM_exit_MSR_store_address
            2008 VM-exit MSR-load address                       control_VM_exit_MSR_load_address
            200A VM-entry MSR-load address                      control_VM_entry_MSR_load_address
            200C executive-VMCS pointer                         control_Executive_VMCS_pointer
            200E PML address                                    control_PML_address
            2010 TSC offset                                     control_TSC_offset
            2012 virtual-APIC address                           control_virtual_APIC_address
            2014 APIC-access address                            control_APIC_access_address
            2016 posted-interrupt descriptor address            control_posted_interrupt_desc_address
            2018 VM-function controls                           control_VM_function_controls
            201A EPT pointer                                    control_EPT_pointer
            201C EOI-exit bitmap 0                              control_EOI_exit_bitmap_0
            201E EOI-exit bitmap 1                              control_EOI_exit_bitmap_1
            2020 EOI-exit bitmap 2                              control_EOI_exit_bitmap_2
            2022 EOI-exit bitmap 3                              control_EOI_exit_bitmap_3
            2024 EPTP-list address                              control_EPTP_list_address
            2026 VMREAD-bitmap address                          control_VMREAD_bitmap_address
            2028 VMWRITE-bitmap address                         control_VMWRITE_bitmap_address
            202A virtualization-exception information address   control_virt_exception_info_address
            202C XSS-exiting bitmap                             control_XSS_exiting_bitmap
            202E ENCLS-exiting bitmap                           control_ENCLS_exiting_bitmap
            2400 guest-physical address                         guest_paddr
            2800 VMCS link pointer                              guest_VMCS_link_pointer
            2802 guest IA32_DEBUGCTL                            guest_IA32_DEBUGCTL
            2804 guest IA32_PAT                                 guest_IA32_PAT
            2806 guest IA32_EFER                                guest_IA32_EFER
            2808 guest IA32_PERF_GLOBAL_CTRL                    guest_IA32_PERF_GLOBAL_CTRL
            280A guest PDPTE0                                   guest_PDPTE0
            280C guest PDPTE1                                   guest_PDPTE1
            280E guest PDPTE2                                   guest_PDPTE2
            2810 guest PDPTE3                                   guest_PDPTE3
            2812 guest IA32_BNDCFGS                             guest_IA32_BNDCFGS
            2814 guest IA32_RTIT_CTL                            guest_IA32_RTIT_CTL
            2C00 host IA32_PAT                                  host_IA32_PAT
            2C02 host IA32_EFER                                 host_IA32_EFER
            2C04 host IA32_PERF_GLOBAL_CTRL                     host_IA32_PERF_GLOBAL_CTRL
            4000 pin-based VM-execution controls                control_VMX_pin_based
            4002 primary processor-based VM-execution controls  control_VMX_cpu_based
            4004 exception bitmap                               control_exception_bitmap
            4006 page-fault error-code mask                     control_pagefault_errorcode_mask
            4008 page-fault error-code match                    control_pagefault_errorcode_match
            400A CR3-target count                               control_CR3_target_count
            400C VM-exit controls                               control_VM_exit_controls
            400E VM-exit MSR-store count                        control_VM_exit_MSR_store_count
            4010 VM-exit MSR-load count                         control_VM_exit_MSR_load_count
            4012 VM-entry controls                              control_VM_entry_controls
            4014 VM-entry MSR-load count                        control_VM_entry_MSR_load_count
            4016 VM-entry interruption-information field        control_VM_entry_interruption_information
            4018 VM-entry exception error code                  control_VM_entry_exception_errorcode
            401A VM-entry instruction length                    control_VM_entry_instruction_length
            401C TPR threshold                                  control_Task_PRivilege_Threshold
            401E secondary processor-based VM-execution controls control_VMX_seccpu_based
            4020 PLE_Gap                                        control_PLE_gap
            4022 PLE_Window                                     control_PLE_window
            4400 VM-instruction error                           info_vminstr_error
            4402 exit reason                                    info_vmexit_reason
            4404 VM-exit interruption information               info_vmexit_interrupt_information
            4406 VM-exit interruption error code                info_vmexit_interrupt_error_code
            4408 IDT-vectoring information field                info_IDT_vectoring_information
            440A IDT-vectoring error code                       info_IDT_vectoring_error_code
            440C VM-exit instruction length                     info_vmexit_instruction_length
            440E VM-exit instruction information                info_vmx_instruction_information
            4800 guest ES limit                                 guest_ES_limit
            4802 guest CS limit                                 guest_CS_limit
            4804 guest SS limit                                 guest_SS_limit
            4806 guest DS limit                                 guest_DS_limit
            4808 guest FS limit                                 guest_FS_limit
            480A guest GS limit                                 guest_GS_limit
            480C guest LDTR limit                               guest_LDTR_limit
            480E guest TR limit                                 guest_TR_limit
            4810 guest GDTR limit                               guest_GDTR_limit
            4812 guest IDTR limit                               guest_IDTR_limit
            4814 guest ES access rights                         guest_ES_access_rights
            4816 guest CS access rights                         guest_CS_access_rights
            4818 guest SS access rights                         guest_SS_access_rights
            481A guest DS access rights                         guest_DS_access_rights
            481C guest FS access rights                         guest_FS_access_rights
            481E guest GS access rights                         guest_GS_access_rights
            4820 guest LDTR access rights                       guest_LDTR_access_rights
            4822 guest TR access rights                         guest_TR_access_rights
            4824 guest interruptibility state                   guest_interruptibility
            4826 guest activity state                           guest_activity_state
            4828 guest SMBASE                                   guest_SMBASE
            482A guest IA32_SYSENTER_CS                         guest_SYSENTER_CS
            482E VMX-preemption timer value                     guest_VMX_preemption_timer_value
            4C00 host IA32_SYSENTER_CS                          host_SYSENTER_CS
            6000 CR0 guest/host mask                            control_CR0_mask
            6002 CR4 guest/host mask                            control_CR4_mask
            6004 CR0 read shadow                                control_CR0_shadow
            6006 CR4 read shadow                                control_CR4_shadow
            6008 CR3-target value 0                             control_CR3_target0
            600A CR3-target value 1                             control_CR3_target1
            600C CR3-target value 2                             control_CR3_target2
            600E CR3-target value 3                             control_CR3_target3
            6400 exit qualification                             info_exit_qualification
            6402 I/O RCX                                        info_IO_RCX
            6404 I/O RSI                                        info_IO_RSI
            6406 I/O RDI                                        info_IO_RDI
            6408 I/O RIP                                        info_IO_RIP
            640A guest-linear address                           info_guest_linear_address
            6800 guest CR0                                      guest_CR0
            6802 guest CR3                                      guest_CR3
            6804 guest CR4                                      guest_CR4
            6806 guest ES base                                  guest_ES_base
            6808 guest CS base                                  guest_CS_base
            680A guest SS base                                  guest_SS_base
            680C guest DS base                                  guest_DS_base
            680E guest FS base                                  guest_FS_base
            6810 guest GS base                                  guest_GS_base
            6812 guest LDTR base                                guest_LDTR_base
            6814 guest TR base                                  guest_TR_base
            6816 guest GDTR base                                guest_GDTR_base
            6818 guest IDTR base                                guest_IDTR_base
            681A guest DR7                                      guest_DR7
            681C guest RSP                                      guest_RSP
            681E guest RIP                                      guest_RIP
            6820 guest RFLAGS                                   guest_RFLAGS
            6822 guest pending debug exceptions                 guest_pending_debug_x
            6824 guest IA32_SYSENTER_ESP                        guest_SYSENTER_ESP
            6826 guest IA32_SYSENTER_EIP                        guest_SYSENTER_EIP
            6C00 host CR0                                       host_CR0
            6C02 host CR3                                       host_CR3
            6C04 host CR4                                       host_CR4
            6C06 host FS base                                   host_FS_base
            6C08 host GS base                                   host_GS_base
            6C0A host TR base                                   host_TR_base
            6C0C host GDTR base                                 host_GDTR_base
            6C0E host IDTR base                                 host_IDTR_base
            6C10 host IA32_SYSENTER_ESP                         host_SYSENTER_ESP
            6C12 host IA32_SYSENTER_EIP                         host_SYSENTER_EIP
            6C14 host RSP                                       host_RSP
            6C16 host RIP                                       host_RIP
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
            int enc = Integer.parseInt(l.substring(0, 4), 16);
            String rest = l.substring(5);
            int cut = rest.lastIndexOf(' ');
            VmcsField f = new VmcsField(enc, rest.substring(0, cut).strip(), rest.substring(cut + 1));
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
