package peloton.http.client;

import static org.junit.jupiter.api.Assertions.*;
import static peloton.http.ParserHarness.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import peloton.http.HttpLimits;

public class ResponseParserTest {

  /**
   * Feeds {@code data} cut at {@code cuts} through one parser the way a client connection would
   * (leftovers stay in the buffer, responses follow one another, the server closes at the end),
   * and describes every response: one line each, then "ERROR reason" if any. {@code heads[i]}
   * says whether response i answers a HEAD request.
   */
  public static String drive(HttpLimits limits, byte[] data, int[] cuts, boolean direct, boolean... heads) {
    ResponseParser parser = new ResponseParser(limits);
    int n = 0;
    parser.reset(heads.length > 0 && heads[0]);
    Feed feed = new Feed(data, cuts, direct);
    StringBuilder out = new StringBuilder();
    Collect sink = new Collect();
    boolean started = false, inBody = false;
    for (ByteBuffer acc; (acc = feed.next()) != null; ) {
      while (true) {
        if (!inBody) {
          if (!acc.hasRemaining()) break;
          started = true;
          int r = parser.parseHead(acc);
          if (r == ResponseParser.NEED_MORE) {
            assertEquals(0, acc.remaining(), "NEED_MORE must consume all input");
            break;
          }
          if (r == ResponseParser.ERROR) return error(out, parser);
          assertEquals(ResponseParser.HEAD_DONE, r);
          inBody = true;
        }
        int r = parser.parseBody(acc, sink);
        if (r == ResponseParser.NEED_MORE) {
          assertEquals(0, acc.remaining(), "NEED_MORE must consume all body input");
          break;
        }
        if (r == ResponseParser.ERROR) return error(out, parser);
        assertEquals(ResponseParser.BODY_DONE, r);
        out.append(describe(parser, sink)).append('\n');
        n++;
        parser.reset(n < heads.length && heads[n]);
        started = inBody = false;
      }
    }
    if (started) { // the server closes the connection
      if (parser.endOfInput() == ResponseParser.ERROR) return error(out, parser);
      out.append(describe(parser, sink)).append('\n');
    }
    return out.toString();
  }

  static String error(StringBuilder out, ResponseParser p) {
    return out.append("ERROR ").append(p.tooLarge() ? "too large: " : "").append(p.errorReason())
        .toString();
  }

  static String describe(ResponseParser p, Collect body) {
    StringBuilder sb = new StringBuilder();
    sb.append(p.status()).append(" '").append(p.reason()).append("' v=1.").append(p.versionMinor())
        .append(" ka=").append(p.keepAlive()).append(" cl=").append(p.contentLength())
        .append(" chunked=").append(p.chunked()).append(" close=").append(p.closeDelimited());
    for (int i = 0; i < p.headerCount(); i++) {
      sb.append(" [").append(p.headerName(i)).append('=').append(p.headerValue(i)).append(']');
    }
    sb.append(" body=").append(body.take());
    for (int i = 0; i < p.trailerCount(); i++) {
      sb.append(" {").append(p.trailerName(i)).append('=').append(p.trailerValue(i)).append('}');
    }
    return sb.toString();
  }

  static String drive(byte[] data, int[] cuts, boolean direct) {
    return drive(new HttpLimits(), data, cuts, direct);
  }

  static String whole(String s, boolean... heads) {
    return drive(new HttpLimits(), bytes(s), new int[0], false, heads);
  }

  static final String KEEP_ALIVE_SEQUENCE =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Empty:\r\n\r\nhello"
          + "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
          + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5;a=b\r\nhello\r\n6 ; x=\"y\"\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\nX-B:  z \r\n\r\n"
          + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
          + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";

  static final String[] SAMPLES = {
    KEEP_ALIVE_SEQUENCE,
    "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall the rest\r\nuntil close",
    "HTTP/1.1 200\nX-Fold: a\n  b\r\n\tc\nContent-Length: 0\n\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 404 \r\n"
        + "Transfer-Encoding: gzip\r\n\r\nraw bytes",
  };

  static final String[] EXPECTED = {
    "200 'OK' v=1.1 ka=true cl=5 chunked=false close=false [content-type=text/plain]"
        + " [content-length=5] [x-empty=] body=hello\n"
        + "204 'No Content' v=1.1 ka=true cl=7 chunked=false close=false [content-length=7] body=\n"
        + "200 'OK' v=1.1 ka=true cl=-1 chunked=true close=false [transfer-encoding=chunked]"
        + " body=hello world0123456789 {x-sum=1} {x-b=z}\n"
        + "201 'Created' v=1.1 ka=false cl=2 chunked=false close=false [content-length=2]"
        + " [connection=close] body=hi\n",
    "200 'OK' v=1.0 ka=false cl=-1 chunked=false close=true [server=x]"
        + " body=all the rest\r\nuntil close\n",
    "200 '' v=1.1 ka=true cl=0 chunked=false close=false [x-fold=a   b  \tc] [content-length=0]"
        + " body=\n",
    "200 'OK' v=1.1 ka=false cl=-1 chunked=true close=false [content-length=3]"
        + " [transfer-encoding=chunked] body=abc\n",
    "200 'OK' v=1.0 ka=true cl=1 chunked=false close=false [connection=keep-alive]"
        + " [content-length=1] body=x\n"
        + "404 '' v=1.1 ka=false cl=-1 chunked=false close=true [transfer-encoding=gzip]"
        + " body=raw bytes\n",
  };

  @Test
  void samplesParseAsExpected() {
    for (int i = 0; i < SAMPLES.length; i++) {
      assertEquals(EXPECTED[i], whole(SAMPLES[i]), SAMPLES[i]);
    }
  }

  @Test
  void everySplitPointAndByteByByteMatchWholeParse() {
    for (String sample : SAMPLES) {
      assertEverySplitMatches(whole(sample), sample, ResponseParserTest::drive);
    }
  }

  @Test
  void everyPairOfSplitPointsOfChunkedBody() {
    String sample = KEEP_ALIVE_SEQUENCE.substring(KEEP_ALIVE_SEQUENCE.indexOf("HTTP/1.1 200 OK\r\nTransfer"));
    assertEveryPairOfSplitsMatches(whole(sample), sample, ResponseParserTest::drive);
  }

  @Test
  void responsesToHeadRequestsHaveNoBody() {
    String s = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    String expected = "200 'OK' v=1.1 ka=true cl=100 chunked=false close=false [content-length=100] body=\n"
        + "200 'OK' v=1.1 ka=true cl=-1 chunked=false close=false [transfer-encoding=chunked] body=\n"
        + "304 'Not Modified' v=1.1 ka=true cl=-1 chunked=false close=false [etag=\"x\"] body=\n"
        + "200 'OK' v=1.1 ka=true cl=3 chunked=false close=false [content-length=3] body=abc\n";
    byte[] data = bytes(s);
    for (int i = 0; i <= data.length; i++) {
      assertEquals(expected, drive(new HttpLimits(), data, new int[] {i}, false, true, true, false, false));
    }
  }

  @Test
  void switchingProtocolsEndsTheHeadAndTheConnection() {
    assertEquals("101 'Switching Protocols' v=1.1 ka=false cl=-1 chunked=false close=false"
        + " [upgrade=websocket] body=\nERROR invalid character in status line",
        whole("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u0081\u0005hello"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "garbage|garbage\\r\\n\\r\\n|malformed status line",
    "HTTP/2|HTTP/2 200 OK\\r\\n\\r\\n|malformed status line",
    "HTTP/2.0|HTTP/2.0 200 OK\\r\\n\\r\\n|unsupported HTTP version",
    "two-digit status|HTTP/1.1 20 OK\\r\\n\\r\\n|malformed status code",
    "status 600|HTTP/1.1 600 Odd\\r\\n\\r\\n|malformed status code",
    "no space before reason|HTTP/1.1 200OK\\r\\n\\r\\n|malformed status code",
    "NUL in status line|HTTP/1.1 200 O\\u0000K\\r\\n\\r\\n|invalid character in status line",
    "bare CR in status line|HTTP/1.1 200 OK\\rX: y\\r\\n\\r\\n|bare CR",
    "bare CR in field|HTTP/1.1 200 OK\\r\\nX: y\\rZ: 1\\r\\n\\r\\n|bare CR",
    "space before colon|HTTP/1.1 200 OK\\r\\nX : y\\r\\n\\r\\n|whitespace before colon",
    "no colon|HTTP/1.1 200 OK\\r\\nX\\r\\n\\r\\n|missing colon in field line",
    "fold first|HTTP/1.1 200 OK\\r\\n X: y\\r\\n\\r\\n|whitespace before the first field",
    "control in value|HTTP/1.1 200 OK\\r\\nX: a\\u0001b\\r\\n\\r\\n|invalid character in field value",
    "bad name|HTTP/1.1 200 OK\\r\\nX(y): 1\\r\\n\\r\\n|invalid character in field name",
    "bad length|HTTP/1.1 200 OK\\r\\nContent-Length: 1x\\r\\n\\r\\n|invalid Content-Length",
    "negative length|HTTP/1.1 200 OK\\r\\nContent-Length: -1\\r\\n\\r\\n|invalid Content-Length",
    "conflicting length|HTTP/1.1 200 OK\\r\\nContent-Length: 1\\r\\nContent-Length: 2\\r\\n\\r\\nab|conflicting Content-Length",
    "chunked twice|HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked, chunked\\r\\n\\r\\n|chunked applied twice",
    "bad chunk size|HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\n|invalid chunk size",
    "no CRLF after data|HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1\\r\\nab\\r\\n|missing CRLF after chunk data",
    "bare LF in chunk line|HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1\\nab|invalid chunk size",
    "huge chunk size|HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nFFFFFFFFFFFFFFFFF\\r\\n|chunk size too large",
    "control in extension|HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1;\\u0001\\r\\n|invalid character in chunk extension",
    "truncated length body|HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\nabc|connection closed before the response was complete",
    "truncated chunked body|HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nab|connection closed before the response was complete",
    "truncated head|HTTP/1.1 200 OK\\r\\nContent-Le|connection closed before the response was complete",
  })
  void rejects(String why, String response, String reason) {
    byte[] data = bytes(unescape(response));
    for (int i = 0; i <= data.length; i++) {
      String r = drive(new HttpLimits(), data, new int[] {i}, false);
      assertTrue(r.endsWith("ERROR " + reason), why + " split at " + i + ": " + r);
    }
  }

  @Test
  void errorsAreSticky() {
    ResponseParser p = new ResponseParser();
    ByteBuffer in = ByteBuffer.wrap(bytes("nonsense\r\nmore"));
    assertEquals(ResponseParser.ERROR, p.parseHead(in));
    int pos = in.position();
    assertEquals(ResponseParser.ERROR, p.parseHead(in));
    assertEquals(ResponseParser.ERROR, p.parseBody(in, null));
    assertEquals(ResponseParser.ERROR, p.endOfInput());
    assertEquals(pos, in.position());
    assertFalse(p.tooLarge());
    p.reset(false);
    assertEquals(ResponseParser.HEAD_DONE,
        p.parseHead(ByteBuffer.wrap(bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))));
    assertNull(p.errorReason());
  }

  @Test
  void bareLfCanBeRefused() {
    HttpLimits strict = new HttpLimits();
    strict.allowBareLf = false;
    assertEquals("ERROR bare LF", drive(strict, bytes("HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
        new int[0], false));
  }

  @Test
  void headLimits() {
    HttpLimits l = new HttpLimits();
    l.maxRequestLine = 20;
    l.maxHeaderBytes = 40;
    l.maxHeaders = 2;
    assertEquals("ERROR status line too long",
        drive(l, bytes("HTTP/1.1 200 A reason that is long\r\n\r\n"), new int[0], false));
    assertTrue(drive(l, bytes("HTTP/1.1 200 Okay!\r\n\r\n"), new int[0], false).startsWith("200"));
    assertEquals("ERROR header section too large",
        drive(l, bytes("HTTP/1.1 200 OK\r\nX-Long: " + "v".repeat(40) + "\r\n\r\n"), new int[0], false));
    assertEquals("ERROR too many header fields",
        drive(l, bytes("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), new int[0], false));
    assertEquals("ERROR trailer section too large", drive(l, bytes(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + "t".repeat(50) + "\r\n\r\n"),
        new int[] {50}, false));
    l.maxChunkExtension = 4;
    assertEquals("ERROR chunk extension too long", drive(l, bytes(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;abcdef\r\na\r\n0\r\n\r\n"),
        new int[0], false));
  }

  @Test
  void bodyLimitFlagsTooLarge() {
    HttpLimits l = new HttpLimits();
    l.maxBody = 4;
    assertEquals("ERROR too large: body larger than 4 bytes",
        drive(l, bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), new int[0], false));
    assertEquals("ERROR too large: body larger than 4 bytes", drive(l, bytes(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
        new int[0], false));
    assertEquals("ERROR too large: body larger than 4 bytes",
        drive(l, bytes("HTTP/1.1 200 OK\r\n\r\nabcde"), new int[] {22}, false));
    assertTrue(drive(l, bytes("HTTP/1.1 200 OK\r\n\r\nabcd"), new int[] {22}, false).endsWith("body=abcd\n"));
    ResponseParser p = new ResponseParser(l);
    p.maxBody(Long.MAX_VALUE);
    ByteBuffer in = ByteBuffer.wrap(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
    assertEquals(ResponseParser.HEAD_DONE, p.parseHead(in));
    assertEquals(ResponseParser.BODY_DONE, p.parseBody(in, null));
  }

  @Test
  void headerLookupIgnoresCaseAndKeepsRepeats() {
    ResponseParser p = new ResponseParser();
    ByteBuffer in = ByteBuffer.wrap(bytes(
        "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSET-COOKIE: b=2\r\nContent-Length: 0\r\n\r\n"));
    assertEquals(ResponseParser.HEAD_DONE, p.parseHead(in));
    assertEquals("a=1", p.header("Set-Cookie"));
    assertEquals(java.util.List.of("a=1", "b=2"), p.headers("set-cookie"));
    assertNull(p.header("cookie"));
    assertFalse(p.hasBody());
    assertEquals(0, in.remaining());
  }

  @Test
  void largeHeadCrossingCopyChunks() {
    StringBuilder sb = new StringBuilder("HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 90; i++) sb.append("X-H").append(i).append(": ").append("v".repeat(200)).append("\r\n");
    sb.append("Content-Length: 3\r\n\r\nabc");
    String r = whole(sb.toString());
    assertTrue(r.startsWith("200 'OK'"), r);
    assertTrue(r.endsWith("[content-length=3] body=abc\n"), r);
  }

  @Test
  void mutatedInputNeverThrowsAndParsesTheSameHoweverSplit() {
    Random rnd = new Random(42);
    String alphabet = "\r\n :;0123456789aAfF\t\u0000\u00ffHTTP/1.chunked";
    for (int round = 0; round < 400; round++) {
      byte[] data = bytes(SAMPLES[round % SAMPLES.length]);
      int edits = 1 + rnd.nextInt(3);
      for (int e = 0; e < edits; e++) {
        data[rnd.nextInt(data.length)] = (byte) alphabet.charAt(rnd.nextInt(alphabet.length()));
      }
      String expected = drive(new HttpLimits(), data, new int[0], false);
      for (int t = 0; t < 5; t++) {
        int a = rnd.nextInt(data.length + 1), b = rnd.nextInt(data.length + 1);
        int[] cuts = {Math.min(a, b), Math.max(a, b)};
        assertEquals(expected, drive(new HttpLimits(), data, cuts, rnd.nextBoolean()),
            "cuts " + cuts[0] + "," + cuts[1] + " of " + new String(data, StandardCharsets.ISO_8859_1));
      }
    }
  }
}
