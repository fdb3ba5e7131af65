package org.hvlab.machine.sched;

import java.util.concurrent.Semaphore;

/** Fallback coroutine: a platform thread that runs only while its resumer waits (strict hand-off). */
final class ThreadCoroutine implements Coroutine {
    private static final ThreadLocal<ThreadCoroutine> CURRENT = new ThreadLocal<>();
    private final Semaphore run = new Semaphore(0), back = new Semaphore(0);
    private final Thread thread;
    private volatile boolean done;
    private volatile Throwable failure;

    ThreadCoroutine(String name, Runnable body) {
        thread = new Thread(() -> {
            CURRENT.set(this);
            run.acquireUninterruptibly();
            try {
                body.run();
            } catch (Throwable t) {
                failure = t;
            } finally {
                done = true;
                back.release();
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void resume() {
        if (done) return;
        run.release();
        back.acquireUninterruptibly();
        if (failure instanceof RuntimeException e) throw e;
        if (failure instanceof Error e) throw e;
    }

    @Override
    public boolean isDone() {
        return done;
    }

    @Override
    public StackTraceElement[] suspendedStack() {
        return thread.getStackTrace();
    }

    static ThreadCoroutine current() {
        return CURRENT.get();
    }

    static void yieldNow() {
        ThreadCoroutine self = CURRENT.get();
        if (self == null) throw new IllegalStateException("yield outside a coroutine");
        self.back.release();
        self.run.acquireUninterruptibly();
    }
}
