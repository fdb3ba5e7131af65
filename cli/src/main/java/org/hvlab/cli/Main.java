package org.hvlab.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code hvlab} command. Bad input gets one line on standard error and a non-zero exit. */
@Command(name = "hvlab", mixinStandardHelpOptions = true, version = "hvlab 0.1.0",
        description = "A deterministic x86-64 machine with VT-x for getting hypervisor event handling right.",
        subcommands = {CommandLine.HelpCommand.class, RunCommand.class, GuestsCommand.class, ExploreCommand.class, ReplayCommand.class, MinimiseCommand.class, ReportCommand.class, DemoCommand.class, CampaignCommand.class, ScenariosCommand.class})
public final class Main implements Runnable {
    /** Exit status for bad input (usage, unreadable or malformed images). */
    public static final int BAD_INPUT = 2;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            System.err.println("hvlab: " + ex.getMessage());
            if (ex instanceof CommandLine.MissingParameterException) {
                // a missing argument: the command's usage, on one line, says what is expected
                CommandLine c = ex.getCommandLine();
                String usage = c.getHelp().synopsis(0).strip().replaceAll("\\s+", " ");
                System.err.println("Usage: " + usage + " (hvlab " + (c.getParent() == null ? "" : c.getCommandName() + " ") + "--help for more)");
            }
            return BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof BadInput b) {
                System.err.println("hvlab: " + b.getMessage());
                return BAD_INPUT;
            }
            System.err.println("hvlab: internal error: " + ex);
            return org.hvlab.machine.Outcome.SIMULATOR_ERROR.exitStatus;
        });
        return cl.execute(args);
    }

    /** Input the user can fix; reported as one line. */
    public static final class BadInput extends RuntimeException {
        public BadInput(String message) {
            super(message, null, false, false);
        }
    }
}
