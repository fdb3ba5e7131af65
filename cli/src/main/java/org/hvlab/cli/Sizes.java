package org.hvlab.cli;

/** Parses memory sizes: a number with K, M, G (binary units, optional "iB"), or B for bytes; a bare number means MiB. */
final class Sizes {
    private Sizes() {}

    static long parse(String s) {
        String t = s.trim().toUpperCase();
        if (t.endsWith("IB")) t = t.substring(0, t.length() - 2);
        long unit = 1L << 20;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'B' -> { unit = 1; t = t.substring(0, t.length() - 1); }
                case 'K' -> { unit = 1L << 10; t = t.substring(0, t.length() - 1); }
                case 'M' -> { unit = 1L << 20; t = t.substring(0, t.length() - 1); }
                case 'G' -> { unit = 1L << 30; t = t.substring(0, t.length() - 1); }
                default -> { }
            }
        }
        long n;
        try {
            n = Long.parseLong(t.trim());
        } catch (NumberFormatException e) {
            throw new Main.BadInput("bad memory size '" + s + "' (use e.g. 256M, 4G, or a number of MiB)");
        }
        if (n <= 0 || n > (1L << 40) / unit) throw new Main.BadInput("memory size '" + s + "' is out of range (2 MiB to 64 GiB)");
        return n * unit;
    }
}
