package peloton.http.server;

import static org.junit.jupiter.api.Assertions.*;
import static peloton.http.ParserHarness.*;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import peloton.http.HttpLimits;

/**
 * The request-target, Host, version, chunk-extension and trailer rules of RFC 9110/9112 and RFC
 * 3986 as the parser applies them, each split every way the connection might receive it.
 */
class RequestTargetTest {

    /** Parses one whole request; the Request, or null with the error in {@code status[0]}. */
    private static Request parse(String req, int[] status) {
        return parse(new HttpLimits(), req, status);
    }

    private static Request parse(HttpLimits limits, String req, int[] status) {
        RequestParser p = new RequestParser(limits);
        ByteBuffer in = ByteBuffer.wrap(bytes(req));
        int r = p.parseHead(in);
        if (r == RequestParser.HEAD_DONE) r = p.parseBody(in, null);
        if (r == RequestParser.ERROR) {
            status[0] = p.errorStatus();
            return null;
        }
        assertEquals(RequestParser.BODY_DONE, r, req);
        return p.request();
    }

    private static Request ok(String req) {
        int[] st = new int[1];
        Request r = parse(req, st);
        assertNotNull(r, "refused with " + st[0] + ": " + req);
        return r;
    }

    private static int status(String req) {
        int[] st = new int[1];
        Request r = parse(req, st);
        assertNull(r, () -> "accepted: " + req);
        return st[0];
    }

    private static String get(String target, String host) {
        return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    }

    // ---- Host (RFC 9112 §3.2, RFC 3986 §3.2.2) ----

    @ParameterizedTest(name = "Host: [{0}] -> {1} port {2}")
    @CsvSource(delimiter = '|', value = {
        "example.com             |example.com            |-1",
        "example.com:8080        |example.com            |8080",
        "EXAMPLE.com:0           |EXAMPLE.com            |0",
        "127.0.0.1:65535         |127.0.0.1              |65535",
        "999.1.1.1               |999.1.1.1              |-1",
        "[::1]                   |[::1]                  |-1",
        "[::1]:8443              |[::1]                  |8443",
        "[2001:db8::7]           |[2001:db8::7]          |-1",
        "[1:2:3:4:5:6:7:8]       |[1:2:3:4:5:6:7:8]      |-1",
        "[::ffff:192.0.2.1]      |[::ffff:192.0.2.1]     |-1",
        "[fe80::]                |[fe80::]               |-1",
        "[v7.a:b]                |[v7.a:b]               |-1",
        "a-b.c_d~e!$&'()*+,;=    |a-b.c_d~e!$&'()*+,;=   |-1",
        "%65x.org                |%65x.org               |-1",
        "h:                      |h                      |-1",
    })
    void validHostsAreAccepted(String host, String name, int port) {
        Request r = ok(get("/", host.strip()));
        assertEquals(name.strip(), r.host());
        assertEquals(port, r.port());
    }

    @Test
    void anEmptyHostIsValid() {
        Request r = ok("GET / HTTP/1.1\r\nHost:\r\n\r\n");
        assertEquals("", r.host());
        assertEquals(-1, r.port());
        assertNull(ok("GET / HTTP/1.0\r\n\r\n").host(), "HTTP/1.0 may omit Host");
    }

    @ParameterizedTest(name = "Host: [{0}] -> 400")
    @ValueSource(strings = {
        "a b/c", "u@x", "x:80x", "x:65536", "x:-1", "x:80:90", "a/b", "h?", "h#f", "h\"", "h%4",
        "h%zz", "[::1", "::1", "[::1]x", "[::1]:x", "[::g]", "[1:2:3:4:5:6:7:8:9]", "[1:2:3:4:5:6:7]",
        "[1::2::3]", "[:1::2]", "[1:]", "[12345::]", "[::1.2.3]", "[::1.2.3.256]", "[::01.2.3.4]",
        "[v.x]", "[v1.]", "[]", "h\\x", "caf\u00e9",
    })
    void invalidHostsAre400(String host) {
        assertEquals(400, status(get("/", host)), host);
    }

    @Test
    void missingOrRepeatedHostIs400() {
        assertEquals(400, status("GET / HTTP/1.1\r\nX: y\r\n\r\n"));
        assertEquals(400, status("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"));
        assertEquals(400, status("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"));
        assertEquals(400, status("GET / HTTP/1.0\r\nHost: a b\r\n\r\n"), "a bad Host is bad in 1.0 too");
    }

    // ---- request-target forms (RFC 9112 §3.2) ----

    @Test
    void absoluteFormNamesTheHostInsteadOfTheHostHeader() {
        Request r = ok("GET http://example.org:8080/a/../p?q=1 HTTP/1.1\r\nHost: other:81\r\n\r\n");
        assertEquals("example.org", r.host());
        assertEquals(8080, r.port());
        assertEquals("/p", r.path());
        assertEquals("/a/../p", r.rawPath());
        assertEquals("q=1", r.query());
        assertEquals("other:81", r.header("host"));
        r = ok("GET https://[::1]?x HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals("[::1]", r.host());
        assertEquals(-1, r.port());
        assertEquals("/", r.path());
        r = ok("GET HTTP+x.y-z://h HTTP/1.0\r\n\r\n");
        assertEquals("h", r.host());
    }

    @ParameterizedTest(name = "{0} -> 400")
    @ValueSource(strings = {
        "http://u@x/", "http://u:p@x/", "http:///p", "http://", "http:/x", "http:x", "1http://h/",
        "ht%74p://h/", "foo", "foo/bar", "?q", "http://h:x/", "http://h:99999/", "http://[::1/",
        "http://h/[x]", "/a[b]", "/a]", "**", "*x",
    })
    void badTargetsAre400(String target) {
        assertEquals(400, status(get(target, "h")), target);
    }

    @Test
    void asteriskAndConnectForms() {
        Request r = ok("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals("*", r.path());
        r = ok("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        assertEquals("example.com:443", r.target());
        assertEquals(400, status("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n"), "CONNECT needs a port");
        assertEquals(400, status("CONNECT u@h:443 HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(400, status("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n"));
    }

    // ---- characters of the target (RFC 3986 §2) ----

    @Test
    void everyCharacterRfc3986AllowsIsAccepted() {
        String all = "/azAZ09-._~!$&'()*+,;=:@/%20%7e?q=/?:@!$&'()*+,;=%25";
        Request r = ok(get(all, "h"));
        assertEquals(all, r.target());
        assertEquals("q=/?:@!$&'()*+,;=%25", r.query());
    }

    @ParameterizedTest(name = "[{0}] -> 400")
    @ValueSource(strings = {
        "/#frag", "/a#", "/?q#f", "/a\"b", "/a<b", "/a>b", "/a\\b", "/a^b", "/a`b", "/a{b", "/a|b",
        "/a}b", "/?q={x}", "/?a|b", "/%", "/%4", "/%zz", "/%4g", "/?q=%g0", "/?q=100%",
    })
    void charactersOutsideRfc3986Are400(String target) {
        assertEquals(400, status(get(target, "h")), target);
    }

    @Test
    void aFragmentIsNamedInTheReason() {
        RequestParser p = new RequestParser();
        assertEquals(RequestParser.ERROR, p.parseHead(ByteBuffer.wrap(bytes(get("/x#top", "h")))));
        assertEquals("fragment in request target", p.errorReason());
    }

    // ---- the path routes see ----

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "/admin/../public       |/public",
        "/admin/%2e%2e/public   |/public",
        "/admin/.%2E/public     |/public",
        "/%61dmin               |/admin",
        "/%41%5a%30%2D%2e%5F%7e |/AZ0-._~",
        "/a%2Fb                 |/a%2Fb",
        "/a%2fb                 |/a%2Fb",
        "/a%3fb%23c             |/a%3Fb%23c",
        "/a/./b/.               |/a/b/",
        "/a/b/..                |/a/",
        "/.                     |/",
        "/a/..                  |/",
        "/a//../b               |/a/b",
        "/a/b?x=/../y           |/a/b",
        "/..a/b..               |/..a/b..",
        "/a.b/.c/d.             |/a.b/.c/d.",
        "/plain/path.html       |/plain/path.html",
    })
    void routesSeeTheNormalizedPath(String target, String path) {
        Request r = ok(get(target.strip(), "h"));
        assertEquals(path.strip(), r.path());
        String raw = target.strip();
        int q = raw.indexOf('?');
        assertEquals(q < 0 ? raw : raw.substring(0, q), r.rawPath());
        assertEquals(raw, r.target(), "the raw target stays as sent");
    }

    @ParameterizedTest(name = "{0} -> 400")
    @ValueSource(strings = {"/..", "/../x", "/a/../..", "/%2e%2e", "/.%2e/etc/passwd", "/a/./../../b",
        "http://h/../x", "/admin%2F..%2Fpublic", "/x/..%2fadmin"})
    void aPathClimbingAboveTheRootIs400(String target) {
        assertEquals(400, status(get(target, "h")), target);
    }

    // ---- version (RFC 9110 §2.5) ----

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"HTTP/1.2", "HTTP/1.9"})
    void aHigherMinorIsServedAsHttp11(String version) {
        Request r = ok("GET / " + version + "\r\nHost: h\r\n\r\n");
        assertEquals(1, r.versionMinor());
        assertTrue(r.keepAlive());
        assertEquals(400, status("GET / " + version + "\r\n\r\n"), "and needs a Host like 1.1");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"HTTP/0.9", "HTTP/2.0", "HTTP/3.0", "HTTP/9.9"})
    void otherMajorVersionsAre505(String version) {
        assertEquals(505, status("GET / " + version + "\r\nHost: h\r\n\r\n"));
    }

    // ---- chunk extensions (RFC 9112 §7.1.1) and trailers ----

    private static final String CHUNKED = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {
        ";a", ";a=b", ";a=\"\"", ";a=\"q d\"", " ; a = \"x\\\"y\" ; b", ";a=\"\\\\\"", ";a;b=1;c=\"\t\"",
        ";n=\"caf\u00e9\"", "\t;a", ";!#$%&'*+-.^_`|~=v",
    })
    void wellFormedExtensionsAreAccepted(String ext) {
        String req = CHUNKED + "5" + ext + "\r\nhello\r\n0" + ext + "\r\n\r\n";
        assertEquals("body=hello", RequestParserTest.whole(req).replaceAll("^.* body=", "body=").strip());
        assertEverySplitMatches(RequestParserTest.whole(req), req, RequestParserTest::drive);
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {
        ";a=\"unterminated", ";a=\"x\\", ";", "; ", ";=x", ";a=", ";a= ", ";a=\"x\"y", ";a b", ";a=b c",
        ";a=\"\u0001\"", ";a=\"\u007f\"", ";a=\"x\\\u0001\"", ";a\u0001", ";a=b\u0000", ";a=\"\"\"",
        ";a,b", ";a=b;", ";a ", ";a=b ", " ", ";a=(b)", ";a=\"x\" ",
    })
    void malformedExtensionsAre400(String ext) {
        String req = CHUNKED + "5" + ext + "\r\nhello\r\n0\r\n\r\n";
        assertEquals("ERROR 400", RequestParserTest.whole(req));
        assertEverySplitMatches("ERROR 400", req, RequestParserTest::drive);
    }

    @Test
    void anUnterminatedQuotedStringCannotHideTheNextChunk() {
        // the 2025 desync: a lenient reader skips to the CRLF and sees a different body
        String req = CHUNKED + "2;a=\"\r\nxx\r\n0\r\n\r\n";
        RequestParser p = new RequestParser();
        ByteBuffer in = ByteBuffer.wrap(bytes(req));
        assertEquals(RequestParser.HEAD_DONE, p.parseHead(in));
        assertEquals(RequestParser.ERROR, p.parseBody(in, null));
        assertEquals("unterminated quoted string in chunk extension", p.errorReason());
    }

    @Test
    void extensionsAreBoundedOverTheWholeBody() {
        // 2 MiB of extensions in tiny chunks, every line under the per-line limit
        StringBuilder sb = new StringBuilder(CHUNKED);
        String ext = ";x=" + "e".repeat(500);
        int lines = 0;
        while (sb.length() < 2 * 1024 * 1024) {
            sb.append("1").append(ext).append("\r\nx\r\n");
            lines++;
        }
        sb.append("0\r\n\r\n");
        RequestParser p = new RequestParser();
        ByteBuffer in = ByteBuffer.wrap(bytes(sb.toString()));
        assertEquals(RequestParser.HEAD_DONE, p.parseHead(in));
        assertEquals(RequestParser.ERROR, p.parseBody(in, null));
        assertEquals(400, p.errorStatus());
        assertEquals("chunk extensions too large in total", p.errorReason());
        int stoppedAt = in.position();
        assertTrue(stoppedAt < 20 * 1024 + CHUNKED.length(), "refused early, at " + stoppedAt + " of " + lines);

        // under the total it passes; the limit is a setting
        HttpLimits l = new HttpLimits();
        l.maxChunkExtensionTotal = 20;
        String fits = CHUNKED + "1;abcdefghi\r\nx\r\n1;abcdefghi\r\ny\r\n0\r\n\r\n";
        assertTrue(RequestParserTest.drive(l, bytes(fits), new int[0], false).contains("body=xy"));
        String over = CHUNKED + "1;abcdefghi\r\nx\r\n1;abcdefghi\r\ny\r\n0;abc\r\n\r\n";
        assertEquals("ERROR 400", RequestParserTest.drive(l, bytes(over), new int[0], false));
    }

    @Test
    void trailersHaveTheirOwnLimit() {
        HttpLimits l = new HttpLimits();
        l.maxTrailerBytes = 32;
        String trailers = "X-T: " + "v".repeat(32 - 5 - 2 - 2) + "\r\n\r\n";
        assertEquals(32, trailers.length());
        String fits = CHUNKED + "0\r\n" + trailers;
        assertTrue(RequestParserTest.drive(l, bytes(fits), new int[0], false).contains("{x-t="));
        String over = CHUNKED + "0\r\nX-T: " + "v".repeat(32 - 5 - 2 - 1) + "\r\n\r\n";
        assertEquals("ERROR 431", RequestParserTest.drive(l, bytes(over), new int[0], false));
        assertEquals(16 * 1024, new HttpLimits().maxTrailerBytes);
        String big = CHUNKED + "0\r\nX-T: " + "v".repeat(17 * 1024) + "\r\n\r\n";
        assertEquals("ERROR 431", RequestParserTest.whole(big));
    }

    // ---- however the bytes arrive ----

    @Test
    void theNewRulesHoldWhereverTheInputIsSplit() {
        String[] good = {
            "GET http://example.org:8080/a/%2e%2E/b%2fc?x=%41 HTTP/1.2\r\nHost: [::1]:9\r\n\r\n"
                + "GET /%7Euser/./x HTTP/1.1\r\nHost: h\r\n\r\n",
            CHUNKED + "3 ; a = \"q\\\"d\" ;b\r\nabc\r\n0;z=\"\"\r\nT: 1\r\n\r\n",
        };
        for (String s : good) {
            String expected = RequestParserTest.whole(s);
            assertFalse(expected.contains("ERROR"), expected);
            assertEverySplitMatches(expected, s, RequestParserTest::drive);
        }
        String[] bad = {get("/a#b", "h"), get("/", "u@h"), get("/../a", "h"), CHUNKED + "1;a=\"x\r\n"};
        for (String s : bad) {
            assertEverySplitMatches("ERROR 400", s, RequestParserTest::drive);
        }
    }

    // ---- an idle parser holds no buffers ----

    @Test
    void aParserBetweenRequestsKeepsWorkingWithBorrowedBuffers() {
        // many parsers on one thread, interleaved mid-head: each keeps its own bytes
        RequestParser[] ps = new RequestParser[40];
        for (int i = 0; i < ps.length; i++) {
            ps[i] = new RequestParser();
            assertEquals(RequestParser.NEED_MORE, ps[i].parseHead(ByteBuffer.wrap(bytes("GET /p" + i))));
        }
        for (int i = 0; i < ps.length; i++) {
            ByteBuffer in = ByteBuffer.wrap(bytes(" HTTP/1.1\r\nHost: h" + i + "\r\n\r\n"));
            assertEquals(RequestParser.HEAD_DONE, ps[i].parseHead(in));
            assertEquals("/p" + i, ps[i].request().path());
            assertEquals("h" + i, ps[i].request().host());
        }
        // the Requests stay intact while the buffers are reused by later heads
        Request first = ps[0].request();
        for (int i = 0; i < ps.length; i++) {
            ps[i].reset();
            assertEquals(RequestParser.HEAD_DONE, ps[i].parseHead(ByteBuffer.wrap(bytes(get("/zzzzzz", "zz")))));
        }
        assertEquals("/p0", first.path());
        assertEquals("h0", first.header("host"));
    }
}
