package dev.mjrelay.simulator;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/** A tiny PNG encoder for the simulator's images: a diagonal two-colour gradient, so each looks distinct. */
final class Png {

    private Png() {
    }

    static byte[] gradient(int size, int rgbFrom, int rgbTo) {
        // A pixel's colour depends on x + y only: the image's one diagonal line of 2·size − 1 pixels is
        // worked out once, and each row is a window on it. The simulator answers image requests on an
        // event loop, and working out every pixel took longer than deflating them; now deflating is
        // most of an image's cost (the same bytes, in about half the time).
        byte[] diagonal = new byte[(2 * size - 1) * 3];
        for (int d = 0; d < 2 * size - 1; d++) {
            double t = d / (2.0 * (size - 1));
            diagonal[3 * d] = (byte) mix(rgbFrom >> 16, rgbTo >> 16, t);
            diagonal[3 * d + 1] = (byte) mix(rgbFrom >> 8, rgbTo >> 8, t);
            diagonal[3 * d + 2] = (byte) mix(rgbFrom, rgbTo, t);
        }
        int rowBytes = 1 + size * 3; // a filter byte (0: none), then the row's pixels
        byte[] raw = new byte[size * rowBytes];
        for (int y = 0; y < size; y++) {
            System.arraycopy(diagonal, 3 * y, raw, y * rowBytes + 1, size * 3);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer header = ByteBuffer.allocate(13).putInt(size).putInt(size)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", header.array());
        chunk(out, "IDAT", deflate(raw));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static int mix(int from, int to, double t) {
        return (int) Math.round((from & 0xff) * (1 - t) + (to & 0xff) * t);
    }

    private static byte[] deflate(byte[] data) {
        Deflater deflater = new Deflater(Deflater.BEST_SPEED);
        deflater.setInput(data);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        while (!deflater.finished()) {
            out.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
