package org.hvlab.machine.vmx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A CPU profile: the MSRs of one processor (its MSR behaviour table, VMX capability MSRs
 * included) and the choices the SDM leaves to the implementation (docs/vmx-facts.md). Profiles are
 * data files ({@code profiles/NAME.profile} beside this class); a malformed one is reported with
 * its file and line.
 *
 * <p>Each MSR the processor has is one line
 * {@code msr.INDEX = VALUE [writable=MASK] [preserved=MASK] [rule=NAME]}: the value it holds
 * after reset, the bits WRMSR may change (default none: a read-only MSR, whose every WRMSR is
 * #GP), the bits a write stores (default none; must lie within the writable bits; writable bits
 * outside it are accepted and dropped), and an optional named rule for an MSR whose SDM
 * definition adds validity checks or side effects that one mask cannot express (see
 * {@link MsrRule}). An MSR without a line does not exist: RDMSR and WRMSR of it are #GP. (The
 * x2APIC MSRs 0x800-0x8FF belong to the local APIC model instead.)
 *
 * <p>A profile may start from a bundled one ({@code base = NAME}, before any MSR or choice line)
 * and then change MSR lines and choices: a processor that differs from another in a few points.
 */
public final class CpuProfile {
    public static final String DEFAULT = "kvm-2022";
    /** The bundled profiles (profiles/NAME.profile). */
    public static final java.util.List<String> BUNDLED = java.util.List.of("kvm-2022", "kvm-2022-i386", "kvm-2022-nested-nmi");
    public static final int IA32_FEATURE_CONTROL = 0x3A;
    public static final int IA32_VMX_BASIC = 0x480, IA32_VMX_PINBASED_CTLS = 0x481, IA32_VMX_PROCBASED_CTLS = 0x482,
            IA32_VMX_EXIT_CTLS = 0x483, IA32_VMX_ENTRY_CTLS = 0x484, IA32_VMX_MISC = 0x485, IA32_VMX_CR0_FIXED0 = 0x486,
            IA32_VMX_CR0_FIXED1 = 0x487, IA32_VMX_CR4_FIXED0 = 0x488, IA32_VMX_CR4_FIXED1 = 0x489, IA32_VMX_VMCS_ENUM = 0x48A,
            IA32_VMX_PROCBASED_CTLS2 = 0x48B, IA32_VMX_EPT_VPID_CAP = 0x48C, IA32_VMX_TRUE_PINBASED_CTLS = 0x48D,
            IA32_VMX_TRUE_PROCBASED_CTLS = 0x48E, IA32_VMX_TRUE_EXIT_CTLS = 0x48F, IA32_VMX_TRUE_ENTRY_CTLS = 0x490,
            IA32_VMX_VMFUNC = 0x491;

    public static final int IA32_TSC = 0x10, IA32_APIC_BASE = 0x1B, IA32_TSC_ADJUST = 0x3B, IA32_PAT = 0x277,
            IA32_EFER = 0xC0000080;

    /**
     * Named rules of the MSR behaviour table: SDM validity checks and side effects on top of the
     * writable/preserved masks. Each rule that stands for one architectural MSR may only be
     * given to that MSR.
     */
    public enum MsrRule {
        /** No rule: the masks alone decide. */
        NONE("none", -1),
        /** The time-stamp counter: keeps counting after a write; a write moves TSC_ADJUST by the same amount. */
        TSC("tsc", IA32_TSC),
        /** IA32_TSC_ADJUST: reads the accumulated TSC adjustment; preserved bits written move the TSC too. */
        TSC_ADJUST("tsc-adjust", IA32_TSC_ADJUST),
        /** IA32_APIC_BASE: the local APIC checks the mode transitions and the base address. */
        APIC_BASE("apic-base", IA32_APIC_BASE),
        /** IA32_FEATURE_CONTROL: every write is #GP once the lock bit (bit 0) is set. */
        FEATURE_CONTROL("feature-control", IA32_FEATURE_CONTROL),
        /** IA32_EFER: LMA is the processor's; LME may not change while paging is enabled. */
        EFER("efer", IA32_EFER),
        /** IA32_PAT: every byte must be a valid PAT memory type (0, 1, 4, 5, 6, 7). */
        PAT("pat", IA32_PAT),
        /** An MTRR: every memory-type field must hold 0, 1, 4, 5 or 6. */
        MTRR("mtrr-type", -1),
        /** The value is an address and must be canonical. */
        CANONICAL("canonical", -1);

        public final String fileName;
        /** The one MSR this rule belongs to, or -1 when it fits several. */
        final int only;

        MsrRule(String fileName, int only) {
            this.fileName = fileName;
            this.only = only;
        }

        static MsrRule byName(String n) {
            for (MsrRule r : values()) if (r.fileName.equals(n)) return r;
            return null;
        }
    }

    /** One line of the MSR behaviour table. */
    public record MsrSpec(int index, long value, long writable, long preserved, MsrRule rule) {
        public boolean readOnly() {
            return writable == 0;
        }
    }

    public final String name;
    private final Map<Integer, MsrSpec> msrs;
    /** IA32_EFER bits WRMSR may change (the writable mask of the table's EFER line). */
    public final long eferWritable;
    private final Map<String, String> choices;

    private CpuProfile(String name, Map<Integer, MsrSpec> msrs, Map<String, String> choices) {
        this.name = name;
        this.msrs = msrs;
        this.eferWritable = msrs.get(IA32_EFER).writable();
        this.choices = choices;
        for (MsrSpec m : msrs.values()) {
            int i = m.index();
            if (i >= 0 && i < 0x2000) lowSpecs[i] = m;
            else if (i - 0xC0000000 >= 0 && i - 0xC0000000 < 0x2000) highSpecs[i - 0xC0000000] = m;
        }
        for (int i = 0; i < vmxCaps.length; i++) {
            MsrSpec m = msrs.get(IA32_VMX_BASIC + i);
            vmxCaps[i] = m == null ? 0 : m.value();
        }
    }

    /** The VMX capability MSRs 0x480-0x491 by offset: VM entry reads them many times per entry. */
    private final long[] vmxCaps = new long[0x12];

    /** Loads a bundled profile by name. */
    public static CpuProfile load(String name) throws ProfileException {
        if (!name.matches("[A-Za-z0-9._-]+")) throw new ProfileException("bad CPU profile name '" + name + "'");
        String file = "profiles/" + name + ".profile";
        try (InputStream in = CpuProfile.class.getResourceAsStream(file)) {
            if (in == null) throw new ProfileException("unknown CPU profile '" + name + "' (known: " + String.join(", ", BUNDLED) + ")");
            return parse(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ProfileException(file + ": " + e.getMessage());
        }
    }

    public static CpuProfile defaultProfile() {
        try {
            return load(DEFAULT);
        } catch (ProfileException e) {
            throw new IllegalStateException("bundled default profile is broken: " + e.getMessage(), e);
        }
    }

    /** Parses profile text; {@code file} names it in error messages (user-supplied and test profiles). */
    public static CpuProfile parse(String file, String text) throws ProfileException {
        String name = null;
        Map<Integer, MsrSpec> msrs = new TreeMap<>();
        Map<String, String> choices = new LinkedHashMap<>();
        java.util.Set<Integer> here = new java.util.HashSet<>();
        boolean started = false;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.isEmpty() || l.startsWith("#")) continue;
            String where = file + ":" + (i + 1) + ": ";
            int eq = l.indexOf('=');
            if (eq < 0) throw new ProfileException(where + "expected KEY = VALUE, got '" + l + "'");
            String k = l.substring(0, eq).strip(), v = l.substring(eq + 1).strip();
            if (k.equals("name")) {
                name = v;
            } else if (k.equals("base")) {
                if (started) throw new ProfileException(where + "'base' must come before every MSR and choice line");
                started = true;
                CpuProfile base;
                try {
                    base = load(v);
                } catch (ProfileException e) {
                    throw new ProfileException(where + "base: " + e.getMessage());
                }
                msrs.putAll(base.msrs);
                choices.putAll(base.choices);
            } else if (k.startsWith("msr.")) {
                started = true;
                int idx = (int) number(where, k.substring(4));
                if (!here.add(idx)) throw new ProfileException(where + "MSR " + k.substring(4) + " given twice");
                msrs.put(idx, msrSpec(where, idx, v));
            } else if (k.startsWith("choice.")) {
                started = true;
                String key = k.substring(7);
                Choice c = Choice.byKey(key);
                if (c == null) throw new ProfileException(where + "unknown choice '" + key + "' (" + Choice.keys() + ")");
                if (!c.values.contains(v)) throw new ProfileException(where + "choice." + key + ": expected one of " + c.values + ", got '" + v + "'");
                choices.put(key, v);
            } else {
                throw new ProfileException(where + "unknown key '" + k + "'");
            }
        }
        if (name == null) throw new ProfileException(file + ": no 'name'");
        for (int m = IA32_VMX_BASIC; m <= IA32_VMX_VMFUNC; m++) {
            MsrSpec s = msrs.get(m);
            if (s == null) throw new ProfileException(file + ": VMX capability MSR 0x" + Integer.toHexString(m) + " missing");
            if (!s.readOnly()) throw new ProfileException(file + ": VMX capability MSR 0x" + Integer.toHexString(m) + " must be read-only");
        }
        MsrSpec efer = msrs.get(IA32_EFER);
        if (efer == null || efer.rule() != MsrRule.EFER) throw new ProfileException(file + ": no IA32_EFER line 'msr.0xc0000080 = ... rule=efer'");
        for (Choice c : Choice.values()) {
            if (!choices.containsKey(c.key)) throw new ProfileException(file + ": no 'choice." + c.key + "' (one of " + c.values + ")");
        }
        return new CpuProfile(name, Collections.unmodifiableMap(msrs), Collections.unmodifiableMap(choices));
    }

    /** Parses "VALUE [writable=MASK] [preserved=MASK] [rule=NAME]" of an msr.INDEX line. */
    private static MsrSpec msrSpec(String where, int index, String text) throws ProfileException {
        String[] t = text.split("\\s+");
        long value = number(where, t[0]);
        Long writable = null, preserved = null;
        MsrRule rule = null;
        for (int j = 1; j < t.length; j++) {
            int eq = t[j].indexOf('=');
            String a = eq < 0 ? t[j] : t[j].substring(0, eq), v = eq < 0 ? "" : t[j].substring(eq + 1);
            boolean twice;
            switch (a) {
                case "writable" -> { twice = writable != null; writable = number(where, v); }
                case "preserved" -> { twice = preserved != null; preserved = number(where, v); }
                case "rule" -> {
                    twice = rule != null;
                    rule = MsrRule.byName(v);
                    if (rule == null) throw new ProfileException(where + "unknown MSR rule '" + v + "'");
                }
                default -> throw new ProfileException(where + "unknown MSR attribute '" + t[j] + "' (writable=, preserved=, rule=)");
            }
            if (twice) throw new ProfileException(where + "'" + a + "' given twice");
        }
        long w = writable == null ? 0 : writable, p = preserved == null ? 0 : preserved;
        if ((p & ~w) != 0) throw new ProfileException(where + "preserved bits 0x" + Long.toHexString(p & ~w) + " are not writable");
        if (rule == null) rule = MsrRule.NONE;
        if (rule.only >= 0 && rule.only != index)
            throw new ProfileException(where + "rule " + rule.fileName + " belongs to MSR 0x" + Integer.toHexString(rule.only));
        return new MsrSpec(index, value, w, p, rule);
    }

    private static long number(String where, String s) throws ProfileException {
        try {
            return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ProfileException(where + "bad number '" + s + "'");
        }
    }

    /** The reset value of an MSR of the profile, or null when the processor has no such MSR. */
    public Long msr(int index) {
        MsrSpec s = msrs.get(index);
        return s == null ? null : s.value();
    }

    /** The MSR behaviour table's line for an MSR, or null when the processor has no such MSR. */
    public MsrSpec msrSpec(int index) {
        if (index >= 0 && index < 0x2000) return lowSpecs[index];
        int hi = index - 0xC0000000;
        if (hi >= 0 && hi < 0x2000) return highSpecs[hi];
        return msrs.get(index);
    }

    /** The table by index for the two usual MSR ranges (VM entries and exits look MSRs up every time). */
    private final MsrSpec[] lowSpecs = new MsrSpec[0x2000], highSpecs = new MsrSpec[0x2000];

    /** The whole MSR behaviour table, in index order. */
    public Collection<MsrSpec> msrTable() {
        return msrs.values();
    }

    public long vmx(int index) {
        int i = index - IA32_VMX_BASIC;
        return i >= 0 && i < vmxCaps.length ? vmxCaps[i] : msrs.get(index).value();
    }

    /** The VMCS revision identifier (IA32_VMX_BASIC bits 30:0). */
    public int vmcsRevision() {
        return (int) (vmx(IA32_VMX_BASIC) & 0x7FFFFFFF);
    }

    /** Bits 29 of IA32_VMX_MISC: VMWRITE may write the VM-exit information fields. */
    public boolean vmwriteAnyField() {
        return (vmx(IA32_VMX_MISC) & (1L << 29)) != 0;
    }

    /** Highest VMCS field index the processor supports (IA32_VMX_VMCS_ENUM bits 9:1). */
    public int maxFieldIndex() {
        return (int) (vmx(IA32_VMX_VMCS_ENUM) >>> 1) & 0x1FF;
    }

    /** Physical-address width limit of VMX structures: IA32_VMX_BASIC bit 48 limits them to 32 bits. */
    public boolean vmxAddresses32() {
        return (vmx(IA32_VMX_BASIC) & (1L << 48)) != 0;
    }

    /**
     * What the SDM leaves to the implementation (docs/vmx-facts.md), each a closed set of values,
     * validated when a profile is loaded.
     */
    public enum Choice {
        /** Injecting an NMI under blocking by STI: VM entry fails (qualification 3), or the NMI is delivered. */
        NMI_INJECTION_UNDER_STI("nmi-injection-under-sti", "fail", "allow"),
        /** Whether blocking by STI holds the NMI window closed. */
        NMI_WINDOW_UNDER_STI("nmi-window-under-sti", "wait", "open"),
        /** The activity state an NMI exit from HLT saves: HLT, with RIP after the HLT (what hardware did; the only one modelled). */
        HLT_NMI_EXIT_ACTIVITY("hlt-nmi-exit-activity", "hlt"),
        /**
         * Not an open choice but a deviation a nested hypervisor shows: an NMI held while the guest is
         * NMI-blocked (the SDM's rule, Vol.3C 26.6.1), or exiting at once (KVM's nested VMX, seed 000).
         */
        NMI_EXIT_WHILE_GUEST_NMI_BLOCKED("nmi-exit-while-guest-nmi-blocked", "held", "exit");

        public final String key;
        public final List<String> values;

        Choice(String key, String... values) {
            this.key = key;
            this.values = List.of(values);
        }

        static Choice byKey(String key) {
            for (Choice c : values()) if (c.key.equals(key)) return c;
            return null;
        }

        static String keys() {
            return java.util.Arrays.stream(values()).map(c -> c.key).collect(java.util.stream.Collectors.joining(", "));
        }
    }

    /** The profile's value of {@code c}: one of {@code c.values}, checked at load. */
    public String choice(Choice c) {
        return choices.get(c.key);
    }

    /** Whether choice {@code c} is {@code value} (one of {@code c.values}). */
    public boolean is(Choice c, String value) {
        if (!c.values.contains(value)) throw new IllegalArgumentException(c.key + " has no value '" + value + "'");
        return value.equals(choices.get(c.key));
    }

    /** A malformed or unknown profile. */
    public static final class ProfileException extends Exception {
        public ProfileException(String message) {
            super(message, null, false, false);
        }
    }
}
