package dev.mjrelay.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ByteSizeConverterTest {

    private final ByteSizeConverter converter = new ByteSizeConverter();

    @Test
    void sizesAreBinaryMultiples() {
        assertEquals(2048L, converter.convert("2048"));
        assertEquals(512L * 1024, converter.convert("512KB"));
        assertEquals(1_048_576L, converter.convert("1MB"));
        assertEquals(1_048_576L, converter.convert(" 1mb "));
        assertEquals(1_048_576L, converter.convert("1M"));
        assertEquals(2L << 30, converter.convert("2GB"));
    }

    @Test
    void anythingElseIsRefusedSayingHowToWriteIt() {
        for (String bad : new String[]{"", "MB", "-1MB", "1.5MB", "1TB", "one", "1 megabyte"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> converter.convert(bad), bad);
            assertEquals(true, e.getMessage().contains("1MB") || e.getMessage().contains("too large"), e.getMessage());
        }
    }
}
