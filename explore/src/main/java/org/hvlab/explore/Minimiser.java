package org.hvlab.explore;

import java.util.Arrays;
import org.hvlab.machine.sched.ChoiceRecord;
import org.hvlab.machine.sched.ChoiceSource;
import org.hvlab.machine.sched.RoundRobin;

/**
 * Shrinks a failing run record while its signature holds (issue 5 "Minimisation"): first the
 * injection plan (delta debugging over its NMIs), then the scheduling choices — the shortest
 * prefix after which a plain round-robin schedule (the scenario's largest quantum) still fails,
 * then chunks removed from that prefix. The result replays with {@code fallback: round-robin},
 * so its size is the number of explicit choices it keeps. Every candidate is a full run;
 * {@code budget} bounds how many.
 */
public final class Minimiser {
    /** The minimised record and the sizes before and after. */
    public record Result(RunRecord record, int choicesBefore, int choicesAfter, int nmisBefore, int nmisAfter, int runs) {}

    private final Scenario scenario;
    private final RunRecord original;
    private final int budget;
    private int runs;

    private Minimiser(Scenario scenario, RunRecord original, int budget) {
        this.scenario = scenario;
        this.original = original;
        this.budget = budget;
    }

    public static Result minimise(RunRecord r, int budget) throws ScenarioException {
        Scenario s = r.scenario();
        Minimiser m = new Minimiser(s, r, budget);
        return m.run();
    }

    private Result run() throws ScenarioException {
        InjectionPlan plan = original.plan();
        int[] choices = original.choices();
        // the original with a round-robin tail must fail as recorded; its full choice list ensures it
        ScenarioRun.Result best = attempt(choices, plan);
        if (best == null) throw new ScenarioException("the record does not fail as recorded when replayed; nothing to minimise");

        // 1. the injection plan: remove chunks of NMIs, halving the chunk size (ddmin)
        for (int chunk = Math.max(1, plan.size() / 2); chunk >= 1 && runs < budget; chunk /= 2) {
            for (int from = 0; from < plan.size() && runs < budget; ) {
                InjectionPlan smaller = plan.without(from, Math.min(plan.size(), from + chunk));
                ScenarioRun.Result o = attempt(choices, smaller);
                if (o != null) {
                    plan = smaller;
                    best = o;
                } else {
                    from += chunk;
                }
            }
            if (chunk == 1) break;
        }

        // 2. the shortest prefix of choices after which round-robin still fails (binary search)
        int lo = 0, hi = choices.length;
        while (lo < hi && runs < budget) {
            int mid = (lo + hi) >>> 1;
            ScenarioRun.Result o = attempt(Arrays.copyOf(choices, mid), plan);
            if (o != null) {
                hi = mid;
                best = o;
            } else {
                lo = mid + 1;
            }
        }
        choices = Arrays.copyOf(choices, hi);

        // 3. chunks removed from what is left
        for (int chunk = Math.max(1, choices.length / 2); chunk >= 1 && runs < budget; chunk /= 2) {
            for (int from = 0; from < choices.length && runs < budget; ) {
                int[] smaller = new int[choices.length - Math.min(chunk, choices.length - from)];
                System.arraycopy(choices, 0, smaller, 0, from);
                System.arraycopy(choices, Math.min(choices.length, from + chunk), smaller, from, smaller.length - from);
                ScenarioRun.Result o = attempt(smaller, plan);
                if (o != null) {
                    choices = smaller;
                    best = o;
                } else {
                    from += chunk;
                }
            }
            if (chunk == 1) break;
        }
        // the record of the last failing attempt: what replay reproduces
        RunRecord rec = RunRecord.of(best).withChoices(choices, RunRecord.ROUND_ROBIN);
        return new Result(rec, original.choices().length, choices.length, original.plan().size(), plan.size(), runs);
    }

    /** Runs with these choices then round-robin; the outcome if the signature holds, else null. */
    private ScenarioRun.Result attempt(int[] choices, InjectionPlan plan) throws ScenarioException {
        runs++;
        ChoiceRecord r = new ChoiceRecord();
        for (int p : choices) r.add(p >>> 24, p & 0xFFFFFF);
        ChoiceSource src = r.replay(new RoundRobin(scenario.scheduling().maxQuantum()));
        ScenarioRun.Result o = ScenarioRun.run(scenario, original.seed(), src, plan);
        return original.matches(o.verdict()) ? o : null;
    }
}
