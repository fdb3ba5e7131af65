package org.hvlab.bench;

import org.hvlab.machine.sched.Coroutine;

/** Guards against measuring the thread fallback by accident. */
final class Coroutines {
    private Coroutines() {}

    /**
     * Throws unless coroutines are continuations: a continuation runs on the thread that resumes
     * it, the fallback on a thread of its own (it is chosen when jdk.internal.vm is not exported).
     */
    static void requireContinuations() {
        Thread[] ran = new Thread[1];
        Coroutine c = Coroutine.create("probe", () -> ran[0] = Thread.currentThread());
        c.resume();
        if (ran[0] != Thread.currentThread()) {
            throw new IllegalStateException("coroutines are platform threads, not continuations: "
                    + "run with --add-exports java.base/jdk.internal.vm=ALL-UNNAMED");
        }
    }
}
