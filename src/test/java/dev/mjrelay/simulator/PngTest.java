package dev.mjrelay.simulator;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The simulator's images are PNGs any decoder reads: a diagonal gradient from one colour to the other. */
class PngTest {

    @Test
    void aDecoderReadsEveryPixelOfTheGradient() throws IOException {
        int from = 0x1e90ff;
        int to = 0xff8c00;
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(Png.gradient(256, from, to)));
        assertNotNull(image, "a PNG the JDK's decoder reads");
        assertEquals(256, image.getWidth());
        assertEquals(256, image.getHeight());
        assertEquals(from, image.getRGB(0, 0) & 0xffffff, "top left: the first colour");
        assertEquals(to, image.getRGB(255, 255) & 0xffffff, "bottom right: the second colour");
        for (int y = 0; y < 256; y++) {
            for (int x = 0; x < 256; x++) {
                double t = (x + y) / 510.0;
                int expected = channel(from >> 16, to >> 16, t) << 16 | channel(from >> 8, to >> 8, t) << 8 | channel(from, to, t);
                assertEquals(expected, image.getRGB(x, y) & 0xffffff, "pixel " + x + "," + y);
            }
        }
    }

    private static int channel(int from, int to, double t) {
        return (int) Math.round((from & 0xff) * (1 - t) + (to & 0xff) * t);
    }
}
