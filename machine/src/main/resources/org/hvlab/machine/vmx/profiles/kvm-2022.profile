# CPU profile "kvm-2022" (the default): the same KVM virtual CPU as seed 003 scanned, as a
# 64-bit KVM reports it: EFER can also write LME (LMA follows LME and paging) and the exit
# controls allow "host address-space size" (bit 9), which a 64-bit host needs (SDM 26.2.4).
# ../shared/design/VMX-FACTS.md "Capability profiles".
name = kvm-2022
msr.0x3a = 0x0000000000000005
msr.0x480 = 0x00d8100011e57ed0
msr.0x481 = 0x0000007f00000016
msr.0x482 = 0xfff9fffe0401e172
msr.0x483 = 0x007fffff00036dff
msr.0x484 = 0x0000f3ff000011ff
msr.0x485 = 0x0000000020000065
msr.0x486 = 0x0000000080000021
msr.0x487 = 0x00000000ffffffff
msr.0x488 = 0x0000000000002000
msr.0x489 = 0x00000000001727ff
msr.0x48a = 0x000000000000002e
msr.0x48b = 0x000078ff00000000
msr.0x48c = 0x00000f0106334041
msr.0x48d = 0x0000007f00000016
msr.0x48e = 0xfff9fffe04006172
msr.0x48f = 0x007fffff00036dfb
msr.0x490 = 0x0000f3ff000011fb
msr.0x491 = 0x0000000000000001
efer.writable = 0x901
# Choices the SDM leaves open (VMX-FACTS.md), as KVM's CPU made them.
choice.nmi-injection-under-sti = fail
choice.nmi-window-under-sti = wait
choice.hlt-nmi-exit-activity = hlt
