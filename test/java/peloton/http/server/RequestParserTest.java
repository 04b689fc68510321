package peloton.http.server;

import static org.junit.jupiter.api.Assertions.*;
import static peloton.http.ParserHarness.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import peloton.http.HttpLimits;

public class RequestParserTest {

    /**
     * Feeds {@code data} cut at {@code cuts} through a parser the way a connection would
     * (leftovers stay in the buffer, pipelined requests follow), and describes everything
     * parsed: one line per request (head, body, trailers), then "ERROR status" if any.
     */
    public static String drive(HttpLimits limits, byte[] data, int[] cuts, boolean direct) {
        RequestParser parser = new RequestParser(limits);
        Feed feed = new Feed(data, cuts, direct);
        StringBuilder out = new StringBuilder();
        Collect sink = new Collect();
        boolean inBody = false;
        for (ByteBuffer acc; (acc = feed.next()) != null; ) {
            while (true) {
                if (!inBody) {
                    if (!acc.hasRemaining()) break;
                    int r = parser.parseHead(acc);
                    if (r == RequestParser.NEED_MORE) {
                        assertEquals(0, acc.remaining(), "NEED_MORE must consume all input");
                        break;
                    }
                    if (r == RequestParser.ERROR) {
                        return out.append("ERROR ").append(parser.errorStatus()).toString();
                    }
                    assertEquals(RequestParser.HEAD_DONE, r);
                    inBody = true;
                }
                int r = parser.parseBody(acc, sink);
                if (r == RequestParser.NEED_MORE) {
                    assertEquals(0, acc.remaining(), "NEED_MORE must consume all body input");
                    break;
                }
                if (r == RequestParser.ERROR) {
                    return out.append("ERROR ").append(parser.errorStatus()).toString();
                }
                assertEquals(RequestParser.BODY_DONE, r);
                out.append(describe(parser.request()))
                        .append(" body=").append(sink.take())
                        .append(trailers(parser.request())).append('\n');
                parser.reset();
                inBody = false;
            }
        }
        return out.toString();
    }

    static String drive(byte[] data, int[] cuts, boolean direct) {
        return drive(new HttpLimits(), data, cuts, direct);
    }

    static String describe(Request r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.method()).append(' ').append(r.target()).append(" path=").append(r.path())
                .append(" query=").append(r.query()).append(" v=1.").append(r.versionMinor())
                .append(" ka=").append(r.keepAlive()).append(" cl=").append(r.contentLength())
                .append(" chunked=").append(r.chunked()).append(" expect=").append(r.expectContinue());
        for (int i = 0; i < r.headerCount(); i++) {
            sb.append(" [").append(r.headerName(i)).append('=').append(r.headerValue(i)).append(']');
        }
        return sb.toString();
    }

    static String trailers(Request r) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < r.trailerCount(); i++) {
            sb.append(" {").append(r.trailerName(i)).append('=').append(r.trailerValue(i)).append('}');
        }
        return sb.toString();
    }

    static String whole(String req) {
        return drive(new HttpLimits(), bytes(req), new int[0], false);
    }

    static final String[] SAMPLES = {
        "GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n"
                + "Accept:  */*  \r\nX-Empty:\r\nCookie: a=b; c=d\r\n\r\n",
        "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world",
        "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n6;name=val;x\r\n world\r\nA \t; ext\r\n0123456789\r\n0\r\n"
                + "X-Checksum: abc\r\nX-Other:  z \r\n\r\n",
        "\r\n\r\nGET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
                + "PUT /p HTTP/1.1\r\nHost: h\r\ncontent-length: 3\r\nExpect: 100-continue\r\n\r\nabc"
                + "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
                + "DELETE http://example.com/a/b?q HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET /lf HTTP/1.1\nHost: h\nX-A: 1\n\n",
    };

    @Test
    void everySplitPointAndByteByByteMatchWholeParse() {
        for (String sample : SAMPLES) {
            String expected = whole(sample);
            assertFalse(expected.contains("ERROR"), expected);
            assertEverySplitMatches(expected, sample, RequestParserTest::drive);
        }
    }

    @Test
    void everyPairOfSplitPointsOfChunkedBody() {
        String sample = SAMPLES[2];
        assertEveryPairOfSplitsMatches(whole(sample), sample, RequestParserTest::drive);
    }

    @Test
    void errorsAreFoundWhereverTheInputIsSplit() {
        String[] bad = {
            "GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nfg\r\n",
        };
        for (String s : bad) {
            byte[] data = bytes(s);
            String expected = whole(s);
            assertTrue(expected.startsWith("ERROR 400"), expected);
            for (int i = 0; i <= data.length; i++) {
                assertEquals(expected, drive(new HttpLimits(), data, new int[] {i}, i % 2 == 0));
            }
        }
    }

    @Test
    void headFields() {
        RequestParser p = new RequestParser(new HttpLimits());
        ByteBuffer in = ByteBuffer.wrap(bytes(SAMPLES[0] + "NEXT"));
        assertEquals(RequestParser.HEAD_DONE, p.parseHead(in));
        assertEquals(SAMPLES[0].length(), in.position(), "position just after the head");
        Request r = p.request();
        assertSame("GET", r.method());
        assertEquals("/index.html?a=1&b=2", r.target());
        assertEquals("/index.html", r.path());
        assertEquals("a=1&b=2", r.query());
        assertEquals(1, r.versionMinor());
        assertEquals(5, r.headerCount());
        assertEquals("user-agent", r.headerName(1));
        assertEquals("*/*", r.header("accept"));
        assertEquals("", r.header("x-empty"));
        assertEquals("a=b; c=d", r.header("cookie"));
        assertNull(r.header("missing"));
        assertNull(r.header("Accept"), "lookup names are lower case");
        assertTrue(r.keepAlive());
        assertEquals(-1, r.contentLength());
        assertFalse(r.hasBody());
        assertEquals(RequestParser.BODY_DONE, p.parseBody(in, d -> fail("no body")));
        assertEquals(SAMPLES[0].length(), in.position());
        assertThrows(IndexOutOfBoundsException.class, () -> r.headerName(5));
        // the Request outlives the parser's next use
        p.reset();
        assertEquals(RequestParser.NEED_MORE, p.parseHead(in));
        assertEquals("/index.html", r.path());
        assertEquals("test/1.0", r.header("user-agent"));
    }

    @Test
    void repeatedHeadersAndMethods() {
        RequestParser p = new RequestParser(new HttpLimits());
        ByteBuffer in = ByteBuffer.wrap(bytes(
                "PATCH /x? HTTP/1.1\r\nHOST: h\r\nX-A: 1\r\nx-a: 2\r\nX-B: 3\r\nX-A: 4 5\r\n\r\n"));
        assertEquals(RequestParser.HEAD_DONE, p.parseHead(in));
        Request r = p.request();
        assertSame("PATCH", r.method());
        assertEquals("", r.query());
        assertEquals("/x", r.path());
        assertEquals(List.of("1", "2", "4 5"), r.headers("x-a"));
        assertEquals(List.of(), r.headers("x-z"));
        assertEquals("h", r.header("host"));

        p.reset();
        in = ByteBuffer.wrap(bytes("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(RequestParser.HEAD_DONE, p.parseHead(in));
        assertEquals("M-SEARCH", p.request().method());
        assertEquals("*", p.request().path());
        assertNull(p.request().query());

        p.reset();
        in = ByteBuffer.wrap(bytes("GET http://h:8080 HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(RequestParser.HEAD_DONE, p.parseHead(in));
        assertEquals("/", p.request().path());
    }

    @Test
    void obsTextInValuesIsKeptAsLatin1() {
        RequestParser p = new RequestParser(new HttpLimits());
        byte[] head = bytes("GET / HTTP/1.1\r\nHost: h\r\nX-U: caf\u00e9\r\n\r\n");
        assertEquals(RequestParser.HEAD_DONE, p.parseHead(ByteBuffer.wrap(head)));
        assertEquals("caf\u00e9", p.request().header("x-u"));
    }

    @ParameterizedTest(name = "{0} -> keepAlive {1}")
    @CsvSource(delimiter = '|', value = {
        "HTTP/1.1|                                  |true",
        "HTTP/1.1|Connection: close                 |false",
        "HTTP/1.1|Connection: Upgrade, CLOSE        |false",
        "HTTP/1.1|Connection: keep-alive            |true",
        "HTTP/1.0|                                  |false",
        "HTTP/1.0|Connection: keep-alive            |true",
        "HTTP/1.0|Connection: foo,Keep-Alive        |true",
        "HTTP/1.0|Connection: keep-alive, close     |false",
        "HTTP/1.0|Connection: keep-alivex           |false",
        "HTTP/1.1|Connection: closed                |true",
    })
    void keepAlive(String version, String header, boolean expected) {
        String h = header == null ? "" : header + "\r\n";
        RequestParser p = new RequestParser(new HttpLimits());
        assertEquals(RequestParser.HEAD_DONE,
                p.parseHead(ByteBuffer.wrap(bytes("GET / " + version + "\r\nHost: h\r\n" + h + "\r\n"))));
        assertEquals(expected, p.request().keepAlive());
    }

    @Test
    void expectContinueOnlyForHttp11() {
        RequestParser p = new RequestParser(new HttpLimits());
        p.parseHead(ByteBuffer.wrap(bytes("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                + "Content-Length: 1\r\n\r\n")));
        assertTrue(p.request().expectContinue());
        assertTrue(p.request().hasBody());
        p.reset();
        p.parseHead(ByteBuffer.wrap(bytes("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")));
        assertFalse(p.request().expectContinue());
        p.reset();
        p.parseHead(ByteBuffer.wrap(bytes("PUT / HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n")));
        assertFalse(p.request().expectContinue());
    }

    @Test
    void contentLengthVariants() {
        assertTrue(whole("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello")
                .contains("cl=5"));
        assertTrue(whole("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
                .contains("body=hello"));
        assertTrue(whole("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").contains("cl=0 "));
        assertTrue(whole("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n1234567").contains("cl=7"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // request line
        "bad method char        |GE(T / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n                        |400",
        "no version (0.9)       |GET /\\r\\n\\r\\n                                               |400",
        "double space           |GET  / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n                        |400",
        "space before version   |GET /  HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n                        |400",
        "trailing space         |GET / HTTP/1.1 \\r\\nHost: h\\r\\n\\r\\n                        |400",
        "control in target      |GET /a\\u0001b HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n                 |400",
        "DEL in target          |GET /a\\u007fb HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n                 |400",
        "non-ascii target       |GET /caf\\u00e9 HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n                |400",
        "lowercase version      |GET / http/1.1\\r\\nHost: h\\r\\n\\r\\n                         |400",
        "long version           |GET / HTTP/1.10\\r\\nHost: h\\r\\n\\r\\n                        |400",
        "short version          |GET / HTTP/1\\r\\nHost: h\\r\\n\\r\\n                           |400",
        "bare CR in line        |GET / HTTP/1.1\\rHost: h\\r\\n\\r\\n                           |400",
        "bare CR leading        |\\r\\r\\nGET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n                 |400",
        "HTTP/2.0               |GET / HTTP/2.0\\r\\nHost: h\\r\\n\\r\\n                         |505",
        "HTTP/3.0               |GET / HTTP/3.0\\r\\nHost: h\\r\\n\\r\\n                         |505",
        "HTTP/0.1               |GET / HTTP/0.1\\r\\n\\r\\n                                      |505",
        "HTTP/0.9 versioned     |GET / HTTP/0.9\\r\\n\\r\\n                                      |505",
        "h2 preface             |PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n                           |505",
        // header fields
        "space before colon     |GET / HTTP/1.1\\r\\nHost : h\\r\\n\\r\\n                         |400",
        "tab before colon       |GET / HTTP/1.1\\r\\nHost\\t: h\\r\\n\\r\\n                       |400",
        "missing colon          |GET / HTTP/1.1\\r\\nHost: h\\r\\nNoColon\\r\\n\\r\\n             |400",
        "bad name char          |GET / HTTP/1.1\\r\\nHost: h\\r\\nX(y): 1\\r\\n\\r\\n              |400",
        "empty name             |GET / HTTP/1.1\\r\\nHost: h\\r\\n: 1\\r\\n\\r\\n                 |400",
        "NUL in value           |GET / HTTP/1.1\\r\\nHost: h\\r\\nX: a\\u0000b\\r\\n\\r\\n         |400",
        "ESC in value           |GET / HTTP/1.1\\r\\nHost: h\\r\\nX: a\\u001bb\\r\\n\\r\\n         |400",
        "DEL in value           |GET / HTTP/1.1\\r\\nHost: h\\r\\nX: a\\u007f\\r\\n\\r\\n           |400",
        "bare CR in value       |GET / HTTP/1.1\\r\\nHost: h\\r\\nX: a\\rb\\r\\n\\r\\n             |400",
        "bare CR at end         |GET / HTTP/1.1\\r\\nHost: h\\r\\n\\rX\\r\\n                      |400",
        "obs-fold               |GET / HTTP/1.1\\r\\nHost: h\\r\\nX: a\\r\\n b\\r\\n\\r\\n          |400",
        "obs-fold tab           |GET / HTTP/1.1\\r\\nHost: h\\r\\nX: a\\r\\n\\tb\\r\\n\\r\\n        |400",
        "ws after request line  |GET / HTTP/1.1\\r\\n Host: h\\r\\n\\r\\n                        |400",
        // framing
        "CL and TE              |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 3\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n|400",
        "TE and CL              |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\nContent-Length: 3\\r\\n\\r\\n|400",
        "differing CL           |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 5\\r\\nContent-Length: 6\\r\\n\\r\\n|400",
        "CL list differs        |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 5, 6\\r\\n\\r\\n |400",
        "CL empty element       |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 5,\\r\\n\\r\\n    |400",
        "CL empty               |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length:\\r\\n\\r\\n      |400",
        "CL negative            |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: -1\\r\\n\\r\\n   |400",
        "CL plus                |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: +1\\r\\n\\r\\n   |400",
        "CL hex                 |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 0x10\\r\\n\\r\\n |400",
        "CL letters             |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: abc\\r\\n\\r\\n  |400",
        "CL inner space         |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 1 2\\r\\n\\r\\n  |400",
        "CL overflow            |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 99999999999999999999\\r\\n\\r\\n|400",
        "CL over limit          |POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 16777217\\r\\n\\r\\n|413",
        "TE gzip                |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: gzip\\r\\n\\r\\n|501",
        "TE gzip, chunked       |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n|501",
        "TE chunked, gzip       |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked, gzip\\r\\n\\r\\n|501",
        "TE chunked then gzip   |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\nTransfer-Encoding: gzip\\r\\n\\r\\n|501",
        "TE identity            |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: identity\\r\\n\\r\\n|501",
        "TE chunked twice       |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked, chunked\\r\\n\\r\\n|400",
        "TE empty               |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: \\r\\n\\r\\n   |400",
        "TE in HTTP/1.0         |POST / HTTP/1.0\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n         |400",
        "no Host in 1.1         |GET / HTTP/1.1\\r\\nX: y\\r\\n\\r\\n                             |400",
        "two Hosts              |GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n             |400",
        // chunked body
        "chunk size non-hex     |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nxyz\\r\\n|400",
        "chunk size empty       |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n\\r\\n|400",
        "chunk size negative    |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n-1\\r\\n|400",
        "chunk size 0x          |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0x5\\r\\n|400",
        "chunk size overflow    |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n10000000000000000\\r\\n|400",
        "chunk size bare LF     |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\nhello\\r\\n0\\r\\n\\r\\n|400",
        "chunk size bare CR     |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\rhello\\r\\n0\\r\\n\\r\\n|400",
        "chunk size trailing sp |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5 \\r\\nhello\\r\\n0\\r\\n\\r\\n|400",
        "no CRLF after data     |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhelloX\\r\\n0\\r\\n\\r\\n|400",
        "LF only after data     |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\n0\\r\\n\\r\\n|400",
        "control in chunk ext   |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5;a\\u0000\\r\\nhello\\r\\n0\\r\\n\\r\\n|400",
        "chunked over limit     |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1000001\\r\\n|413",
        "bad trailer            |POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\nBad Trailer: 1\\r\\n\\r\\n|400",
    })
    void rejects(String why, String request, int status) {
        String req = unescape(request.strip());
        String result = whole(req);
        assertEquals("ERROR " + status, result.substring(result.lastIndexOf('\n') + 1), why + ": " + result);
    }

    @Test
    void errorReasonAndStickiness() {
        RequestParser p = new RequestParser(new HttpLimits());
        ByteBuffer in = ByteBuffer.wrap(bytes("GET / HTTP/1.1\r\nHost : h\r\n\r\n"));
        assertEquals(RequestParser.ERROR, p.parseHead(in));
        assertEquals(400, p.errorStatus());
        assertEquals("whitespace before colon", p.errorReason());
        assertEquals(RequestParser.ERROR, p.parseHead(ByteBuffer.wrap(bytes("GET / HTTP/1.1\r\n"))));
        p.reset();
        assertEquals(0, p.errorStatus());
        assertNull(p.errorReason());
        assertEquals(RequestParser.HEAD_DONE,
                p.parseHead(ByteBuffer.wrap(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))));
    }

    @Test
    void bareLfCanBeRefused() {
        HttpLimits strict = new HttpLimits();
        strict.allowBareLf = false;
        assertEquals("ERROR 400", drive(strict, bytes("GET / HTTP/1.1\nHost: h\r\n\r\n"), new int[0], false));
        assertEquals("ERROR 400", drive(strict, bytes("GET / HTTP/1.1\r\nHost: h\n\r\n"), new int[0], false));
        assertEquals("ERROR 400", drive(strict, bytes("GET / HTTP/1.1\r\nHost: h\r\n\n"), new int[0], false));
        assertEquals("ERROR 400", drive(strict, bytes("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), new int[0], false));
        assertTrue(whole("\nGET / HTTP/1.1\r\nHost: h\n\n").startsWith("GET / "));
    }

    static String repeat(char c, int n) {
        return String.valueOf(c).repeat(n);
    }

    @Test
    void requestLineLimit() {
        HttpLimits l = new HttpLimits();
        l.maxRequestLine = 64;
        String fits = "GET /" + repeat('a', 64 - "GET / HTTP/1.1".length()) + " HTTP/1.1";
        assertEquals(64, fits.length());
        assertFalse(drive(l, bytes(fits + "\r\nHost: h\r\n\r\n"), new int[0], false).startsWith("ERROR"));
        assertFalse(drive(l, bytes(fits + "\nHost: h\r\n\r\n"), new int[0], false).startsWith("ERROR"));
        String over = "GET /" + repeat('a', 65 - "GET / HTTP/1.1".length()) + " HTTP/1.1";
        assertEquals("ERROR 414", drive(l, bytes(over + "\r\nHost: h\r\n\r\n"), new int[0], false));
        assertEquals("ERROR 414", drive(l, bytes(over + "\nHost: h\r\n\r\n"), new int[0], false));
        // a line that never ends is refused once it passes the limit, without buffering more
        RequestParser p = new RequestParser(l);
        assertEquals(RequestParser.ERROR, p.parseHead(ByteBuffer.wrap(bytes("GET /" + repeat('a', 100_000)))));
        assertEquals(414, p.errorStatus());
        // default limit: 8 KiB
        String big = "GET /" + repeat('b', 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n";
        assertEquals("ERROR 414", whole(big));
    }

    @Test
    void headerLimits() {
        HttpLimits l = new HttpLimits();
        l.maxHeaderBytes = 100;
        l.maxHeaders = 3;
        String fields = "Host: h\r\nX: " + repeat('v', 100 - 9 - 5 - 2) + "\r\n\r\n";
        assertEquals(100, fields.length());
        assertFalse(drive(l, bytes("GET / HTTP/1.1\r\n" + fields), new int[0], false).startsWith("ERROR"));
        String over = "Host: h\r\nX: " + repeat('v', 100 - 9 - 5 - 1) + "\r\n\r\n";
        assertEquals("ERROR 431", drive(l, bytes("GET / HTTP/1.1\r\n" + over), new int[0], false));
        String three = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
        assertFalse(drive(l, bytes(three), new int[0], false).startsWith("ERROR"));
        String four = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assertEquals("ERROR 431", drive(l, bytes(four), new int[0], false));
        // defaults: 100 headers, 32 KiB
        StringBuilder many = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (int i = 0; i < 100; i++) many.append("X-").append(i).append(": v\r\n");
        assertEquals("ERROR 431", whole(many + "\r\n"));
        assertEquals("ERROR 431", whole("GET / HTTP/1.1\r\nHost: h\r\nX: " + repeat('v', 40_000) + "\r\n\r\n"));
    }

    @Test
    void manyHeadersGrowTheOffsetTable() {
        StringBuilder sb = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (int i = 0; i < 90; i++) sb.append("X-").append(i).append(": ").append(i).append("\r\n");
        RequestParser p = new RequestParser(new HttpLimits());
        assertEquals(RequestParser.HEAD_DONE, p.parseHead(ByteBuffer.wrap(bytes(sb + "\r\n"))));
        assertEquals(91, p.request().headerCount());
        assertEquals("89", p.request().header("x-89"));
        assertEquals("x-45", p.request().headerName(46));
    }

    @Test
    void bodyLimits() {
        HttpLimits l = new HttpLimits();
        l.maxBody = 10;
        String ok = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789";
        assertTrue(drive(l, bytes(ok), new int[0], false).contains("body=0123456789"));
        String big = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
        assertEquals("ERROR 413", drive(l, bytes(big), new int[0], false));
        String chunkedOk = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n";
        assertTrue(drive(l, bytes(chunkedOk), new int[0], false).contains("body=0123456789"));
        String chunkedBig = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\n01234\r\n6\r\n";
        assertEquals("ERROR 413", drive(l, bytes(chunkedBig), new int[0], false));
    }

    @Test
    void chunkExtensionLimit() {
        HttpLimits l = new HttpLimits();
        l.maxChunkExtension = 8;
        String head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        assertTrue(drive(l, bytes(head + "1;abcdefgh\r\nx\r\n0\r\n\r\n"), new int[0], false).contains("body=x"));
        assertEquals("ERROR 400", drive(l, bytes(head + "1;abcdefghi\r\nx\r\n0\r\n\r\n"), new int[0], false));
        assertEquals("ERROR 400", drive(l, bytes(head + "1" + repeat(' ', 20) + ";\r\n"), new int[0], false));
        // many leading zeros are a chunk-size line that never ends
        assertEquals("ERROR 400", drive(l, bytes(head + repeat('0', 40) + "1\r\n"), new int[0], false));
        assertTrue(drive(l, bytes(head + "0001\r\nx\r\n0\r\n\r\n"), new int[0], false).contains("body=x"));
    }

    @Test
    void trailerLimits() {
        HttpLimits l = new HttpLimits();
        l.maxHeaders = 2;
        String head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
        assertTrue(drive(l, bytes(head + "A: 1\r\nB: 2\r\n\r\n"), new int[0], false).contains("{a=1} {b=2}"));
        assertEquals("ERROR 431", drive(l, bytes(head + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n"), new int[0], false));
    }

    @Test
    void leadingEmptyLinesAreSkippedButBounded() {
        assertTrue(whole("\r\n\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").startsWith("GET / "));
        HttpLimits l = new HttpLimits();
        l.maxRequestLine = 16;
        assertEquals("ERROR 400", drive(l, bytes(repeat('\n', 17)), new int[0], false));
        assertEquals("", drive(l, bytes(repeat('\n', 16)), new int[0], false));
    }

    @Test
    void bodySliceIsAViewAndPositionIsRestored() {
        RequestParser p = new RequestParser(new HttpLimits());
        String head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
        ByteBuffer in = ByteBuffer.wrap(bytes(head + "helloGET"));
        assertEquals(RequestParser.HEAD_DONE, p.parseHead(in));
        List<String> seen = new ArrayList<>();
        int limit = in.limit();
        assertEquals(RequestParser.BODY_DONE, p.parseBody(in, d -> {
            seen.add(d.position() + ":" + d.remaining());
            d.position(d.limit()); // a sink that reads everything
        }));
        assertEquals(List.of(head.length() + ":5"), seen);
        assertEquals(head.length() + 5, in.position());
        assertEquals(limit, in.limit());
        // a sink that reads nothing still gets the bytes consumed; a null sink discards
        p.reset();
        in = ByteBuffer.wrap(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"));
        p.parseHead(in);
        assertEquals(RequestParser.BODY_DONE, p.parseBody(in, null));
        assertFalse(in.hasRemaining());
        // a throwing sink leaves the buffer's limit intact
        p.reset();
        ByteBuffer in2 = ByteBuffer.wrap(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloX"));
        p.parseHead(in2);
        assertThrows(IllegalStateException.class, () -> p.parseBody(in2, d -> {
            throw new IllegalStateException("boom");
        }));
        assertEquals(in2.capacity(), in2.limit());
    }

    @Test
    void parseBodyBeforeHeadIsAnError() {
        RequestParser p = new RequestParser(new HttpLimits());
        assertThrows(IllegalStateException.class, () -> p.parseBody(ByteBuffer.allocate(0), null));
    }

    @Test
    void largeHeadCrossingCopyChunks() {
        StringBuilder sb = new StringBuilder("GET /big HTTP/1.1\r\nHost: h\r\n");
        for (int i = 0; i < 50; i++) sb.append("X-").append(i).append(": ").append(repeat('z', 300)).append("\r\n");
        sb.append("\r\n");
        String req = sb.toString();
        String expected = whole(req + req);
        assertEquals(2, expected.split("\n").length);
        byte[] data = bytes(req + req);
        for (int cut : new int[] {1, 4095, 4096, 4097, 8191, 8192, req.length() - 1, req.length() + 1}) {
            assertEquals(expected, drive(new HttpLimits(), data, new int[] {cut}, true));
        }
    }

    @Test
    void mutatedInputNeverThrowsAndParsesTheSameHoweverSplit() {
        java.util.Random rnd = new java.util.Random(20240607L);
        byte[] interesting = bytes("\r\n :;,-\t\u0000\u007f\u00ff0aFzHTP/1.chunked");
        for (int round = 0; round < 3000; round++) {
            byte[] data = bytes(SAMPLES[rnd.nextInt(SAMPLES.length)]);
            int mutations = 1 + rnd.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                int at = rnd.nextInt(data.length);
                switch (rnd.nextInt(3)) {
                    case 0 -> data[at] = interesting[rnd.nextInt(interesting.length)];
                    case 1 -> data[at] = (byte) rnd.nextInt(256);
                    default -> { // delete a byte
                        byte[] shorter = new byte[data.length - 1];
                        System.arraycopy(data, 0, shorter, 0, at);
                        System.arraycopy(data, at + 1, shorter, at, data.length - at - 1);
                        data = shorter;
                    }
                }
            }
            String expected = drive(new HttpLimits(), data, new int[0], false);
            int cut = rnd.nextInt(data.length + 1);
            assertEquals(expected, drive(new HttpLimits(), data, new int[] {cut}, true), "cut " + cut);
            if (round % 10 == 0) {
                assertEquals(expected, drive(new HttpLimits(), data, eachByte(data.length), false), "byte by byte");
            }
        }
    }

    @Test
    void samplesParseAsExpected() {
        assertEquals("GET /index.html?a=1&b=2 path=/index.html query=a=1&b=2 v=1.1 ka=true cl=-1 chunked=false"
                + " expect=false [host=example.com] [user-agent=test/1.0] [accept=*/*] [x-empty=]"
                + " [cookie=a=b; c=d] body=\n", whole(SAMPLES[0]));
        assertEquals("POST /submit path=/submit query=null v=1.1 ka=false cl=11 chunked=false expect=false"
                + " [host=h] [content-length=11] [connection=close] body=hello world\n", whole(SAMPLES[1]));
        assertEquals("POST /up path=/up query=null v=1.1 ka=true cl=-1 chunked=true expect=false"
                + " [host=h] [transfer-encoding=chunked] body=hello world0123456789"
                + " {x-checksum=abc} {x-other=z}\n", whole(SAMPLES[2]));
        String[] four = whole(SAMPLES[3]).split("\n");
        assertEquals(4, four.length);
        assertEquals("GET / path=/ query=null v=1.0 ka=true cl=-1 chunked=false expect=false"
                + " [connection=Keep-Alive] body=", four[0]);
        assertEquals("PUT /p path=/p query=null v=1.1 ka=true cl=3 chunked=false expect=true"
                + " [host=h] [content-length=3] [expect=100-continue] body=abc", four[1]);
        assertTrue(four[2].startsWith("POST /c ") && four[2].endsWith(" body=xyz"), four[2]);
        assertEquals("DELETE http://example.com/a/b?q path=/a/b query=q v=1.1 ka=true cl=-1 chunked=false"
                + " expect=false [host=example.com] body=", four[3]);
        assertEquals("GET /lf path=/lf query=null v=1.1 ka=true cl=-1 chunked=false expect=false"
                + " [host=h] [x-a=1] body=\n", whole(SAMPLES[4]));
    }
}
