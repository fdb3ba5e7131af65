package org.hvlab.machine.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Both coroutine implementations interleave bodies exactly at their yields. */
class CoroutineTest {
    @Test
    void testsRunWithContinuations() {
        assertEquals("continuation", Coroutines.implementation(), "surefire passes --add-exports java.base/jdk.internal.vm");
    }

    private static void interleaves(java.util.function.BiFunction<String, Runnable, Coroutine> make) {
        List<String> log = new ArrayList<>();
        Coroutine a = make.apply("a", () -> {
            for (int i = 0; i < 3; i++) {
                log.add("a" + i);
                yieldNow(make);
            }
        });
        Coroutine b = make.apply("b", () -> {
            for (int i = 0; i < 3; i++) {
                log.add("b" + i);
                yieldNow(make);
            }
        });
        for (int i = 0; i < 4; i++) {
            a.resume();
            b.resume();
        }
        assertEquals(List.of("a0", "b0", "a1", "b1", "a2", "b2"), log);
        assertTrue(a.isDone() && b.isDone());
    }

    private static void yieldNow(Object kind) {
        if (ThreadCoroutine.current() != null) ThreadCoroutine.yieldNow();
        else ContinuationCoroutine.yieldNow();
    }

    @Test
    void continuationsInterleave() {
        interleaves((n, r) -> new ContinuationCoroutine(r));
    }

    @Test
    void threadsInterleave() {
        interleaves(ThreadCoroutine::new);
    }

    @Test
    void roundRobinAndRandomChoices() {
        RoundRobin rr = new RoundRobin(5);
        int[] run = {0, 2, 3};
        assertEquals(0, rr.pickCpu(run, 3));
        assertEquals(2, rr.pickCpu(run, 3));
        assertEquals(3, rr.pickCpu(run, 3));
        assertEquals(0, rr.pickCpu(run, 3));
        SeededRandom a = new SeededRandom(5, 100), b = new SeededRandom(5, 100);
        for (int i = 0; i < 100; i++) {
            assertEquals(a.pickCpu(run, 3), b.pickCpu(run, 3));
            int q = a.quantum();
            assertEquals(q, b.quantum());
            assertTrue(q >= 1 && q <= 100);
        }
    }
}
