package org.hvlab.cli;

import picocli.CommandLine.Command;

/** Lists the guests bundled with hvlab. */
@Command(name = "guests", mixinStandardHelpOptions = true, description = "List the guest images bundled with hvlab (usable as --image NAME).")
final class GuestsCommand implements Runnable {
    @Override
    public void run() {
        for (String g : GuestImages.BUNDLED) {
            System.out.printf("%-12s %s%s%n", g, GuestImages.DESCRIPTIONS.get(g),
                    GuestImages.NEED_NESTED_VMX.contains(g) ? " (bare machine only until XMHF offers nested VMX)" : "");
        }
    }
}
