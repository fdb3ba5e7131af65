package org.hvlab.cli;

import picocli.CommandLine.Command;

/** Lists the guests bundled with hvlab. */
@Command(name = "guests", mixinStandardHelpOptions = true, description = "List the guest images bundled with hvlab (usable as --image NAME).")
final class GuestsCommand implements Runnable {
    @Override
    public void run() {
        for (String g : GuestImages.BUNDLED) System.out.println(g);
    }
}
