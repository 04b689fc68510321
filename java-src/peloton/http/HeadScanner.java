package peloton.http;

import static peloton.http.HttpBytes.FIELD_VCHAR;
import static peloton.http.HttpBytes.TOKEN;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The head bytes of one message and the scanner of its field sections (header, then trailer),
 * shared by {@link peloton.http.server.RequestParser} and {@link peloton.http.client.ResponseParser}. Each parser scans its own start
 * line in {@link #buf}, then calls {@link #startFields} and {@link #scanFields}.
 *
 * <p>Head bytes are copied in bulk into a reusable growable array ({@link #fill}); field names
 * are lower-cased in place; each field line is recorded as four offsets in {@link #fields}
 * (name start, name end, value start, value end, the value without surrounding whitespace).
 * Errors answer {@link #ERROR} with {@link #errorKind} (and {@link #error} for {@link #BAD}).
 *
 * <p>A pooled scanner (the request parser's) holds no arrays while no head is arriving: the
 * first {@link #fill} borrows them from a small pool of the current thread (a reactor thread
 * parses for many connections, one at a time) and {@link #release} gives them back once the
 * parser has copied what it needs. So an idle keep-alive connection costs no head buffer, and
 * the hot path allocates nothing for it.
 */
public final class HeadScanner {
    /** The section is not complete in {@link #buf} yet: {@link #fill} more and scan again. */
    public static final int NEED_MORE = 0;
    /** The empty line ending the section was read; {@link #pos} is just after it. */
    public static final int DONE = 1;
    /** The section is malformed or too large; {@link #errorKind} says how. */
    public static final int ERROR = -1;

    /** Error kinds: a malformed field line, the section over its byte limit, too many fields. */
    public static final int BAD = 1, TOO_LARGE = 2, TOO_MANY = 3;

    private static final int CHUNK = 4096;
    private static final int INITIAL_BUF = 1024, INITIAL_FIELDS = 4 * 16;
    /** Larger head buffers are dropped rather than kept (one huge head must not pin memory). */
    private static final int KEEP_BUF = 64 * 1024;

    /** The arrays idle pooled scanners left on this thread, ready for the next head. */
    private static final class Pool {
        static final int SIZE = 16;
        final byte[][] bufs = new byte[SIZE][];
        final int[][] fieldArrays = new int[SIZE][];
        int count;
    }

    private static final ThreadLocal<Pool> POOLS = ThreadLocal.withInitial(Pool::new);

    private static final int F_START = 0, F_NAME = 1, F_VALUE_OWS = 2, F_VALUE = 3,
            F_FIELD_LF = 4, F_END_LF = 5;

    private final int maxFields;
    private final boolean bareLf, unfold, pooled;
    // the pool of the thread that last borrowed, so the hot path skips the ThreadLocal lookup
    private Pool pool;
    private Thread poolThread;

    /** Head bytes: [0, len) read, [0, pos) scanned; null while a pooled scanner holds none. */
    public byte[] buf;
    /** {@code len}: bytes read into {@link #buf}; {@code pos}: bytes scanned (a parser moves it past its start line). */
    public int len, pos;
    /** Offsets of the field lines, four per field; null with {@link #buf}. */
    public int[] fields;
    /** How many fields {@link #fields} holds, of every section scanned since {@link #clear}. */
    public int fieldCount;

    private int sectionStart, hardLimit, state;
    private int nameStart, nameEnd, valueStart, valueEnd;

    /** After {@link #ERROR}: {@link #BAD}, {@link #TOO_LARGE} or {@link #TOO_MANY}. */
    public int errorKind;
    /** After {@link #ERROR} with {@link #BAD}: what is wrong with the field line, in words; else null. */
    public String error;

    /**
     * {@code maxFields} per section; {@code bareLf}: a bare LF may end a line; {@code unfold}:
     * obsolete line folding is replaced by spaces (else it is an error); {@code pooled}: the
     * arrays are borrowed per head and given back by {@link #release} (else owned for good).
     *
     * @param maxFields the most field lines one section may have ({@link #TOO_MANY} beyond)
     * @param bareLf whether a bare LF may end a line (else only CRLF)
     * @param unfold whether obsolete line folding is replaced by spaces (else it is {@link #BAD})
     * @param pooled whether the arrays are borrowed per head from the thread's pool
     */
    public HeadScanner(int maxFields, boolean bareLf, boolean unfold, boolean pooled) {
        this.maxFields = maxFields;
        this.bareLf = bareLf;
        this.unfold = unfold;
        this.pooled = pooled;
        if (!pooled) {
            buf = new byte[INITIAL_BUF];
            fields = new int[INITIAL_FIELDS];
        }
    }

    private Pool pool() {
        Thread t = Thread.currentThread();
        if (poolThread != t) {
            pool = POOLS.get();
            poolThread = t;
        }
        return pool;
    }

    private void acquire() {
        Pool p = pool();
        if (p.count > 0) {
            int i = --p.count;
            buf = p.bufs[i];
            fields = p.fieldArrays[i];
            p.bufs[i] = null;
            p.fieldArrays[i] = null;
        } else {
            buf = new byte[INITIAL_BUF];
            fields = new int[INITIAL_FIELDS];
        }
    }

    /**
     * A pooled scanner gives its arrays back to this thread's pool (nothing read into them may
     * be used afterwards); the next {@link #fill} borrows again. No-op for an unpooled one.
     */
    public void release() {
        if (!pooled || buf == null) return;
        Pool p = pool();
        if (p.count < Pool.SIZE && buf.length <= KEEP_BUF) {
            p.bufs[p.count] = buf;
            p.fieldArrays[p.count] = fields;
            p.count++;
        }
        buf = null;
        fields = null;
    }

    /** Forgets all bytes and fields. */
    public void clear() {
        len = 0;
        pos = 0;
        fieldCount = 0;
        sectionStart = 0;
    }

    /** Drops a huge head's buffer (call when empty). */
    public void shrink() {
        if (buf != null && buf.length > KEEP_BUF) buf = new byte[INITIAL_BUF];
    }

    /**
     * Copies up to a few KiB of {@code in} after {@link #len}; false when {@code in} is empty.
     *
     * @param in bytes read from the socket; its position moves past what was copied
     * @return true when bytes were copied, false when {@code in} had none
     */
    public boolean fill(ByteBuffer in) {
        int n = Math.min(in.remaining(), CHUNK);
        if (n == 0) return false;
        if (buf == null) acquire();
        if (len + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        in.get(buf, len, n);
        len += n;
        return true;
    }

    /**
     * Gives the bytes read past {@link #pos} back to {@code in}.
     *
     * @param in the buffer last given to {@link #fill}; its position moves back over those bytes
     */
    public void giveBack(ByteBuffer in) {
        in.position(in.position() - (len - pos));
        len = pos;
    }

    /**
     * A field section starts at {@link #pos}; scanning must stop before {@code limit}.
     *
     * @param limit the offset in {@link #buf} the section must end before ({@link #TOO_LARGE} otherwise)
     */
    public void startFields(int limit) {
        state = F_START;
        sectionStart = fieldCount;
        hardLimit = limit;
    }

    private int fail(int kind, String reason) {
        errorKind = kind;
        error = reason;
        return ERROR;
    }

    /**
     * Scans buf[pos, len) of a field section.
     *
     * @return {@link #NEED_MORE}, {@link #DONE} or {@link #ERROR}
     */
    public int scanFields() {
        final byte[] b = buf;
        final int end = len;
        final int limit = hardLimit;
        int p = pos;
        int s = state;
        while (p < end) {
            if (p >= limit) return fail(TOO_LARGE, null);
            int c = b[p] & 0xFF;
            switch (s) {
                case F_START:
                    if (TOKEN[c]) {
                        if (fieldCount - sectionStart >= maxFields) return fail(TOO_MANY, null);
                        nameStart = p;
                        if (c >= 'A' && c <= 'Z') b[p] = (byte) (c + 32);
                        s = F_NAME;
                    } else if (c == '\r') {
                        s = F_END_LF;
                    } else if (c == '\n') {
                        if (!bareLf) return fail(BAD, "bare LF");
                        pos = p + 1;
                        return DONE;
                    } else if (c == ' ' || c == '\t') {
                        if (!unfold) return fail(BAD, "obsolete line folding");
                        if (fieldCount == sectionStart) return fail(BAD, "whitespace before the first field");
                        s = unfold(p);
                    } else {
                        return fail(BAD, "invalid character in field name");
                    }
                    break;
                case F_NAME: {
                    int lim = Math.min(end, limit);
                    while (TOKEN[c]) {
                        if (c >= 'A' && c <= 'Z') b[p] = (byte) (c + 32);
                        if (++p == lim) break;
                        c = b[p] & 0xFF;
                    }
                    if (p == lim) continue;
                    if (c == ':') {
                        nameEnd = p;
                        valueStart = -1;
                        s = F_VALUE_OWS;
                    } else if (c == ' ' || c == '\t') {
                        return fail(BAD, "whitespace before colon");
                    } else if (c == '\r' || c == '\n') {
                        return fail(BAD, "missing colon in field line");
                    } else {
                        return fail(BAD, "invalid character in field name");
                    }
                    break;
                }
                case F_VALUE_OWS:
                    if (c == ' ' || c == '\t') break;
                    if (FIELD_VCHAR[c]) {
                        valueStart = p;
                        valueEnd = p + 1;
                        s = F_VALUE;
                        break;
                    }
                    // fall through: CR, LF or a control character end or break the (empty) value
                case F_VALUE: {
                    int lim = Math.min(end, limit);
                    int ve = valueEnd;
                    while (true) {
                        if (FIELD_VCHAR[c]) {
                            ve = p + 1;
                        } else if (c != ' ' && c != '\t') {
                            break;
                        }
                        if (++p == lim) break;
                        c = b[p] & 0xFF;
                    }
                    valueEnd = ve;
                    if (p == lim) continue;
                    if (c == '\r') {
                        s = F_FIELD_LF;
                    } else if (c == '\n') {
                        if (!bareLf) return fail(BAD, "bare LF");
                        endField(p);
                        s = F_START;
                    } else {
                        return fail(BAD, "invalid character in field value");
                    }
                    break;
                }
                case F_FIELD_LF:
                    if (c != '\n') return fail(BAD, "bare CR");
                    endField(p);
                    s = F_START;
                    break;
                case F_END_LF:
                    if (c != '\n') return fail(BAD, "bare CR");
                    pos = p + 1;
                    return DONE;
                default:
                    throw new IllegalStateException("state " + s);
            }
            p++;
        }
        pos = p;
        state = s;
        return NEED_MORE;
    }

    // Obsolete line folding: reopen the previous field, its line break becoming spaces.
    private int unfold(int p) {
        fieldCount--;
        int i = 4 * fieldCount;
        nameStart = fields[i];
        nameEnd = fields[i + 1];
        valueStart = fields[i + 2];
        valueEnd = fields[i + 3];
        buf[p - 1] = ' ';
        if (buf[p - 2] == '\r') buf[p - 2] = ' ';
        if (valueStart == valueEnd) {
            valueStart = -1;
            return F_VALUE_OWS;
        }
        return F_VALUE;
    }

    private void endField(int p) {
        if (valueStart < 0) {
            valueStart = p;
            valueEnd = p;
        }
        int i = 4 * fieldCount;
        if (i + 4 > fields.length) fields = Arrays.copyOf(fields, fields.length * 2);
        fields[i] = nameStart;
        fields[i + 1] = nameEnd;
        fields[i + 2] = valueStart;
        fields[i + 3] = valueEnd;
        fieldCount++;
    }
}
