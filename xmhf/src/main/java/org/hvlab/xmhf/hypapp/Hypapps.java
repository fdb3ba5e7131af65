package org.hvlab.xmhf.hypapp;

import java.util.List;
import org.hvlab.xmhf.hypapp.trustvisor.TrustVisor;

/** The hypapps XMHF can run, by name (the CLI's --hypapp, a scenario's hypervisor.hypapp). */
public final class Hypapps {
    public static final List<String> NAMES = List.of("none", "trustvisor");

    private Hypapps() {}

    /** A new instance of the hypapp {@code name} (one per machine). */
    public static Hypapp create(String name) {
        return switch (name) {
            case "none" -> Hypapp.NONE;
            case "trustvisor" -> new TrustVisor();
            default -> throw new IllegalArgumentException("unknown hypapp '" + name + "' (" + String.join(" or ", NAMES) + ")");
        };
    }
}
