package org.hvlab.machine.sched;

/**
 * Chooses the coroutine implementation once per JVM: {@code jdk.internal.vm.Continuation} when
 * the launcher exported it (about 0.2 us a switch), else platform threads with a strict
 * hand-off (several microseconds a switch).
 */
final class Coroutines {
    private static final boolean CONTINUATIONS = ContinuationCoroutine.usable();

    private Coroutines() {}

    static Coroutine create(String name, Runnable body) {
        return CONTINUATIONS ? new ContinuationCoroutine(body) : new ThreadCoroutine(name, body);
    }

    static void yieldNow() {
        if (CONTINUATIONS) ContinuationCoroutine.yieldNow();
        else ThreadCoroutine.yieldNow();
    }

    static boolean inside() {
        return CONTINUATIONS ? ContinuationCoroutine.inside() : ThreadCoroutine.current() != null;
    }

    static String implementation() {
        return CONTINUATIONS ? "continuation" : "thread";
    }
}
