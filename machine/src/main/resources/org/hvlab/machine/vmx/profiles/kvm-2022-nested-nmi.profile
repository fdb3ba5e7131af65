# CPU profile "kvm-2022-nested-nmi": the kvm-2022 processor as a hypervisor running in QEMU/KVM
# sees it, seed 000's machine: XMHF in a KVM guest, Linux as XMHF's guest, so VMX non-root
# operation is KVM's nested VMX. It differs from the SDM in one point that matters for NMIs:
# with "NMI exiting" = 1 and "virtual NMIs" = 0, the SDM (Vol.3C 26.6.1, "Interruptibility
# State") keeps blocking by NMI in effect for as long as the processor stays in VMX non-root
# operation, so an NMI that arrives while the guest is NMI-blocked waits for the next VM exit.
# KVM as L0 exits L2 for every NMI its L1 intercepts, whatever L2's blocking by NMI (KVM's
# vmx_nmi_blocked() answers "not blocked" while L1 intercepts NMIs; read for the fact only).
# Seed 000's log shows the consequence: NMIs injected with the guest at the very first
# instruction of Linux's NMI handler, with RSP at the NMI frame, again and again.
name = kvm-2022-nested-nmi
base = kvm-2022
choice.nmi-exit-while-guest-nmi-blocked = exit
