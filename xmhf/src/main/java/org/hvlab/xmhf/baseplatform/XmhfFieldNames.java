package org.hvlab.xmhf.baseplatform;

import java.util.HashMap;
import java.util.Map;
import org.hvlab.machine.vmx.VmcsField;
import org.hvlab.machine.vmx.VmcsFields;

/**
 * The names XMHF's software VMCS copy gives the fields ({@code struct _vmx_vmcsfields}), so the
 * VMCS dumps read like the seeds' logs. Keyed by the machine's field constants.
 */
public final class XmhfFieldNames {
    private XmhfFieldNames() {}

    private static final String TABLE = """
            VPID                                          control_vpid
            POSTED_INTERRUPT_NOTIFICATION_VECTOR          control_post_interrupt_notification_vec
            EPTP_INDEX                                    control_eptp_index
            GUEST_ES_SELECTOR                             guest_ES_selector
            GUEST_CS_SELECTOR                             guest_CS_selector
            GUEST_SS_SELECTOR                             guest_SS_selector
            GUEST_DS_SELECTOR                             guest_DS_selector
            GUEST_FS_SELECTOR                             guest_FS_selector
            GUEST_GS_SELECTOR                             guest_GS_selector
            GUEST_LDTR_SELECTOR                           guest_LDTR_selector
            GUEST_TR_SELECTOR                             guest_TR_selector
            GUEST_INTERRUPT_STATUS                        guest_interrupt_status
            PML_INDEX                                     guest_PML_index
            HOST_ES_SELECTOR                              host_ES_selector
            HOST_CS_SELECTOR                              host_CS_selector
            HOST_SS_SELECTOR                              host_SS_selector
            HOST_DS_SELECTOR                              host_DS_selector
            HOST_FS_SELECTOR                              host_FS_selector
            HOST_GS_SELECTOR                              host_GS_selector
            HOST_TR_SELECTOR                              host_TR_selector
            IO_BITMAP_A                                   control_IO_BitmapA_address
            IO_BITMAP_B                                   control_IO_BitmapB_address
            MSR_BITMAP                                    control_MSR_Bitmaps_address
            EXIT_MSR_STORE_ADDRESS                        control_VM_exit_MSR_store_address
            EXIT_MSR_LOAD_ADDRESS                         control_VM_exit_MSR_load_address
            ENTRY_MSR_LOAD_ADDRESS                        control_VM_entry_MSR_load_address
            EXECUTIVE_VMCS_POINTER                        control_Executive_VMCS_pointer
            PML_ADDRESS                                   control_PML_address
            TSC_OFFSET                                    control_TSC_offset
            VIRTUAL_APIC_ADDRESS                          control_virtual_APIC_address
            APIC_ACCESS_ADDRESS                           control_APIC_access_address
            POSTED_INTERRUPT_DESCRIPTOR_ADDRESS           control_posted_interrupt_desc_address
            VM_FUNCTION_CONTROLS                          control_VM_function_controls
            EPT_POINTER                                   control_EPT_pointer
            EOI_EXIT_BITMAP_0                             control_EOI_exit_bitmap_0
            EOI_EXIT_BITMAP_1                             control_EOI_exit_bitmap_1
            EOI_EXIT_BITMAP_2                             control_EOI_exit_bitmap_2
            EOI_EXIT_BITMAP_3                             control_EOI_exit_bitmap_3
            EPTP_LIST_ADDRESS                             control_EPTP_list_address
            VMREAD_BITMAP_ADDRESS                         control_VMREAD_bitmap_address
            VMWRITE_BITMAP_ADDRESS                        control_VMWRITE_bitmap_address
            VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS  control_virt_exception_info_address
            XSS_EXITING_BITMAP                            control_XSS_exiting_bitmap
            ENCLS_EXITING_BITMAP                          control_ENCLS_exiting_bitmap
            GUEST_PHYSICAL_ADDRESS                        guest_paddr
            VMCS_LINK_POINTER                             guest_VMCS_link_pointer
            GUEST_DEBUGCTL                                guest_IA32_DEBUGCTL
            GUEST_PAT                                     guest_IA32_PAT
            GUEST_EFER                                    guest_IA32_EFER
            GUEST_PERF_GLOBAL_CTRL                        guest_IA32_PERF_GLOBAL_CTRL
            GUEST_PDPTE0                                  guest_PDPTE0
            GUEST_PDPTE1                                  guest_PDPTE1
            GUEST_PDPTE2                                  guest_PDPTE2
            GUEST_PDPTE3                                  guest_PDPTE3
            GUEST_BNDCFGS                                 guest_IA32_BNDCFGS
            GUEST_RTIT_CTL                                guest_IA32_RTIT_CTL
            HOST_PAT                                      host_IA32_PAT
            HOST_EFER                                     host_IA32_EFER
            HOST_PERF_GLOBAL_CTRL                         host_IA32_PERF_GLOBAL_CTRL
            PIN_BASED_CONTROLS                            control_VMX_pin_based
            PROC_BASED_CONTROLS                           control_VMX_cpu_based
            EXCEPTION_BITMAP                              control_exception_bitmap
            PF_ERROR_CODE_MASK                            control_pagefault_errorcode_mask
            PF_ERROR_CODE_MATCH                           control_pagefault_errorcode_match
            CR3_TARGET_COUNT                              control_CR3_target_count
            EXIT_CONTROLS                                 control_VM_exit_controls
            EXIT_MSR_STORE_COUNT                          control_VM_exit_MSR_store_count
            EXIT_MSR_LOAD_COUNT                           control_VM_exit_MSR_load_count
            ENTRY_CONTROLS                                control_VM_entry_controls
            ENTRY_MSR_LOAD_COUNT                          control_VM_entry_MSR_load_count
            ENTRY_INTERRUPTION_INFO                       control_VM_entry_interruption_information
            ENTRY_EXCEPTION_ERROR_CODE                    control_VM_entry_exception_errorcode
            ENTRY_INSTRUCTION_LENGTH                      control_VM_entry_instruction_length
            TPR_THRESHOLD                                 control_Task_PRivilege_Threshold
            PROC_BASED_CONTROLS2                          control_VMX_seccpu_based
            PLE_GAP                                       control_PLE_gap
            PLE_WINDOW                                    control_PLE_window
            VM_INSTRUCTION_ERROR                          info_vminstr_error
            EXIT_REASON                                   info_vmexit_reason
            EXIT_INTERRUPTION_INFO                        info_vmexit_interrupt_information
            EXIT_INTERRUPTION_ERROR_CODE                  info_vmexit_interrupt_error_code
            IDT_VECTORING_INFO                            info_IDT_vectoring_information
            IDT_VECTORING_ERROR_CODE                      info_IDT_vectoring_error_code
            EXIT_INSTRUCTION_LENGTH                       info_vmexit_instruction_length
            EXIT_INSTRUCTION_INFO                         info_vmx_instruction_information
            GUEST_ES_LIMIT                                guest_ES_limit
            GUEST_CS_LIMIT                                guest_CS_limit
            GUEST_SS_LIMIT                                guest_SS_limit
            GUEST_DS_LIMIT                                guest_DS_limit
            GUEST_FS_LIMIT                                guest_FS_limit
            GUEST_GS_LIMIT                                guest_GS_limit
            GUEST_LDTR_LIMIT                              guest_LDTR_limit
            GUEST_TR_LIMIT                                guest_TR_limit
            GUEST_GDTR_LIMIT                              guest_GDTR_limit
            GUEST_IDTR_LIMIT                              guest_IDTR_limit
            GUEST_ES_ACCESS_RIGHTS                        guest_ES_access_rights
            GUEST_CS_ACCESS_RIGHTS                        guest_CS_access_rights
            GUEST_SS_ACCESS_RIGHTS                        guest_SS_access_rights
            GUEST_DS_ACCESS_RIGHTS                        guest_DS_access_rights
            GUEST_FS_ACCESS_RIGHTS                        guest_FS_access_rights
            GUEST_GS_ACCESS_RIGHTS                        guest_GS_access_rights
            GUEST_LDTR_ACCESS_RIGHTS                      guest_LDTR_access_rights
            GUEST_TR_ACCESS_RIGHTS                        guest_TR_access_rights
            GUEST_INTERRUPTIBILITY                        guest_interruptibility
            GUEST_ACTIVITY_STATE                          guest_activity_state
            GUEST_SMBASE                                  guest_SMBASE
            GUEST_SYSENTER_CS                             guest_SYSENTER_CS
            VMX_PREEMPTION_TIMER_VALUE                    guest_VMX_preemption_timer_value
            HOST_SYSENTER_CS                              host_SYSENTER_CS
            CR0_GUEST_HOST_MASK                           control_CR0_mask
            CR4_GUEST_HOST_MASK                           control_CR4_mask
            CR0_READ_SHADOW                               control_CR0_shadow
            CR4_READ_SHADOW                               control_CR4_shadow
            CR3_TARGET_VALUE_0                            control_CR3_target0
            CR3_TARGET_VALUE_1                            control_CR3_target1
            CR3_TARGET_VALUE_2                            control_CR3_target2
            CR3_TARGET_VALUE_3                            control_CR3_target3
            EXIT_QUALIFICATION                            info_exit_qualification
            IO_RCX                                        info_IO_RCX
            IO_RSI                                        info_IO_RSI
            IO_RDI                                        info_IO_RDI
            IO_RIP                                        info_IO_RIP
            GUEST_LINEAR_ADDRESS                          info_guest_linear_address
            GUEST_CR0                                     guest_CR0
            GUEST_CR3                                     guest_CR3
            GUEST_CR4                                     guest_CR4
            GUEST_ES_BASE                                 guest_ES_base
            GUEST_CS_BASE                                 guest_CS_base
            GUEST_SS_BASE                                 guest_SS_base
            GUEST_DS_BASE                                 guest_DS_base
            GUEST_FS_BASE                                 guest_FS_base
            GUEST_GS_BASE                                 guest_GS_base
            GUEST_LDTR_BASE                               guest_LDTR_base
            GUEST_TR_BASE                                 guest_TR_base
            GUEST_GDTR_BASE                               guest_GDTR_base
            GUEST_IDTR_BASE                               guest_IDTR_base
            GUEST_DR7                                     guest_DR7
            GUEST_RSP                                     guest_RSP
            GUEST_RIP                                     guest_RIP
            GUEST_RFLAGS                                  guest_RFLAGS
            GUEST_PENDING_DEBUG_EXCEPTIONS                guest_pending_debug_x
            GUEST_SYSENTER_ESP                            guest_SYSENTER_ESP
            GUEST_SYSENTER_EIP                            guest_SYSENTER_EIP
            HOST_CR0                                      host_CR0
            HOST_CR3                                      host_CR3
            HOST_CR4                                      host_CR4
            HOST_FS_BASE                                  host_FS_base
            HOST_GS_BASE                                  host_GS_base
            HOST_TR_BASE                                  host_TR_base
            HOST_GDTR_BASE                                host_GDTR_base
            HOST_IDTR_BASE                                host_IDTR_base
            HOST_SYSENTER_ESP                             host_SYSENTER_ESP
            HOST_SYSENTER_EIP                             host_SYSENTER_EIP
            HOST_RSP                                      host_RSP
            HOST_RIP                                      host_RIP
            """;

    private static final Map<Integer, String> BY_ENCODING = new HashMap<>();

    static {
        for (String line : TABLE.strip().split("\n")) {
            String[] p = line.strip().split(" +");
            VmcsField f = VmcsFields.byName(p[0]);
            if (f == null) throw new ExceptionInInitializerError("XMHF field name table names no VMCS field " + p[0]);
            BY_ENCODING.put(f.encoding(), p[1]);
        }
    }

    /** XMHF's name for the field, or its SDM name if XMHF has none. */
    public static String of(VmcsField f) {
        return BY_ENCODING.getOrDefault(f.encoding(), f.sdmName());
    }
}
