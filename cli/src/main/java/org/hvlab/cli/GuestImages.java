package org.hvlab.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Finds an image: a file path, or the name of a guest bundled with hvlab (guests/NAME.elf on the class path). */
final class GuestImages {

    /** What each bundled guest does, one line (the header of guests/src/main/asm/NAME.S says more). */
    static final java.util.Map<String, String> DESCRIPTIONS = ordered(
            java.util.Map.entry("hello", "prints a greeting and its command line: the image was loaded and entered"),
            java.util.Map.entry("smp", "starts every application processor and checks each came up once"),
            java.util.Map.entry("exceptions", "exception delivery in 64-bit mode: IDT, TSS, IST stacks, error codes"),
            java.util.Map.entry("nmi", "NMI delivery between CPUs and the NMI latch rule (2+ CPUs)"),
            java.util.Map.entry("vmxbasic", "the smallest guest hypervisor: VMXON, one VMCS, a 64-bit guest and its exits"),
            java.util.Map.entry("vmxwindows", "NMI-window and interrupt-window VM exits, case by case"),
            java.util.Map.entry("vmxnmi", "NMIs and VMX: NMI exiting, host NMI blocking, priorities, injection, IRET (2+ CPUs)"),
            java.util.Map.entry("vmxmsrlist", "the VM-entry MSR-load list, up to the failing entry"),
            java.util.Map.entry("vmxentry", "VMLAUNCH/VMRESUME outcomes: VMfailValid errors and failed entries"),
            java.util.Map.entry("vmxept", "EPT and VPID from a guest hypervisor, case by case"),
            java.util.Map.entry("vmxmisc", "monitor trap flag, preemption timer, VMCS shadowing, unrestricted guest"),
            java.util.Map.entry("msrscan", "scans the MSRs as seed 003's scanner did"),
            java.util.Map.entry("lhv", "an LHV-style guest hypervisor on every CPU (options on its command line)"),
            java.util.Map.entry("mtrrstorm", "every CPU writes variable-range MTRRs at once (quiesce storms under XMHF)"),
            java.util.Map.entry("nmiipi", "every CPU sends NMI IPIs to the next; each must arrive exactly once"),
            java.util.Map.entry("memprobe", "prints the boot memory map, then touches reserved memory"),
            java.util.Map.entry("nmiflood", "an NMI flood against a handler that checks it is never re-entered (2+ CPUs)"),
            java.util.Map.entry("paldemo", "TrustVisor's PAL demo: each CPU registers and calls PALs (needs --hypapp trustvisor)"),
            java.util.Map.entry("linux-nmi", "Linux's nested-NMI algorithm on an IST stack, with a checked workload"));

    /** The bundled guests, in the order 'hvlab guests' lists them. */
    static final List<String> BUNDLED = List.copyOf(DESCRIPTIONS.keySet());

    @SafeVarargs
    private static java.util.Map<String, String> ordered(java.util.Map.Entry<String, String>... entries) {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        for (var e : entries) m.put(e.getKey(), e.getValue());
        return java.util.Collections.unmodifiableMap(m);
    }

    /** Guests that are guest hypervisors: under --hypervisor xmhf they need nested VMX, which XMHF does not offer yet (VMXON raises #UD/#GP). */
    static final java.util.Set<String> NEED_NESTED_VMX = java.util.Set.of("vmxbasic", "vmxwindows", "vmxnmi", "vmxmsrlist", "vmxentry", "vmxept", "vmxmisc", "lhv");

    private GuestImages() {}

    static byte[] read(String spec) {
        Path p = Path.of(spec);
        if (Files.isRegularFile(p)) {
            try {
                return Files.readAllBytes(p);
            } catch (IOException e) {
                throw new Main.BadInput("cannot read image " + spec + ": " + e.getMessage());
            }
        }
        if (Files.exists(p)) throw new Main.BadInput("image " + spec + " is not a regular file");
        String name = spec.endsWith(".elf") ? spec.substring(0, spec.length() - 4) : spec;
        if (!name.contains("/")) {
            try (InputStream in = GuestImages.class.getResourceAsStream("/guests/" + name + ".elf")) {
                if (in != null) return in.readAllBytes();
            } catch (IOException e) {
                throw new Main.BadInput("cannot read bundled guest " + name + ": " + e.getMessage());
            }
        }
        throw new Main.BadInput("no such image: " + spec + " (not a file, nor a bundled guest: " + String.join(", ", BUNDLED) + ")");
    }

}
