# CPU profile "kvm-2022" (the default): the same KVM virtual CPU as seed 003 scanned, as a
# 64-bit KVM reports it: IA32_EFER can also write LME (writable 0x901; LMA follows LME and paging)
# and the exit controls allow "host address-space size" (bit 9), which a 64-bit host needs
# (SDM 26.2.4). docs/vmx-facts.md "Capability profiles". Every other MSR line equals
# kvm-2022-i386's.
#
# MSR behaviour table (CpuProfile): msr.INDEX = VALUE [writable=MASK] [preserved=MASK] [rule=NAME]
# - VALUE: the value after reset; writable: bits WRMSR may change (none = read-only, every WRMSR
#   is #GP); preserved: bits a write stores (writable bits outside it are accepted and dropped);
#   rule: SDM validity checks or side effects on top of the masks (tsc, tsc-adjust, apic-base,
#   feature-control, efer, pat, mtrr-type, canonical). An MSR without a line is #GP.
# The lines are seed 003's table ("Testing normal MSRs"): its "Value read" is VALUE and, for every
# MSR, its "Bit can write" / "Bit will preserve" columns are exactly what the msrscan guest
# observes under this table. Where a line's masks differ from the columns it says why: the seed's
# 32-bit scanner never flipped bit 31 alone - its flip mask for bit 31 was 0xffffffff80000000 and
# for bits 32-63 it repeated bits 0-31 (see guests/src/main/asm/msrscan.S) - so its columns say
# nothing about single bits 31-63 of MSRs whose bits 63:31 are not all writable; those bits are
# set per the SDM here. Values that are time (TSC, TSC_ADJUST) start at 0.
name = kvm-2022
msr.0x00000000 = 0x0000000000000000
msr.0x00000001 = 0x0000000000000000
# IA32_TSC. The seed read 0x5732c2d0, its time since power-on; hvlab's TSC counts retired
# instructions from 0. A write sets the counter, which keeps counting (so a read-back differs).
msr.0x00000010 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=tsc
msr.0x00000011 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000012 = 0x00000000000e8f61 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000017 = 0x0000000000000000
# IA32_APIC_BASE: BSP flag (8), x2APIC enable (10), enable (11), base bits 35:12 (MAXPHYADDR 36).
# The seed probed bits 31-63 only together; they are set per the SDM. Value: the BSP's.
msr.0x0000001b = 0x00000000fee00900 writable=0x0000000ffffffd00 preserved=0x0000000ffffffd00 rule=apic-base
msr.0x0000002a = 0x0000000000000000
msr.0x0000002c = 0x0000000001000000
msr.0x00000034 = 0x000000000000000b
# IA32_FEATURE_CONTROL: locked, VMXON outside SMX allowed.
msr.0x0000003a = 0x0000000000000005 rule=feature-control
# IA32_TSC_ADJUST. The CPU does not enumerate it (CPUID.(EAX=7,ECX=0):EBX[1] = 0), so writes
# are accepted and dropped, yet it reads the adjustment that TSC writes accumulate. The seed read
# 0xffffffffffe4bdde: what its own TSC probe (row 0x10) had left behind.
msr.0x0000003b = 0x0000000000000000 writable=0xffffffffffffffff rule=tsc-adjust
msr.0x0000008b = 0x0000000100000000 writable=0xffffffffffffffff
msr.0x000000c1 = 0x0000000000000000 writable=0xffffffffffffffff
msr.0x000000c2 = 0x0000000000000000 writable=0xffffffffffffffff
msr.0x000000cd = 0x0000000000000003
msr.0x000000ce = 0x0000000080000000
msr.0x000000fe = 0x0000000000000508
msr.0x0000011e = 0x00000000be702111 writable=0xffffffffffffffff
msr.0x00000140 = 0x0000000000000000 writable=0x0000000000000001 preserved=0x0000000000000001
# IA32_SYSENTER_CS keeps 32 bits (the seed probed bit 31 only together with bits 63:32).
msr.0x00000174 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0x00000000ffffffff
msr.0x00000175 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=canonical
msr.0x00000176 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=canonical
msr.0x00000179 = 0x000000000100010a
msr.0x0000017a = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x0000017b = 0xffffffffffffffff
msr.0x00000186 = 0x0000000000000000 writable=0xffffffffffffffff
msr.0x00000187 = 0x0000000000000000 writable=0xffffffffffffffff
msr.0x00000198 = 0x00000400000003e8
msr.0x00000199 = 0x0000000000000000
msr.0x000001a0 = 0x0000000000000001 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x000001d9 = 0x0000000000000000 writable=0x0000000000000003
msr.0x000001db = 0x0000000000000000
msr.0x000001dc = 0x0000000000000000
msr.0x000001dd = 0x0000000000000000
msr.0x000001de = 0x0000000000000000
msr.0x000001fc = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
# Variable-range MTRRs: PHYSBASE type 7:0 and base 35:12, PHYSMASK valid bit 11 and mask 35:12
# (MAXPHYADDR 36, as the seed's PHYSMASK0 value shows); bits 31-63 set per the SDM.
msr.0x00000200 = 0x0000000080000000 writable=0x0000000ffffff0ff preserved=0x0000000ffffff0ff rule=mtrr-type
msr.0x00000201 = 0x0000000f80000800 writable=0x0000000ffffff800 preserved=0x0000000ffffff800 rule=mtrr-type
msr.0x00000202 = 0x0000000000000000 writable=0x0000000ffffff0ff preserved=0x0000000ffffff0ff rule=mtrr-type
msr.0x00000203 = 0x0000000000000000 writable=0x0000000ffffff800 preserved=0x0000000ffffff800 rule=mtrr-type
msr.0x00000204 = 0x0000000000000000 writable=0x0000000ffffff0ff preserved=0x0000000ffffff0ff rule=mtrr-type
msr.0x00000205 = 0x0000000000000000 writable=0x0000000ffffff800 preserved=0x0000000ffffff800 rule=mtrr-type
msr.0x00000206 = 0x0000000000000000 writable=0x0000000ffffff0ff preserved=0x0000000ffffff0ff rule=mtrr-type
msr.0x00000207 = 0x0000000000000000 writable=0x0000000ffffff800 preserved=0x0000000ffffff800 rule=mtrr-type
msr.0x00000208 = 0x0000000000000000 writable=0x0000000ffffff0ff preserved=0x0000000ffffff0ff rule=mtrr-type
msr.0x00000209 = 0x0000000000000000 writable=0x0000000ffffff800 preserved=0x0000000ffffff800 rule=mtrr-type
msr.0x0000020a = 0x0000000000000000 writable=0x0000000ffffff0ff preserved=0x0000000ffffff0ff rule=mtrr-type
msr.0x0000020b = 0x0000000000000000 writable=0x0000000ffffff800 preserved=0x0000000ffffff800 rule=mtrr-type
msr.0x0000020c = 0x0000000000000000 writable=0x0000000ffffff0ff preserved=0x0000000ffffff0ff rule=mtrr-type
msr.0x0000020d = 0x0000000000000000 writable=0x0000000ffffff800 preserved=0x0000000ffffff800 rule=mtrr-type
msr.0x0000020e = 0x0000000000000000 writable=0x0000000ffffff0ff preserved=0x0000000ffffff0ff rule=mtrr-type
msr.0x0000020f = 0x0000000000000000 writable=0x0000000ffffff800 preserved=0x0000000ffffff800 rule=mtrr-type
# Fixed-range MTRRs: eight type fields each (the seed probed bytes 7:4 only together with bit 31).
msr.0x00000250 = 0x0606060606060606 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x00000258 = 0x0606060606060606 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x00000259 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x00000268 = 0x0505050505050505 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x00000269 = 0x0505050505050505 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x0000026a = 0x0505050505050505 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x0000026b = 0x0505050505050505 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x0000026c = 0x0505050505050505 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x0000026d = 0x0505050505050505 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x0000026e = 0x0505050505050505 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
msr.0x0000026f = 0x0505050505050505 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=mtrr-type
# IA32_PAT: eight PAT entries (the seed probed entries 7:4 only together with bit 31).
msr.0x00000277 = 0x0007040600070406 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=pat
# IA32_MTRR_DEF_TYPE: type 7:0, FE 10, E 11.
msr.0x000002ff = 0x0000000000000c06 writable=0x0000000000000cff preserved=0x0000000000000cff rule=mtrr-type
msr.0x00000402 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000403 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000406 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000407 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x0000040a = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x0000040b = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x0000040e = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x0000040f = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000412 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000413 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000416 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000417 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x0000041a = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x0000041b = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x0000041e = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x0000041f = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000422 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000423 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000426 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000427 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0x00000480 = 0x00d8100011e57ed0
msr.0x00000481 = 0x0000007f00000016
msr.0x00000482 = 0xfff9fffe0401e172
msr.0x00000483 = 0x007fffff00036dff
msr.0x00000484 = 0x0000f3ff000011ff
msr.0x00000485 = 0x0000000020000065
msr.0x00000486 = 0x0000000080000021
msr.0x00000487 = 0x00000000ffffffff
msr.0x00000488 = 0x0000000000002000
msr.0x00000489 = 0x00000000001727ff
msr.0x0000048a = 0x000000000000002e
msr.0x0000048b = 0x000078ff00000000
msr.0x0000048c = 0x00000f0106334041
msr.0x0000048d = 0x0000007f00000016
msr.0x0000048e = 0xfff9fffe04006172
msr.0x0000048f = 0x007fffff00036dfb
msr.0x00000490 = 0x0000f3ff000011fb
msr.0x00000491 = 0x0000000000000001
msr.0x00000606 = 0x0000000000000000
msr.0x00000611 = 0x0000000000000000
msr.0x00000619 = 0x0000000000000000
msr.0x00000639 = 0x0000000000000000
msr.0x00000641 = 0x0000000000000000
msr.0x000006e0 = 0x0000000000000000 writable=0xffffffffffffffff
# IA32_EFER: SCE, LME and NXE (LME only while paging is off); LMA is the processor's.
msr.0xc0000080 = 0x0000000000000000 writable=0x0000000000000901 preserved=0x0000000000000901 rule=efer
msr.0xc0000081 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0xc0000082 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=canonical
msr.0xc0000083 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=canonical
msr.0xc0000084 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff
msr.0xc0000100 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=canonical
msr.0xc0000101 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=canonical
msr.0xc0000102 = 0x0000000000000000 writable=0xffffffffffffffff preserved=0xffffffffffffffff rule=canonical
# IA32_TSC_AUX: 32 bits (bit 31 probed only together with bits 63:32 in the seed).
msr.0xc0000103 = 0x0000000000000000 writable=0x00000000ffffffff preserved=0x00000000ffffffff

# Choices the SDM leaves open (docs/vmx-facts.md), as KVM's CPU made them.
choice.nmi-injection-under-sti = fail
choice.nmi-window-under-sti = wait
choice.hlt-nmi-exit-activity = hlt
# Not an open choice: the SDM's rule (Vol.3C 26.6.1) - with "virtual NMIs" = 0 and "NMI exiting"
# = 1, blocking by NMI holds an NMI back until the next VM exit. See kvm-2022-nested-nmi.
choice.nmi-exit-while-guest-nmi-blocked = held
