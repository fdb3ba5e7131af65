package org.hvlab.bench;

/** Run-length and JVM settings shared by the benchmarks (kept short: the lab machine has 2 cores). */
final class Flags {
    private Flags() {}

    /** Guest instructions per invocation of an interpreted benchmark (about 10-20 ms). */
    static final int INTERPRETED_INSTRUCTIONS = 1 << 20;
    /** Loop iterations per invocation of a native benchmark (a few ms). */
    static final int NATIVE_ITERATIONS = 1 << 22;
}
