package org.hvlab.machine.vmx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A CPU profile: the VMX capability MSRs and other model-specific facts of one processor, and
 * the choices the SDM leaves to the implementation (VMX-FACTS.md). Profiles are data files
 * ({@code profiles/NAME.profile} beside this class); a malformed one is reported with its file
 * and line.
 */
public final class CpuProfile {
    public static final String DEFAULT = "kvm-2022";
    public static final int IA32_FEATURE_CONTROL = 0x3A;
    public static final int IA32_VMX_BASIC = 0x480, IA32_VMX_PINBASED_CTLS = 0x481, IA32_VMX_PROCBASED_CTLS = 0x482,
            IA32_VMX_EXIT_CTLS = 0x483, IA32_VMX_ENTRY_CTLS = 0x484, IA32_VMX_MISC = 0x485, IA32_VMX_CR0_FIXED0 = 0x486,
            IA32_VMX_CR0_FIXED1 = 0x487, IA32_VMX_CR4_FIXED0 = 0x488, IA32_VMX_CR4_FIXED1 = 0x489, IA32_VMX_VMCS_ENUM = 0x48A,
            IA32_VMX_PROCBASED_CTLS2 = 0x48B, IA32_VMX_EPT_VPID_CAP = 0x48C, IA32_VMX_TRUE_PINBASED_CTLS = 0x48D,
            IA32_VMX_TRUE_PROCBASED_CTLS = 0x48E, IA32_VMX_TRUE_EXIT_CTLS = 0x48F, IA32_VMX_TRUE_ENTRY_CTLS = 0x490,
            IA32_VMX_VMFUNC = 0x491;

    public final String name;
    private final Map<Integer, Long> msrs;
    public final long eferWritable;
    private final Map<String, String> choices;

    private CpuProfile(String name, Map<Integer, Long> msrs, long eferWritable, Map<String, String> choices) {
        this.name = name;
        this.msrs = msrs;
        this.eferWritable = eferWritable;
        this.choices = choices;
    }

    /** Loads a bundled profile by name. */
    public static CpuProfile load(String name) throws ProfileException {
        if (!name.matches("[A-Za-z0-9._-]+")) throw new ProfileException("bad CPU profile name '" + name + "'");
        String file = "profiles/" + name + ".profile";
        try (InputStream in = CpuProfile.class.getResourceAsStream(file)) {
            if (in == null) throw new ProfileException("unknown CPU profile '" + name + "' (known: kvm-2022, kvm-2022-i386)");
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

    static CpuProfile parse(String file, String text) throws ProfileException {
        String name = null;
        Map<Integer, Long> msrs = new TreeMap<>();
        Map<String, String> choices = new LinkedHashMap<>();
        long efer = -1;
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
            } else if (k.startsWith("msr.")) {
                int idx = (int) number(where, k.substring(4));
                if (msrs.put(idx, number(where, v)) != null) throw new ProfileException(where + "MSR " + k.substring(4) + " given twice");
            } else if (k.equals("efer.writable")) {
                efer = number(where, v);
            } else if (k.startsWith("choice.")) {
                choices.put(k.substring(7), v);
            } else {
                throw new ProfileException(where + "unknown key '" + k + "'");
            }
        }
        if (name == null) throw new ProfileException(file + ": no 'name'");
        if (efer < 0) throw new ProfileException(file + ": no 'efer.writable'");
        for (int m = IA32_VMX_BASIC; m <= IA32_VMX_VMFUNC; m++) {
            if (!msrs.containsKey(m)) throw new ProfileException(file + ": VMX capability MSR 0x" + Integer.toHexString(m) + " missing");
        }
        return new CpuProfile(name, Collections.unmodifiableMap(msrs), efer, Collections.unmodifiableMap(choices));
    }

    private static long number(String where, String s) throws ProfileException {
        try {
            return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ProfileException(where + "bad number '" + s + "'");
        }
    }

    /** A fixed-value MSR of the profile, or null when the profile does not define it. */
    public Long msr(int index) {
        return msrs.get(index);
    }

    public long vmx(int index) {
        return msrs.get(index);
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

    public String choice(String key) {
        return choices.get(key);
    }

    /** A malformed or unknown profile. */
    public static final class ProfileException extends Exception {
        public ProfileException(String message) {
            super(message, null, false, false);
        }
    }
}
