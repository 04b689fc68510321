package peloton.http;

import java.nio.ByteBuffer;

/**
 * The Content-Length and chunked body framing shared by {@link RequestParser} and
 * {@link ResponseParser}: data goes to a {@link BodySink} as views of the input (no copy);
 * chunk-size lines, extensions and the CRLF after chunk data are checked byte by byte. Trailer
 * fields are the parser's business: {@link #decode} stops at {@link #LAST_CHUNK}.
 *
 * <p>Errors answer {@link #ERROR} with {@link #error}; {@link #tooLarge} tells a body over
 * {@link #maxBody} from a malformed one (each parser words and codes it its own way).
 */
final class BodyDecoder {
    static final int NEED_MORE = 0;
    /** A Content-Length body is complete. */
    static final int DONE = 2;
    static final int ERROR = -1;
    /** The last chunk's size line has been read; the trailer section follows in the input. */
    static final int LAST_CHUNK = 3;

    private static final int LENGTH = 1, SIZE = 2, SIZE_WS = 3, EXT = 4, SIZE_LF = 5, DATA = 6,
            DATA_CR = 7, DATA_LF = 8, END = 9;

    private final int maxChunkExt;
    private final boolean wsBeforeCrlf;
    /** The largest body accepted; chunk sizes adding up over it are refused before their data. */
    long maxBody;

    private int state = END;
    private long remaining, chunkSize, bodyTotal;
    private int sizeChars, extLen;

    /** The reason after {@link #ERROR}. */
    String error;
    /** After {@link #ERROR}: the body is over {@link #maxBody}, not malformed. */
    boolean tooLarge;

    /**
     * {@code wsBeforeCrlf}: whether whitespace after the chunk size may end the line without an
     * extension (the client tolerates {@code "5 \r\n"}; the server refuses it).
     */
    BodyDecoder(int maxChunkExt, long maxBody, boolean wsBeforeCrlf) {
        this.maxChunkExt = maxChunkExt;
        this.maxBody = maxBody;
        this.wsBeforeCrlf = wsBeforeCrlf;
    }

    /** A body of {@code n} > 0 bytes follows. */
    void startLength(long n) {
        state = LENGTH;
        remaining = n;
    }

    /** A chunked body follows. */
    void startChunked() {
        state = SIZE;
        chunkSize = 0;
        sizeChars = 0;
        extLen = 0;
        bodyTotal = 0;
    }

    /**
     * Decodes from {@code in}: answers {@link #NEED_MORE} (all of {@code in} consumed),
     * {@link #DONE} (position just after a Content-Length body), {@link #LAST_CHUNK} (position
     * just after the last chunk's size line) or {@link #ERROR}. Not called again after any of the
     * last three before the next start.
     */
    int decode(ByteBuffer in, BodySink sink) {
        while (true) {
            if (state == LENGTH || state == DATA) {
                int n = (int) Math.min(remaining, in.remaining());
                if (n > 0) {
                    deliver(in, n, sink);
                    remaining -= n;
                }
                if (remaining > 0) return NEED_MORE;
                if (state == LENGTH) {
                    state = END;
                    return DONE;
                }
                state = DATA_CR;
            }
            int r = chunkFraming(in);
            if (r != DATA) return r;
        }
    }

    // Chunk-size lines and the CRLF after chunk data, byte by byte; DATA means "chunk data next".
    private int chunkFraming(ByteBuffer in) {
        int s = state;
        while (in.hasRemaining()) {
            int c = in.get() & 0xFF;
            switch (s) {
                case SIZE: {
                    int d = HttpBytes.hex(c);
                    if (d >= 0) {
                        if (chunkSize > (Long.MAX_VALUE >> 4) || ++sizeChars > 32) {
                            return fail(false, "chunk size too large");
                        }
                        chunkSize = (chunkSize << 4) | d;
                        break;
                    }
                    if (sizeChars == 0) return fail(false, "invalid chunk size");
                    if (c == '\r') s = SIZE_LF;
                    else if (c == ';') s = EXT;
                    else if (c == ' ' || c == '\t') s = SIZE_WS;
                    else return fail(false, "invalid chunk size");
                    break;
                }
                case SIZE_WS:
                    if (++extLen > maxChunkExt) return fail(false, "chunk extension too long");
                    if (c == ';') s = EXT;
                    else if (c == '\r' && wsBeforeCrlf) s = SIZE_LF;
                    else if (c != ' ' && c != '\t') return fail(false, "invalid chunk size line");
                    break;
                case EXT:
                    if (c == '\r') {
                        s = SIZE_LF;
                    } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
                        return fail(false, "invalid character in chunk extension");
                    } else if (++extLen > maxChunkExt) {
                        return fail(false, "chunk extension too long");
                    }
                    break;
                case SIZE_LF:
                    if (c != '\n') return fail(false, "bare CR in chunk size line");
                    if (chunkSize == 0) {
                        state = END;
                        return LAST_CHUNK;
                    }
                    if (chunkSize > maxBody - bodyTotal) return fail(true, "body too large");
                    bodyTotal += chunkSize;
                    remaining = chunkSize;
                    state = DATA;
                    return DATA;
                case DATA_CR:
                    if (c != '\r') return fail(false, "missing CRLF after chunk data");
                    s = DATA_LF;
                    break;
                case DATA_LF:
                    if (c != '\n') return fail(false, "missing CRLF after chunk data");
                    s = SIZE;
                    chunkSize = 0;
                    sizeChars = 0;
                    extLen = 0;
                    break;
                default:
                    throw new IllegalStateException("body state " + s);
            }
        }
        state = s;
        return NEED_MORE;
    }

    private int fail(boolean large, String reason) {
        state = END;
        tooLarge = large;
        error = reason;
        return ERROR;
    }

    /** Hands in[position, position + n) to {@code sink} (null: skip), then moves past it. */
    static void deliver(ByteBuffer in, int n, BodySink sink) {
        int start = in.position();
        if (sink == null) {
            in.position(start + n);
            return;
        }
        int limit = in.limit();
        in.limit(start + n);
        try {
            sink.onData(in);
        } finally {
            in.limit(limit);
            in.position(start + n);
        }
    }
}
