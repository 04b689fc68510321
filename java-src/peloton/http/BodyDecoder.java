package peloton.http;

import java.nio.ByteBuffer;

/**
 * The Content-Length and chunked body framing shared by {@link peloton.http.server.RequestParser} and
 * {@link peloton.http.client.ResponseParser}: data goes to a {@link BodySink} as views of the input (no copy);
 * chunk-size lines, extensions and the CRLF after chunk data are checked byte by byte. Trailer
 * fields are the parser's business: {@link #decode} stops at {@link #LAST_CHUNK}.
 *
 * <p>Chunk extensions follow their grammar (RFC 9112 §7.1.1):
 * {@code *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )}, quoted strings with
 * their quoted-pairs; anything else (an unterminated quoted string, a control character, a
 * stray character) is an error, so that no two readers can disagree on where the size line ends.
 * Their bytes are bounded per line ({@code maxChunkExt}) and over the whole body
 * ({@code maxChunkExtTotal}), so many small chunks cannot carry unbounded extensions. Their
 * meaning is ignored.
 *
 * <p>Errors answer {@link #ERROR} with {@link #error}; {@link #tooLarge} tells a body over
 * {@link #maxBody} from a malformed one (each parser words and codes it its own way).
 */
public final class BodyDecoder {
    /** All of the input was consumed and the body goes on: decode more when more arrives. */
    public static final int NEED_MORE = 0;
    /** A Content-Length body is complete. */
    public static final int DONE = 2;
    /** The body is malformed or too large; {@link #error} says why, {@link #tooLarge} which. */
    public static final int ERROR = -1;
    /** The last chunk's size line has been read; the trailer section follows in the input. */
    public static final int LAST_CHUNK = 3;

    private static final int LENGTH = 1, SIZE = 2, SIZE_WS = 3, SIZE_LF = 5, DATA = 6,
            DATA_CR = 7, DATA_LF = 8, END = 9;
    // chunk extension states: before a name, in it, after it; before a value, in a token value,
    // in a quoted one, after a backslash in it, right after its closing quote, after a value
    private static final int X_PRE_NAME = 10, X_NAME = 11, X_POST_NAME = 12, X_PRE_VAL = 13,
            X_TOKEN = 14, X_QUOTED = 15, X_QPAIR = 16, X_QUOTE_END = 17, X_POST_VAL = 18;

    /** qdtext (RFC 9110 §5.6.4): HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text. */
    private static final boolean[] QDTEXT = new boolean[256];

    static {
        QDTEXT['\t'] = true;
        QDTEXT[' '] = true;
        for (int c = 0x21; c < 0x100; c++) QDTEXT[c] = c != '"' && c != '\\' && c != 0x7F;
    }

    private final int maxChunkExt, maxChunkExtTotal;
    private final boolean wsBeforeCrlf;
    /** The largest body accepted; chunk sizes adding up over it are refused before their data. */
    public long maxBody;

    private int state = END;
    private long remaining, chunkSize, bodyTotal;
    private int sizeChars, extLen, extTotal;

    /** The reason after {@link #ERROR}. */
    public String error;
    /** After {@link #ERROR}: the body is over {@link #maxBody}, not malformed. */
    public boolean tooLarge;

    /**
     * {@code wsBeforeCrlf}: whether whitespace after the chunk size may end the line without an
     * extension or after one (the client tolerates {@code "5 \r\n"}; the server refuses it).
     * {@code maxChunkExt} bounds the extension bytes of one size line, {@code maxChunkExtTotal}
     * those of a whole body.
     *
     * @param maxChunkExt the most extension bytes on one chunk size line
     * @param maxChunkExtTotal the most extension bytes in a whole chunked body
     * @param maxBody the largest body accepted, in bytes (see {@link #maxBody})
     * @param wsBeforeCrlf whether whitespace may end a chunk size line
     */
    public BodyDecoder(int maxChunkExt, int maxChunkExtTotal, long maxBody, boolean wsBeforeCrlf) {
        this.maxChunkExt = maxChunkExt;
        this.maxChunkExtTotal = maxChunkExtTotal;
        this.maxBody = maxBody;
        this.wsBeforeCrlf = wsBeforeCrlf;
    }

    /**
     * A body of {@code n} > 0 bytes follows.
     *
     * @param n the Content-Length, more than 0
     */
    public void startLength(long n) {
        state = LENGTH;
        remaining = n;
    }

    /** A chunked body follows. */
    public void startChunked() {
        state = SIZE;
        chunkSize = 0;
        sizeChars = 0;
        extLen = 0;
        extTotal = 0;
        bodyTotal = 0;
    }

    /**
     * Decodes from {@code in}: answers {@link #NEED_MORE} (all of {@code in} consumed),
     * {@link #DONE} (position just after a Content-Length body), {@link #LAST_CHUNK} (position
     * just after the last chunk's size line) or {@link #ERROR}. Not called again after any of the
     * last three before the next start.
     *
     * @param in the bytes read; its position moves past what was decoded
     * @param sink where the body's data goes, as views of {@code in}; null to skip it
     * @return {@link #NEED_MORE}, {@link #DONE}, {@link #LAST_CHUNK} or {@link #ERROR}
     */
    public int decode(ByteBuffer in, BodySink sink) {
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
                    else if (c == ';') s = X_PRE_NAME;
                    else if (c == ' ' || c == '\t') s = SIZE_WS;
                    else return fail(false, "invalid chunk size");
                    break;
                }
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
                default:
                    if (s >= X_PRE_NAME || s == SIZE_WS) {
                        if (c == '\r') {
                            int next = extensionEnd(s);
                            if (next < 0) {
                                return fail(false, s == X_QUOTED || s == X_QPAIR
                                        ? "unterminated quoted string in chunk extension"
                                        : "invalid chunk extension");
                            }
                            s = next;
                            break;
                        }
                        if (++extLen > maxChunkExt) return fail(false, "chunk extension too long");
                        if (++extTotal > maxChunkExtTotal) return fail(false, "chunk extensions too large in total");
                        s = extension(s, c);
                        if (s < 0) return fail(false, "invalid character in chunk extension");
                        break;
                    }
                    s = afterData(s, c);
                    if (s < 0) return fail(false, "missing CRLF after chunk data");
                    break;
            }
        }
        state = s;
        return NEED_MORE;
    }

    // The CR ending a size line in extension state s: SIZE_LF, or -1 where it cannot end.
    private int extensionEnd(int s) {
        switch (s) {
            case X_NAME: case X_TOKEN: case X_QUOTE_END:
                return SIZE_LF;
            case SIZE_WS: case X_POST_NAME: case X_POST_VAL:
                return wsBeforeCrlf ? SIZE_LF : -1;
            default: // after ';' or '=', or inside a quoted string
                return -1;
        }
    }

    // The state after extension byte c (not CR) in state s, or -1 when c breaks the grammar.
    private static int extension(int s, int c) {
        boolean ws = c == ' ' || c == '\t';
        switch (s) {
            case SIZE_WS:
                return ws ? SIZE_WS : c == ';' ? X_PRE_NAME : -1;
            case X_PRE_NAME:
                return ws ? X_PRE_NAME : HttpBytes.TOKEN[c] ? X_NAME : -1;
            case X_NAME:
                if (HttpBytes.TOKEN[c]) return X_NAME;
                // fall through: what may follow a name
            case X_POST_NAME:
                return ws ? X_POST_NAME : c == '=' ? X_PRE_VAL : c == ';' ? X_PRE_NAME : -1;
            case X_PRE_VAL:
                return ws ? X_PRE_VAL : c == '"' ? X_QUOTED : HttpBytes.TOKEN[c] ? X_TOKEN : -1;
            case X_TOKEN:
                if (HttpBytes.TOKEN[c]) return X_TOKEN;
                // fall through: what may follow a value
            case X_QUOTE_END:
            case X_POST_VAL:
                return ws ? X_POST_VAL : c == ';' ? X_PRE_NAME : -1;
            case X_QUOTED:
                return c == '"' ? X_QUOTE_END : c == '\\' ? X_QPAIR : QDTEXT[c] ? X_QUOTED : -1;
            case X_QPAIR: // quoted-pair: "\" ( HTAB / SP / VCHAR / obs-text )
                return c == '\t' || (c >= 0x20 && c != 0x7F) ? X_QUOTED : -1;
            default:
                throw new IllegalStateException("extension state " + s);
        }
    }

    // The CRLF after chunk data: the next state, or -1.
    private int afterData(int s, int c) {
        switch (s) {
            case DATA_CR:
                return c == '\r' ? DATA_LF : -1;
            case DATA_LF:
                if (c != '\n') return -1;
                chunkSize = 0;
                sizeChars = 0;
                extLen = 0;
                return SIZE;
            default:
                throw new IllegalStateException("body state " + s);
        }
    }

    private int fail(boolean large, String reason) {
        state = END;
        tooLarge = large;
        error = reason;
        return ERROR;
    }

    /**
     * Hands in[position, position + n) to {@code sink} (null: skip), then moves past it.
     *
     * @param in the bytes; its limit is restored after the sink saw them
     * @param n how many bytes, at most {@code in.remaining()}
     * @param sink where they go, or null to skip them
     */
    public static void deliver(ByteBuffer in, int n, BodySink sink) {
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
