package org.hvlab.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.hvlab.xmhf.XmhfOptions;
import org.junit.jupiter.api.Test;

/** The README's option table lists every XMHF option with its real default (the table users read). */
class ReadmeOptionsTest {
    @Test
    void everyXmhfOptionIsDocumentedWithItsDefault() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        for (XmhfOptions.Option o : XmhfOptions.TABLE) {
            String row = "| `" + o.key() + "` | `" + o.defaultValue() + "` |";
            assertTrue(readme.contains(row), "README lacks the row for " + o.key() + ": " + row);
            assertTrue(readme.contains(o.replays()), "README names what " + o.key() + " replays: " + o.replays());
        }
    }
}
