package org.hvlab.cli;

import java.util.concurrent.Callable;
import org.hvlab.explore.Scenario;
import org.hvlab.explore.ScenarioException;
import org.hvlab.explore.ScenarioLoader;
import picocli.CommandLine.Command;

@Command(name = "scenarios", mixinStandardHelpOptions = true,
        description = "List the shipped scenarios (usable as 'hvlab explore NAME') with what each is for.")
final class ScenariosCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        try {
            for (String name : ScenarioLoader.shippedNames()) {
                Scenario s = ScenarioLoader.loadFileOrShipped(name);
                System.out.printf("%-36s %s%n", name, s.description());
            }
            return 0;
        } catch (ScenarioException e) {
            throw new Main.BadInput(e.getMessage());
        }
    }
}
