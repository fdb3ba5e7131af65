package org.hvlab.machine.vmx;

import static org.hvlab.machine.vmx.VmcsFields.*;

import java.util.HashMap;
import java.util.Map;
import org.hvlab.machine.mem.PhysicalMemory;

/**
 * A processor's VMX operation state (SDM Vol.3C 24.1, 24.11.3): whether it is in VMX operation
 * (root or non-root), the VMXON pointer, the current VMCS, and the VMCSs active on it (their
 * data cached on the processor until VMCLEAR writes it back).
 */
public final class VmxState {
    public static final long NO_VMCS = -1L;

    public boolean inVmxOperation;
    public boolean nonRoot;
    /** VM exits of this CPU, failed VM entries included (both load host state and go to host RIP); the run summary's vmExits. */
    public long exits;
    /** Virtual-NMI blocking of the guest (with the "virtual NMIs" control, SDM 25.3). */
    public boolean virtualNmiBlocked;
    public long vmxonPointer = NO_VMCS;

    // Execution controls of the current guest, cached at VM entry: the VMCS cannot change while
    // the guest runs (VMREAD/VMWRITE in VMX non-root operation exit or reach only a shadow VMCS).
    public long pin, proc, proc2;
    /** "enable EPT" and the EPTP; "enable VPID" and the VPID (SDM 24.6.11, 24.6.12). */
    public boolean ept, vpidEnabled;
    public long eptp;
    public int vpid;
    /** An MTF VM exit is pending at the next instruction boundary (SDM 25.5.2). */
    public boolean mtfPending;
    /** The check the last VMLAUNCH/VMRESUME failed, named (null after an entry that passed the checks). */
    public EntryCheckFailure lastEntryFailure;
    /** Instructions + deliveries at VM entry: with "monitor trap flag", any progress past it makes an MTF exit due. */
    public long mtfMark;
    /** Instruction count at which the VMX-preemption timer reaches 0, or -1 (SDM 25.5.1). */
    public long preemptionDeadline = -1;

    /** Caches the execution controls of {@code v} for the guest being entered. */
    public void cacheControls(Vmcs v) {
        pin = v.get(PIN_BASED_CONTROLS);
        proc = v.get(PROC_BASED_CONTROLS);
        proc2 = (proc & VmxControls.PROC_ACTIVATE_SECONDARY) != 0 ? v.get(PROC_BASED_CONTROLS2) : 0;
        ept = (proc2 & VmxControls.PROC2_EPT) != 0;
        eptp = ept ? v.get(EPT_POINTER) : 0;
        vpidEnabled = (proc2 & VmxControls.PROC2_VPID) != 0;
        vpid = vpidEnabled ? (int) v.get(VPID) & 0xFFFF : 0;
    }
    /** The current VMCS, or null (VMPTRST then stores all ones). */
    public Vmcs current;
    /** Active VMCSs by region address; iteration order is never used. */
    private final Map<Long, Vmcs> active = new HashMap<>();

    public long currentPointer() {
        return current == null ? NO_VMCS : current.address;
    }

    /** VMPTRLD: make the VMCS at {@code address} active (reading it in if needed) and current. */
    public Vmcs load(PhysicalMemory mem, long address) {
        Vmcs v = active.get(address);
        if (v == null) {
            v = Vmcs.fromMemory(mem, address);
            active.put(address, v);
        }
        current = v;
        return v;
    }

    /**
     * The VMCS a link pointer names (a shadow VMCS, SDM 24.10): its cached copy if it is active
     * on this processor, else read from memory and made active, as VMPTRLD would.
     */
    public Vmcs linked(PhysicalMemory mem, long address) {
        return active.computeIfAbsent(address, a -> Vmcs.fromMemory(mem, a));
    }

    /** VMCLEAR: write the VMCS back, make it inactive with launch state clear. */
    public void clear(PhysicalMemory mem, long address) {
        Vmcs v = active.remove(address);
        if (v == null) v = Vmcs.fromMemory(mem, address);
        v.launched = false;
        v.flush(mem);
        if (current != null && current.address == address) current = null;
    }

    /** VMXOFF: leave VMX operation (active VMCSs stay cached, as the SDM allows: 30.3 VMXOFF). */
    public void leave() {
        inVmxOperation = false;
        nonRoot = false;
        vmxonPointer = NO_VMCS;
        current = null;
    }

    /** INIT signals are blocked while the processor is in VMX root operation (SDM Vol.3C 23.8). */
    public boolean blocksInit() {
        return inVmxOperation && !nonRoot;
    }
}
