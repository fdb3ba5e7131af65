package org.hvlab.xmhf.hypapp.trustvisor;

import static org.hvlab.machine.vmx.VmcsFields.*;
import static org.hvlab.machine.vmx.VmxControls.*;
import static org.hvlab.xmhf.baseplatform.Fields.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.hvlab.machine.cpu.Cpu;
import org.hvlab.machine.host.HostCpu;
import org.hvlab.xmhf.hypapp.Hypapp;
import org.hvlab.xmhf.runtime.Vcpu;

/**
 * TrustVisor, XMHF's main hypapp (docs/xmhf-facts.md; seed 001): pieces of application code (PALs)
 * registered by the guest OS run isolated from it. While a PAL is registered its pages are out
 * of EPT01, so the OS cannot touch them; the OS calls a PAL by jumping to its entry point,
 * which faults in EPT (an EPT violation at a whitelisted entry point starts the PAL); the PAL
 * runs on TrustVisor's own guest page tables and EPT, which hold nothing but its sections, with
 * every exception intercepted and guest NMIs blocked; it returns to a sentinel address its page
 * tables do not map, and that page fault (intercepted like every exception in a PAL) ends it. Parameters are copied in and out. Every switch is done under a quiesce, as XMHF64's
 * TrustVisor does.
 *
 * <p>The guest's interface (hvlab's, modelled on TrustVisor's; guests/src/main/asm/paldemo.S):
 * <pre>
 * VMCALL RAX=1 (register)   RBX = descriptor, RCX = entry point (guest-virtual); RAX = 0 or an error
 * VMCALL RAX=2 (unregister) RBX = entry point;                                   RAX = 0 or an error
 * descriptor, little-endian u64s:
 *   +0   number of sections (1-8)
 *   +8   8 x {type, gva, size}: type 1 code, 2 data, 3 stack, 4 parameters; page-aligned gva and size
 *   +200 number of parameters (0-10)
 *   +208 10 x {type, size}: type 1 integer, 2 pointer to {@code size} bytes (1-4096) copied in and out
 * call: a plain CALL of the entry point with the System V AMD64 convention (parameters 1-6 in
 * RDI RSI RDX RCX R8 R9, 7-10 on the stack), result in RAX. Pointer parameters point into the
 * PAL's parameter section while it runs.
 * </pre>
 * Errors (RAX): 1 malformed descriptor, 2 a section page not mapped (writable, user-accessible
 * for a ring-3 caller), 3 bad layout (not one stack section, pointers without a parameter
 * section or larger than it, entry point outside code, overlapping sections, more than 64
 * pages), 4 a page already protected or not plain guest RAM, 5 TrustVisor out of memory,
 * 6 no PAL at that entry point, 7 the PAL is running, 8 hypercall from inside a PAL. A call
 * whose pointer parameter cannot be read returns -1 to the caller without running the PAL.
 * An OS access to a PAL's memory other than a call gets #GP(0).
 */
public final class TrustVisor implements Hypapp {
    public static final int HC_REG = 1, HC_UNREG = 2;
    public static final long E_DESC = 1, E_UNMAPPED = 2, E_LAYOUT = 3, E_INUSE = 4, E_NOMEM = 5, E_NOTFOUND = 6, E_BUSY = 7,
            E_INPAL = 8;
    static final int MAX_SECTIONS = 8, MAX_PARAMS = 10, MAX_PAGES = 64, DESC_SIZE = 368;
    /** The return address a PAL sees: never mapped (sections start at page 1 or higher). */
    static final long RETURN_SENTINEL = 0x10;
    private static final int[] PARAM_REGS = {Cpu.RDI, Cpu.RSI, Cpu.RDX, Cpu.RCX, 8, 9}; // R8, R9

    /** What a CPU saved of its OS when it entered a PAL. */
    private static final class Ctx {
        Pal pal;
        long osCr3, osRsp, retAddr, osExceptionBitmap, osEptp, osRflags;
        boolean userCaller;
        /** Pointer parameters: {OS address, PAL address, size}. */
        final List<long[]> pointers = new ArrayList<>();
    }

    private final List<Pal> whitelist = new ArrayList<>();
    private final BitSet poolUsed = new BitSet();
    private Ctx[] ctx;
    private int nextId;
    /** PAL calls and returns so far, PALs registered from ring 3, for summaries, tests and benchmarks. */
    private long entries, exits, userRegistrations, registrations, unregistrations;

    @Override
    public void onStartup(Xmhf x, Vcpu v) {
        synchronized (this) {
            if (ctx == null) {
                ctx = new Ctx[x.cpus()];
                for (int i = 0; i < ctx.length; i++) ctx[i] = new Ctx();
            }
        }
    }

    public long palEntries() {
        return entries;
    }

    public long palExits() {
        return exits;
    }

    public long registrations() {
        return registrations;
    }

    public long unregistrations() {
        return unregistrations;
    }

    public long userRegistrations() {
        return userRegistrations;
    }

    // ---- hypercalls

    @Override
    public boolean onHypercall(Xmhf x, Vcpu v) {
        Cpu cpu = v.cpu.cpu();
        int fn = (int) cpu.r[Cpu.RAX];
        if (fn != HC_REG && fn != HC_UNREG) return false;
        long result;
        if (ctx[v.cpu.index()].pal != null) {
            tv(x, v, "scode_hypercall", "hypercall from inside PAL " + ctx[v.cpu.index()].pal.id);
            result = E_INPAL;
        } else if (fn == HC_REG) {
            result = register(x, v, cpu.r[Cpu.RBX], cpu.r[Cpu.RCX]);
        } else {
            result = unregister(x, v, cpu.r[Cpu.RBX]);
        }
        cpu.r[Cpu.RAX] = result;
        v.vmcs.write(GUEST_RIP, v.vmcs.read(GUEST_RIP) + v.vmcs.read(EXIT_INSTRUCTION_LENGTH));
        return true;
    }

    private static boolean userMode(Vcpu v) {
        return (v.vmcs.read(GUEST_CS_SELECTOR) & 3) == 3;
    }

    private long register(Xmhf x, Vcpu v, long descGva, long entry) {
        HostCpu c = v.cpu;
        boolean user = userMode(v);
        long gcr3 = v.vmcs.read(GUEST_CR3) & GuestMemory.ADDR;
        GuestMemory os = new GuestMemory(c, gcr3);
        byte[] raw = os.read(descGva, DESC_SIZE, user);
        if (raw == null) return fail(x, v, "scode_register", "descriptor at 0x" + Long.toHexString(descGva) + " is not readable", E_DESC);
        ByteBuffer d = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        long ns = d.getLong(0), np = d.getLong(200);
        if (ns < 1 || ns > MAX_SECTIONS || np < 0 || np > MAX_PARAMS) return fail(x, v, "scode_register", "bad section or parameter count", E_DESC);
        List<Pal.Section> sections = new ArrayList<>();
        int pages = 0;
        for (int i = 0; i < ns; i++) {
            int type = (int) d.getLong(8 + 24 * i);
            long gva = d.getLong(16 + 24 * i), size = d.getLong(24 + 24 * i);
            if (type < Pal.CODE || type > Pal.PARAM || size <= 0 || ((gva | size) & 0xFFF) != 0 || size > (long) MAX_PAGES << 12 || gva == 0) {
                return fail(x, v, "scode_register", "section " + i + " malformed", E_DESC);
            }
            pages += (int) (size >>> 12);
            if (pages > MAX_PAGES) return fail(x, v, "scode_register", "more than " + MAX_PAGES + " pages", E_LAYOUT);
            long[] gpas = new long[(int) (size >>> 12)];
            for (int k = 0; k < gpas.length; k++) {
                GuestMemory.Walk w = os.walk(gva + 0x1000L * k);
                if (w == null || (user && !w.user()) || (type != Pal.CODE && !w.writable())) {
                    return fail(x, v, "scode_register", String.format("section %d page 0x%x not mapped for the caller", i, gva + 0x1000L * k), E_UNMAPPED);
                }
                gpas[k] = w.gpa() & ~0xFFFL;
            }
            sections.add(new Pal.Section(type, gva, size, gpas));
        }
        List<Pal.Param> params = new ArrayList<>();
        int pointerBytes = 0;
        for (int i = 0; i < np; i++) {
            int type = (int) d.getLong(208 + 16 * i);
            long size = d.getLong(216 + 16 * i);
            if (type == Pal.POINTER && (size < 1 || size > 4096)) return fail(x, v, "scode_register", "parameter " + i + " size", E_DESC);
            if (type != Pal.INTEGER && type != Pal.POINTER) return fail(x, v, "scode_register", "parameter " + i + " type", E_DESC);
            params.add(new Pal.Param(type, (int) size));
            if (type == Pal.POINTER) pointerBytes += (int) ((size + 15) & ~15);
        }
        // layout: one stack, at most one parameter section big enough, entry in code, no overlaps
        int stacks = 0, paramSections = 0;
        boolean entryInCode = false;
        for (int i = 0; i < sections.size(); i++) {
            Pal.Section s = sections.get(i);
            if (s.type() == Pal.STACK) stacks++;
            if (s.type() == Pal.PARAM) paramSections++;
            if (s.type() == Pal.CODE && s.contains(entry)) entryInCode = true;
            for (int j = 0; j < i; j++) {
                Pal.Section t = sections.get(j);
                if (s.gva() < t.gva() + t.size() && t.gva() < s.gva() + s.size()) return fail(x, v, "scode_register", "sections overlap", E_LAYOUT);
            }
        }
        Pal.Section ps = null;
        for (Pal.Section s : sections) if (s.type() == Pal.PARAM) ps = s;
        if (stacks != 1 || paramSections > 1 || !entryInCode || (pointerBytes > 0 && (ps == null || pointerBytes > ps.size()))) {
            return fail(x, v, "scode_register", "bad layout (one stack section, parameters fitting their section, entry point in code)", E_LAYOUT);
        }
        java.util.Set<Long> distinct = new java.util.HashSet<>();
        for (Pal.Section s : sections) for (long g : s.gpas()) if (!distinct.add(g)) return fail(x, v, "scode_register", "a page is mapped twice", E_LAYOUT);

        // the PAL's own page tables and EPT, before anything is published
        PalTables t = new PalTables(c, x.memory(), poolUsed);
        long pml4 = t.newPage();
        boolean ok = pml4 >= 0;
        for (Pal.Section s : sections) {
            for (int k = 0; ok && k < s.gpas().length; k++) ok = t.mapGuest(pml4, s.gva() + 0x1000L * k, s.gpas()[k], s.type() != Pal.CODE, user);
        }
        List<Long> guestTables = new ArrayList<>();
        for (int i : t.pages) guestTables.add(x.memory().hypappPage(i));
        long eptPml4 = ok ? t.newPage() : -1;
        ok &= eptPml4 >= 0;
        for (Pal.Section s : sections) {
            long perms = s.type() == Pal.CODE ? PalTables.EPT_R | PalTables.EPT_X : PalTables.EPT_R | PalTables.EPT_W;
            for (int k = 0; ok && k < s.gpas().length; k++) ok = t.mapEpt(eptPml4, s.gpas()[k], perms);
        }
        for (int k = 0; ok && k < guestTables.size(); k++) ok = t.mapEpt(eptPml4, guestTables.get(k), PalTables.EPT_R | PalTables.EPT_W);
        if (!ok) {
            t.release();
            return fail(x, v, "scode_register", "out of memory for the PAL's page tables", E_NOMEM);
        }
        GuestMemory.Walk e = os.walk(entry);
        long entryP = e.gpa();
        Pal pal = new Pal(0, gcr3, entry, entryP, user, sections, params, new ArrayList<>(t.pages), pml4, eptPml4 | 6 | (3 << 3));

        // publish: the pages leave EPT01 on every CPU (quiesce, INVEPT)
        x.smpGuest().quiesce(v);
        long result = 0;
        for (Pal other : whitelist) for (long g : distinct) if (other.ownsPage(g)) result = E_INUSE;
        if (result == 0 && !x.ept().setAbsent(c, distinct, true)) result = E_INUSE;
        Pal published = null;
        if (result == 0) {
            published = new Pal(++nextId, pal.gcr3, pal.entryV, pal.entryP, pal.user, pal.sections, pal.params, pal.poolPages, pal.palCr3, pal.eptp);
            whitelist.add(published);
            x.smpGuest().markEptChanged(v);
            // the isolation oracle: from now on only the PAL's EPT may reach these pages
            c.watchPages(distinct, published.eptp & ~0xFFFL);
        }
        x.smpGuest().endQuiesce(v);
        if (result != 0) {
            t.release();
            return fail(x, v, "scode_register", "a page is already protected or not guest RAM", result);
        }
        c.invept(1, v.eptp01);
        registrations++;
        if (user) userRegistrations++;
        c.trace("PAL registered", "PAL " + published.id + String.format(" entry 0x%x", entry) + (user ? " (ring 3)" : ""));
        return 0;
    }

    private long unregister(Xmhf x, Vcpu v, long entry) {
        HostCpu c = v.cpu;
        long gcr3 = v.vmcs.read(GUEST_CR3) & GuestMemory.ADDR;
        x.smpGuest().quiesce(v);
        Pal pal = null;
        for (Pal p : whitelist) if (p.entryV == entry && p.gcr3 == gcr3) pal = p;
        long result = pal == null ? E_NOTFOUND : pal.runningOn >= 0 ? E_BUSY : 0;
        if (result == 0) {
            java.util.Set<Long> pages = new java.util.HashSet<>();
            for (Pal.Section s : pal.sections) for (long g : s.gpas()) pages.add(g);
            x.ept().setAbsent(c, pages, false);
            c.watchPages(pages, -1);
            whitelist.remove(pal);
            for (int i : pal.poolPages) poolUsed.clear(i);
            x.smpGuest().markEptChanged(v);
        }
        x.smpGuest().endQuiesce(v);
        if (result == E_NOTFOUND) return fail(x, v, "scode_unregister", String.format("no PAL at entry point 0x%x", entry), result);
        if (result == E_BUSY) return fail(x, v, "scode_unregister", "PAL " + pal.id + " is running", result);
        c.invept(1, v.eptp01);
        // the freed pool pages may come back as another PAL's EPT: no translation of this one may stay cached
        c.invept(1, pal.eptp);
        unregistrations++;
        c.trace("PAL unregistered", "PAL " + pal.id);
        return 0;
    }

    private long fail(Xmhf x, Vcpu v, String function, String what, long error) {
        tv(x, v, function, what);
        return error;
    }

    private static void tv(Xmhf x, Vcpu v, String function, String what) {
        x.printf(v, "TV[3]:scode.c:" + function + ": " + what + "\n");
    }

    // ---- EPT violations: PAL entry, PAL return, everything else

    @Override
    public boolean onEptViolation(Xmhf x, Vcpu v, long gpa, long q) {
        Ctx k = ctx[v.cpu.index()];
        long rip = v.vmcs.read(GUEST_RIP);
        boolean fetch = (q & 4) != 0;
        if (k.pal != null) {
            tv(x, v, "hpt_scode_npf", String.format("PAL %d touched 0x%x outside its sections (rip 0x%x)", k.pal.id, gpa, rip));
            throw v.halt("TV: PAL memory violation; HALT");
        }
        long gcr3 = v.vmcs.read(GUEST_CR3) & GuestMemory.ADDR;
        boolean linearValid = (q & (1 << 7)) != 0;
        long la = linearValid ? v.vmcs.read(GUEST_LINEAR_ADDRESS) : -1;
        // the PAL is looked up by the faulting instruction's address, as scode_in_list(gcr3, rip) does
        Pal pal = null;
        if (fetch) for (Pal p : whitelist) if (p.gcr3 == gcr3 && p.at(rip) != null) pal = p;
        if (pal != null) {
            if (rip != pal.entryV || gpa != pal.entryP) {
                x.printf(v, "TV[3]:scode.c:hpt_scode_npf:1359:                  EU_CHK( ((whitelist[*curr].entry_v == rip) && "
                        + "(whitelist[*curr].entry_p == gpaddr))) failed\n"
                        + "TV[3]:scode.c:hpt_scode_npf:1359:                  Invalid entry point\n"
                        + String.format("TV[3]:scode.c:hpt_scode_npf: rip 0x%x gpaddr 0x%x; PAL %d entry_v 0x%x entry_p 0x%x\n",
                                rip, gpa, pal.id, pal.entryV, pal.entryP));
                throw v.halt("TV: Invalid entry point; HALT");
            }
            switchToPal(x, v, k, pal); // (whether it runs elsewhere is checked there, under quiesce)
            return true;
        }
        // any other OS access to a PAL's memory is refused
        for (Pal p : whitelist) {
            if (p.ownsPage(gpa) || (la >= 0 && p.gcr3 == gcr3 && p.at(la) != null)) {
                tv(x, v, "hpt_scode_npf", String.format("OS access to PAL %d memory at 0x%x (rip 0x%x) refused", p.id, gpa, rip));
                v.vmcs.write(ENTRY_INTERRUPTION_INFO, 0x80000B0DL);
                v.vmcs.write(ENTRY_EXCEPTION_ERROR_CODE, 0);
                return true;
            }
        }
        return false;
    }

    /**
     * The PAL's return: the instruction fetch at the sentinel page-faults (SDM Vol.3C 27.1: the
     * #PF exits before delivery, CR2 untouched, the address in the exit qualification). Any
     * other exception in a PAL gets XMHF's VMEXIT-EXCEPTION report and halt, as on XMHF64.
     */
    @Override
    public boolean onException(Xmhf x, Vcpu v, long interruptionInfo, long errorCode) {
        Ctx k = ctx[v.cpu.index()];
        if (k.pal == null || (interruptionInfo & 0x800007FFL) != 0x8000030EL) return false;
        if (v.vmcs.read(GUEST_RIP) != RETURN_SENTINEL || v.vmcs.read(EXIT_QUALIFICATION) != RETURN_SENTINEL) return false;
        if ((v.vmcs.read(IDT_VECTORING_INFO) & 0x80000000L) != 0) return false;
        v.vmcs.write(GUEST_RIP, k.retAddr);
        switchToRegular(x, v, k);
        return true;
    }

    // ---- the switches (scode.c hpt_scode_switch_scode / hpt_scode_switch_regular)

    private void switchToPal(Xmhf x, Vcpu v, Ctx k, Pal pal) {
        HostCpu c = v.cpu;
        Cpu cpu = c.cpu();
        // everything below under quiesce: the PAL cannot be unregistered or entered elsewhere meanwhile
        x.smpGuest().quiesce(v);
        if (!whitelist.contains(pal)) {
            // unregistered by another CPU since the lookup: its pages are the OS's again, the fetch is retried as plain code
            x.smpGuest().endQuiesce(v);
            c.invept(1, v.eptp01);
            return;
        }
        if (pal.runningOn >= 0) {
            x.smpGuest().endQuiesce(v);
            tv(x, v, "hpt_scode_npf", "PAL " + pal.id + " already runs on CPU " + pal.runningOn);
            throw v.halt("TV: PAL entered twice; HALT");
        }
        GuestMemory os = new GuestMemory(c, pal.gcr3);
        boolean user = userMode(v);
        long osRsp = v.vmcs.read(GUEST_RSP);
        byte[] frame = os.read(osRsp, 8 + 8 * Math.max(0, pal.params.size() - PARAM_REGS.length), user);
        if (frame == null) {
            x.smpGuest().endQuiesce(v);
            tv(x, v, "hpt_scode_switch_scode", "caller's stack not readable");
            throw v.halt("TV: PAL call without a readable stack; HALT");
        }
        ByteBuffer st = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
        long ret = st.getLong(0);
        // parameters in: integers as they are, pointed-to buffers copied into the parameter section
        Pal.Section ps = pal.section(Pal.PARAM);
        long[] values = new long[pal.params.size()];
        k.pointers.clear();
        long off = 0;
        for (int i = 0; i < values.length; i++) {
            long val = i < PARAM_REGS.length ? cpu.r[PARAM_REGS[i]] : st.getLong(8 + 8 * (i - PARAM_REGS.length));
            Pal.Param p = pal.params.get(i);
            if (p.type() == Pal.POINTER) {
                byte[] buf = os.read(val, p.size(), user);
                if (buf == null) {
                    x.smpGuest().endQuiesce(v);
                    tv(x, v, "hpt_scode_switch_scode", String.format("parameter %d at 0x%x not readable: the call returns -1", i, val));
                    cpu.r[Cpu.RAX] = -1L;
                    v.vmcs.write(GUEST_RIP, ret);
                    v.vmcs.write(GUEST_RSP, osRsp + 8);
                    return;
                }
                long palAddr = ps.gva() + off;
                writePal(c, ps, palAddr, buf);
                k.pointers.add(new long[] {val, palAddr, p.size()});
                off += (p.size() + 15) & ~15;
                val = palAddr;
            }
            values[i] = val;
        }
        // the PAL's stack: the sentinel return address, then parameters 7-10; RSP = 8 mod 16 as after a CALL
        Pal.Section stack = pal.section(Pal.STACK);
        int nStack = Math.max(0, values.length - PARAM_REGS.length);
        long palRsp = stack.gva() + stack.size() - 8L * (1 + nStack) - (nStack % 2 == 1 ? 8 : 0);
        ByteBuffer ps2 = ByteBuffer.allocate(8 * (1 + nStack)).order(ByteOrder.LITTLE_ENDIAN);
        ps2.putLong(RETURN_SENTINEL);
        for (int i = PARAM_REGS.length; i < values.length; i++) ps2.putLong(values[i]);
        writePal(c, stack, palRsp, ps2.array());

        k.pal = pal;
        pal.runningOn = c.index();
        k.osCr3 = v.vmcs.read(GUEST_CR3);
        k.osRsp = osRsp;
        k.retAddr = ret;
        k.osExceptionBitmap = v.vmcs.read(EXCEPTION_BITMAP);
        k.osEptp = v.vmcs.read(EPT_POINTER);
        k.osRflags = v.vmcs.read(GUEST_RFLAGS);
        k.userCaller = user;
        for (int i = 0; i < Math.min(values.length, PARAM_REGS.length); i++) cpu.r[PARAM_REGS[i]] = values[i];
        v.vmcs.write(GUEST_CR3, pal.palCr3);
        v.vmcs.write(GUEST_RSP, palRsp);
        v.vmcs.write(GUEST_RFLAGS, 2); // interrupts off, no single-step, while the PAL runs
        v.vmcs.write(EXCEPTION_BITMAP, 0xFFFFFFFFL);
        v.vmcs.write(EPT_POINTER, pal.eptp);
        x.smpGuest().nmiBlock(v);
        entries++;
        x.smpGuest().endQuiesce(v);
        // new CR3 and EPT under the same VPID: nothing the OS cached may serve the PAL (SDM Vol.3C 28.3.3)
        c.invept(1, pal.eptp);
        c.invvpid(1, (int) c.vmread(VPID), 0);
        c.traceSpan("PAL " + pal.id, true);
    }

    private void switchToRegular(Xmhf x, Vcpu v, Ctx k) {
        HostCpu c = v.cpu;
        Pal pal = k.pal;
        // pointed-to buffers out, into the caller's memory
        GuestMemory os = new GuestMemory(c, pal.gcr3);
        Pal.Section ps = pal.section(Pal.PARAM);
        for (long[] p : k.pointers) {
            byte[] buf = readPal(c, ps, p[1], (int) p[2]);
            if (!os.write(p[0], buf, k.userCaller)) tv(x, v, "hpt_scode_switch_regular", String.format("output at 0x%x not writable", p[0]));
        }
        x.smpGuest().quiesce(v);
        v.vmcs.write(GUEST_CR3, k.osCr3);
        v.vmcs.write(GUEST_RSP, k.osRsp + 8);
        v.vmcs.write(GUEST_RFLAGS, k.osRflags);
        v.vmcs.write(EXCEPTION_BITMAP, k.osExceptionBitmap);
        v.vmcs.write(EPT_POINTER, k.osEptp);
        x.smpGuest().nmiUnblock(v);
        pal.runningOn = -1;
        k.pal = null;
        exits++;
        x.smpGuest().endQuiesce(v);
        c.invvpid(1, (int) c.vmread(VPID), 0);
        c.traceSpan("PAL " + pal.id, false);
    }

    private static void writePal(HostCpu c, Pal.Section s, long gva, byte[] data) {
        for (int done = 0; done < data.length; ) {
            int n = (int) Math.min(data.length - done, 0x1000 - ((gva + done) & 0xFFF));
            c.writeBytes(s.gpaOf(gva + done), data, done, n);
            done += n;
        }
    }

    private static byte[] readPal(HostCpu c, Pal.Section s, long gva, int length) {
        byte[] out = new byte[length];
        for (int done = 0; done < length; ) {
            int n = (int) Math.min(length - done, 0x1000 - ((gva + done) & 0xFFF));
            System.arraycopy(c.readBytes(s.gpaOf(gva + done), n), 0, out, done, n);
            done += n;
        }
        return out;
    }
}
