package org.hvlab.machine.sched;

/**
 * A body of code that runs until it yields and later resumes where it left off. Each simulated
 * CPU is one (docs/architecture.md "The execution model"). Only one coroutine runs at a time, driven
 * by the {@link Scheduler}, so a run is a pure function of the scheduler's choices.
 * <p>Never hold a JVM monitor or a java.util.concurrent lock across {@link #yieldNow()}.
 */
public interface Coroutine {
    /** Runs the body until it yields (or finishes). */
    void resume();

    boolean isDone();

    /** The Java stack of the suspended body, for deadlock reports. */
    StackTraceElement[] suspendedStack();

    /** Creates a coroutine with the best implementation this JVM allows. */
    static Coroutine create(String name, Runnable body) {
        return Coroutines.create(name, body);
    }

    /** Yields the current coroutine back to whoever resumed it. */
    static void yieldNow() {
        Coroutines.yieldNow();
    }

    /** True when the caller is running inside a coroutine. */
    static boolean inside() {
        return Coroutines.inside();
    }
}
