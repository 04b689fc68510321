package peloton.http.server;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import peloton.http.HttpDate;

/**
 * RFC 9110/9112 conformance over real sockets: what the parser refuses gets its status (with a
 * Date header) and a closed connection while another client is still served; what it accepts is
 * routed by its normalized path.
 */
class HttpConformanceTest {
  private HttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).join();
    }
  }

  private static final String CHUNKED =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

  private void start(HttpServer.Options o) throws IOException {
    Router r = new Router()
        .add("GET", Pattern.compile("^/admin"), (HttpHandler) ex -> ex.status(403).body("admin").send())
        .add(null, Pattern.compile("^/echo$"), (HttpHandler) ex -> ex.body("echo " + ex.bodyString()).send())
        .add("GET", Pattern.compile(""), (HttpHandler) ex -> ex.contentType("text/plain")
            .body(ex.path() + " raw=" + ex.rawPath() + " uri=" + ex.uri() + " host="
                + ex.request().host() + " port=" + ex.request().port() + " v=" + ex.request().versionMinor())
            .send());
    o.port = 0;
    o.reactors = 2;
    server = HttpServer.start(o, r);
  }

  private void start() throws IOException {
    start(new HttpServer.Options());
  }

  static List<Arguments> refused() {
    return List.of(
        Arguments.of("Host with a space", "GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n", 400),
        Arguments.of("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@x\r\n\r\n", 400),
        Arguments.of("Host with a bad port", "GET / HTTP/1.1\r\nHost: x:80x\r\n\r\n", 400),
        Arguments.of("Host with a bad IPv6", "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", 400),
        Arguments.of("missing Host", "GET / HTTP/1.1\r\n\r\n", 400),
        Arguments.of("two Hosts", "GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", 400),
        Arguments.of("userinfo in an absolute target", "GET http://u@x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        Arguments.of("a fragment", "GET /#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        Arguments.of("a brace", "GET /a{b} HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        Arguments.of("a pipe in the query", "GET /?a|b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        Arguments.of("a bad percent-encoding", "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        Arguments.of("a target of no form", "GET foo HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        Arguments.of("climbing above the root", "GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        Arguments.of("climbing, encoded", "GET /a/%2e%2e/%2E%2E/x HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        Arguments.of("a dot segment behind an encoded slash",
            "GET /admin%2F..%2Fpublic HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        Arguments.of("unterminated quoted chunk extension",
            CHUNKED + "2;a=\"\r\nxx\r\n0\r\n\r\n", 400),
        Arguments.of("empty chunk extension", CHUNKED + "2;\r\nxx\r\n0\r\n\r\n", 400),
        Arguments.of("chunk extension value missing", CHUNKED + "2;a=\r\nxx\r\n0\r\n\r\n", 400),
        Arguments.of("chunk extensions over the total", CHUNKED
            + ("1;x=" + "e".repeat(900) + "\r\nx\r\n").repeat(40) + "0\r\n\r\n", 400),
        Arguments.of("trailers over their limit",
            CHUNKED + "0\r\nX-T: " + "t".repeat(20_000) + "\r\n\r\n", 431),
        Arguments.of("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        Arguments.of("HTTP/0.9 as a version", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505),
        Arguments.of("HTTP/3.1", "GET / HTTP/3.1\r\nHost: x\r\n\r\n", 505),
        Arguments.of("line too long", "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        Arguments.of("head too large", "GET / HTTP/1.1\r\nHost: x\r\nX: " + "v".repeat(40_000) + "\r\n\r\n", 431),
        Arguments.of("body too large", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413),
        Arguments.of("unknown coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501));
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @MethodSource("refused")
  void refusedWithItsStatusAndADateWhileOthersAreServed(String what, String request, int status)
      throws Exception {
    start();
    try (RawHttp bystander = new RawHttp(server.port()); RawHttp bad = new RawHttp(server.port())) {
      bystander.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(200, bystander.read().status);
      bad.send(request);
      RawHttp.Response r = bad.read();
      assertEquals(status, r.status, what + ": " + r);
      assertEquals("close", r.header("connection"));
      assertDate(r);
      assertTrue(bad.closedByServer());
      bystander.send("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response again = bystander.read();
      assertEquals(200, again.status);
      assertTrue(again.body().startsWith("/second "), again.body());
    }
  }

  private static void assertDate(RawHttp.Response r) {
    String date = r.header("date");
    assertNotNull(date, "an error answer carries Date (RFC 9110 §6.6.1): " + r);
    long t = HttpDate.parse(date);
    assertTrue(Math.abs(t - System.currentTimeMillis()) < 5 * 60_000, date);
  }

  @Test
  void the408OfASlowHeadCarriesADate() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.headerTimeoutMillis = 300;
    start(o);
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET / HTTP/1.1\r\nHost: x\r\n");
      RawHttp.Response r = c.read();
      assertEquals(408, r.status);
      assertDate(r);
    }
  }

  @Test
  void aHigherMinorVersionIsServedAsHttp11() throws Exception {
    start();
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET /v HTTP/1.2\r\nHost: x\r\n\r\nGET /w HTTP/1.7\r\nHost: x\r\n\r\n");
      RawHttp.Response r = c.read();
      assertEquals(200, r.status);
      assertTrue(r.body().endsWith(" v=1"), r.body());
      assertNull(r.header("connection"), "kept alive as 1.1");
      assertTrue(c.read().body().startsWith("/w "));
    }
  }

  @Test
  void routesMatchTheNormalizedPathAndTheRawOneStaysAvailable() throws Exception {
    start();
    try (RawHttp c = new RawHttp(server.port())) {
      // each of these names /admin: the admin route takes it, however it is spelled
      for (String t : new String[] {"/admin", "/public/../admin", "/%61dmin", "/./admin/x", "/p/%2E%2e/admin"}) {
        c.send("GET " + t + " HTTP/1.1\r\nHost: x\r\n\r\n");
        RawHttp.Response r = c.read();
        assertEquals(403, r.status, t);
      }
      // and these do not, though the raw text starts with /admin
      c.send("GET /admin/../public?x=/../y HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response r = c.read();
      assertEquals(200, r.status);
      assertEquals("/public raw=/admin/../public uri=/admin/../public?x=/../y host=x port=-1 v=1", r.body());
      c.send("GET /adm%69n%2fx HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(403, c.read().status, "an encoded slash makes no segment: still under /admin");
    }
  }

  @Test
  void anAbsoluteFormTargetNamesTheHost() throws Exception {
    start();
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET http://example.org:8080/p/./q HTTP/1.1\r\nHost: other:81\r\n\r\n");
      RawHttp.Response r = c.read();
      assertEquals("/p/q raw=/p/./q uri=http://example.org:8080/p/./q host=example.org port=8080 v=1",
          r.body());
      c.send("GET /h HTTP/1.1\r\nHost: [::1]:9090\r\n\r\n");
      assertTrue(c.read().body().endsWith("host=[::1] port=9090 v=1"));
    }
  }

  @Test
  void wellFormedChunkExtensionsAreAcceptedByteByByte() throws Exception {
    start();
    try (RawHttp c = new RawHttp(server.port())) {
      byte[] req = (CHUNKED + "3 ; a = \"q\\\"d;\" ;b\r\nabc\r\n2;c=tok\r\nde\r\n0;z=\"\"\r\nT: 1\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      for (byte b : req) {
        c.send(new byte[] {b});
      }
      assertEquals("echo abcde", c.read().body());
    }
  }
}
