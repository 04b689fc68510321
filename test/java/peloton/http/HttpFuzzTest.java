package peloton.http;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import peloton.http.client.ResponseParserTest;
import peloton.http.server.PathNormalizer;
import peloton.http.server.Request;
import peloton.http.server.RequestParser;
import peloton.http.server.RequestParserTest;

/**
 * Coverage-guided fuzz targets for the HTTP parsers (Jazzer; see FUZZING.md). Under {@code mvn
 * test} each runs only its seeds and past findings, kept in {@code
 * test/resources/peloton/http/HttpFuzzTestInputs/<target>/}. Every target parses the same bytes
 * whole, cut where the fuzzer says and (when short) byte by byte, and demands the same result:
 * the parsers are incremental, so where the reads happen to split the input must never matter.
 * A target fails on any exception (the parsers answer ERROR, never throw), on input left
 * unconsumed with NEED_MORE, and where a reference exists on disagreeing with it.
 */
class HttpFuzzTest {
    private static final int BYTE_BY_BYTE_MAX = 2048;

    /** Limits small enough for the fuzzer to reach every limit, or the defaults. */
    private static HttpLimits limits(FuzzedDataProvider d) {
        HttpLimits l = new HttpLimits();
        if (d.consumeBoolean()) {
            l.maxRequestLine = d.consumeInt(8, 256);
            l.maxHeaderBytes = d.consumeInt(8, 512);
            l.maxHeaders = d.consumeInt(1, 16);
            l.maxBody = d.consumeLong(0, 4096);
            l.maxChunkExtension = d.consumeInt(0, 64);
            l.maxChunkExtensionTotal = d.consumeInt(0, 256);
            l.maxTrailerBytes = d.consumeInt(2, 256);
            l.allowBareLf = d.consumeBoolean();
        }
        return l;
    }

    /** Up to four cut points from a seed, taken before the data so they do not eat into it. */
    private static int[] cuts(int seed, int length) {
        Random rnd = new Random(seed);
        int[] cuts = new int[rnd.nextInt(5)];
        for (int i = 0; i < cuts.length; i++) cuts[i] = rnd.nextInt(length + 1);
        Arrays.sort(cuts);
        return cuts;
    }

    /** The request parser: split-point equivalence, and what every accepted request must be. */
    @FuzzTest
    void requestParser(FuzzedDataProvider d) {
        HttpLimits limits = limits(d);
        boolean direct = d.consumeBoolean();
        int cutSeed = d.consumeInt();
        byte[] data = d.consumeRemainingAsBytes();
        int[] cuts = cuts(cutSeed, data.length);

        String whole = RequestParserTest.drive(limits, data, new int[0], false);
        assertEquals(whole, RequestParserTest.drive(limits, data, cuts, direct), "cut at " + Arrays.toString(cuts));
        if (data.length <= BYTE_BY_BYTE_MAX) {
            assertEquals(whole, RequestParserTest.drive(limits, data, ParserHarness.eachByte(data.length), false));
        }
        checkAcceptedRequests(limits, data);
    }

    // Every request the parser accepts keeps the promises Request makes.
    private static void checkAcceptedRequests(HttpLimits limits, byte[] data) {
        RequestParser p = new RequestParser(limits);
        ByteBuffer in = ByteBuffer.wrap(data);
        while (in.hasRemaining()) {
            int r = p.parseHead(in);
            if (r != RequestParser.HEAD_DONE) return;
            Request req = p.request();
            String target = req.target();
            for (int i = 0; i < target.length(); i++) {
                char c = target.charAt(i);
                assertTrue(c > 0x20 && c < 0x7F && c != '#' && HttpBytes.TARGET_CLASS[c] != 0, target);
            }
            String path = req.path();
            if (path.startsWith("/")) {
                assertEquals(path, PathNormalizer.normalize(path), "the routed path is normal: " + target);
                assertFalse(path.contains("/./") || path.contains("/../") || path.endsWith("/.")
                        || path.endsWith("/.."), path);
            }
            String host = req.host();
            if (host != null) {
                byte[] hb = host.getBytes(StandardCharsets.ISO_8859_1);
                assertEquals(hb.length, HttpBytes.authorityHostEnd(hb, 0, hb.length), "a valid host: " + host);
                assertTrue(req.port() >= -1 && req.port() <= 65535);
            }
            assertTrue(req.versionMinor() == 0 || req.versionMinor() == 1);
            assertTrue(req.contentLength() <= limits.maxBody);
            if (p.parseBody(in, null) != RequestParser.BODY_DONE) return;
            p.reset();
        }
    }

    /** The client's response parser: split-point equivalence, HEAD or not. */
    @FuzzTest
    void responseParser(FuzzedDataProvider d) {
        HttpLimits limits = limits(d);
        boolean head = d.consumeBoolean();
        boolean direct = d.consumeBoolean();
        int cutSeed = d.consumeInt();
        byte[] data = d.consumeRemainingAsBytes();
        int[] cuts = cuts(cutSeed, data.length);
        String whole = ResponseParserTest.drive(limits, data, new int[0], false, head);
        assertEquals(whole, ResponseParserTest.drive(limits, data, cuts, direct, head), "cut at " + Arrays.toString(cuts));
        if (data.length <= BYTE_BY_BYTE_MAX) {
            assertEquals(whole, ResponseParserTest.drive(limits, data, ParserHarness.eachByte(data.length), false, head));
        }
    }

    /**
     * The chunked body decoder against a reference written from RFC 9112 §7.1 as plainly as
     * possible (a regular expression per size line), with the same limits; and split-point
     * equivalence.
     */
    @FuzzTest
    void chunkedDecoder(FuzzedDataProvider d) {
        int maxExt = d.consumeInt(0, 64);
        int maxExtTotal = d.consumeInt(0, 256);
        long maxBody = d.consumeBoolean() ? Long.MAX_VALUE : d.consumeLong(0, 4096);
        boolean lenient = d.consumeBoolean();
        int cutSeed = d.consumeInt();
        byte[] data = d.consumeRemainingAsBytes();
        int[] cuts = cuts(cutSeed, data.length);

        String expected = ChunkedReference.decode(data, maxExt, maxExtTotal, maxBody, lenient);
        String whole = decodeChunked(data, new int[0], maxExt, maxExtTotal, maxBody, lenient);
        assertEquals(expected, whole, "against the reference");
        assertEquals(whole, decodeChunked(data, cuts, maxExt, maxExtTotal, maxBody, lenient));
        if (data.length <= BYTE_BY_BYTE_MAX) {
            assertEquals(whole, decodeChunked(data, ParserHarness.eachByte(data.length), maxExt, maxExtTotal, maxBody, lenient));
        }
    }

    /** "DONE at N: data", "ERROR" (or "ERROR too large"), or "MORE: data so far". */
    static String decodeChunked(byte[] data, int[] cuts, int maxExt, int maxExtTotal, long maxBody, boolean lenient) {
        BodyDecoder dec = new BodyDecoder(maxExt, maxExtTotal, maxBody, lenient);
        dec.startChunked();
        ParserHarness.Feed feed = new ParserHarness.Feed(data, cuts, false);
        ParserHarness.Collect sink = new ParserHarness.Collect();
        StringBuilder got = new StringBuilder();
        int consumed = 0;
        for (ByteBuffer acc; (acc = feed.next()) != null; ) {
            int before = acc.position();
            int r = dec.decode(acc, sink);
            consumed += acc.position() - before;
            got.append(sink.take());
            if (r == BodyDecoder.LAST_CHUNK) return "DONE at " + consumed + ": " + got;
            if (r == BodyDecoder.ERROR) return dec.tooLarge ? "ERROR too large" : "ERROR";
            assertEquals(BodyDecoder.NEED_MORE, r);
            assertEquals(0, acc.remaining(), "NEED_MORE consumes everything");
        }
        return "MORE: " + got;
    }

    /** RFC 9112 §7.1 chunked framing up to the last chunk's size line, decoded the slow, obvious way. */
    static final class ChunkedReference {
        private static final String TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
        private static final String QUOTED = "\"(?:[\\t \\x21\\x23-\\x5B\\x5D-\\x7E\\x80-\\xFF]|\\\\[\\t \\x21-\\x7E\\x80-\\xFF])*\"";
        private static final String EXT = "(?:[ \\t]*;[ \\t]*" + TOKEN + "(?:[ \\t]*=[ \\t]*(?:" + TOKEN + "|" + QUOTED + "))?)*";
        private static final Pattern STRICT = Pattern.compile("([0-9A-Fa-f]+)(" + EXT + ")");
        // the client also takes whitespace before the CRLF
        private static final Pattern LENIENT = Pattern.compile("([0-9A-Fa-f]+)(" + EXT + "[ \\t]*)");

        static String decode(byte[] data, int maxExt, int maxExtTotal, long maxBody, boolean lenient) {
            String s = new String(data, StandardCharsets.ISO_8859_1);
            Pattern line = lenient ? LENIENT : STRICT;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int p = 0;
            long total = 0, extTotal = 0;
            while (true) {
                int cr = s.indexOf('\r', p);
                String l = cr < 0 ? s.substring(p) : s.substring(p, cr);
                Matcher m = line.matcher(l);
                boolean complete = cr >= 0;
                boolean matches = m.matches();
                if (!matches && (complete || !m.hitEnd())) return "ERROR";
                // size digits: at most 32, the value within a long
                int digits = 0;
                while (digits < l.length() && Character.digit(l.charAt(digits), 16) >= 0) digits++;
                if (digits > 32) return "ERROR";
                if (digits > 0 && new BigInteger(l.substring(0, digits), 16).bitLength() > 63) return "ERROR";
                // extension bytes: all after the first character that ends the size
                int ext = Math.max(0, l.length() - digits - 1);
                if (ext > maxExt || extTotal + ext > maxExtTotal) return "ERROR";
                if (!complete) return "MORE: " + out.toString(StandardCharsets.ISO_8859_1);
                extTotal += ext;
                if (cr + 1 == s.length()) return "MORE: " + out.toString(StandardCharsets.ISO_8859_1);
                if (s.charAt(cr + 1) != '\n') return "ERROR";
                long size = Long.parseLong(m.group(1).substring(Math.max(0, digits - 16)), 16);
                p = cr + 2;
                if (size == 0) return "DONE at " + p + ": " + out.toString(StandardCharsets.ISO_8859_1);
                if (size > maxBody - total) return "ERROR too large";
                total += size;
                long avail = s.length() - p;
                if (avail < size) {
                    out.write(data, p, (int) avail);
                    return "MORE: " + out.toString(StandardCharsets.ISO_8859_1);
                }
                out.write(data, p, (int) size);
                p += (int) size;
                for (char want : new char[] {'\r', '\n'}) {
                    if (p == s.length()) return "MORE: " + out.toString(StandardCharsets.ISO_8859_1);
                    if (s.charAt(p++) != want) return "ERROR";
                }
            }
        }
    }
}
