package org.hvlab.explore;

import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.SeededRandom;

/** The choice sources exploration runs with: {@code random} and {@code pct}. */
public final class Strategies {
    private Strategies() {}

    public static ScenarioRun.Result run(Scenario s, long seed, String strategy, int pctDepth) throws ScenarioException {
        return ScenarioRun.run(s, seed, source(s, seed, strategy, pctDepth), InjectionPlan.expand(s.injections(), seed, s.limits().maxSteps()));
    }

    public static ChoiceSource source(Scenario s, long seed, String strategy, int pctDepth) throws ScenarioException {
        return switch (strategy) {
            case "random" -> new SeededRandom(seed, s.scheduling().maxQuantum());
            case "pct" -> new Pct(seed, s.machine().cpus(), pctDepth, s.scheduling().maxQuantum(), Math.min(s.limits().maxSteps(), 2_000_000L));
            default -> throw new ScenarioException("unknown strategy '" + strategy + "' (random or pct)");
        };
    }
}
