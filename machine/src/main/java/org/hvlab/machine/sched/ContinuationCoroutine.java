package org.hvlab.machine.sched;

import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/** Coroutine on the JDK's internal one-shot delimited continuations. */
final class ContinuationCoroutine implements Coroutine {
    private static final ContinuationScope SCOPE = new ContinuationScope("hvlab-cpu");
    private final Continuation cont;

    ContinuationCoroutine(Runnable body) {
        this.cont = new Continuation(SCOPE, body);
    }

    /** The package must be exported to us and a continuation must actually run and yield. */
    static boolean usable() {
        try {
            int[] steps = new int[1];
            Continuation c = new Continuation(SCOPE, () -> {
                steps[0]++;
                Continuation.yield(SCOPE);
                steps[0]++;
            });
            c.run();
            c.run();
            return steps[0] == 2 && c.isDone();
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public void resume() {
        cont.run();
    }

    @Override
    public boolean isDone() {
        return cont.isDone();
    }

    @Override
    public StackTraceElement[] suspendedStack() {
        try {
            return cont.getStackTrace();
        } catch (Throwable t) {
            return new StackTraceElement[0];
        }
    }

    static void yieldNow() {
        if (!Continuation.yield(SCOPE)) {
            throw new IllegalStateException("coroutine could not yield (pinned by a monitor or native frame)");
        }
    }

    static boolean inside() {
        return Continuation.getCurrentContinuation(SCOPE) != null;
    }
}
