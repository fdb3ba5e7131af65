package org.hvlab.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Finds an image: a file path, or the name of a guest bundled with hvlab (guests/NAME.elf on the class path). */
final class GuestImages {
    static final List<String> BUNDLED = List.of("hello", "smp", "exceptions", "nmi", "vmxbasic", "vmxwindows", "vmxnmi", "vmxmsrlist", "vmxentry", "vmxept", "vmxmisc", "msrscan", "lhv", "mtrrstorm", "nmiipi", "memprobe", "nmiflood", "paldemo", "linux-nmi");

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
