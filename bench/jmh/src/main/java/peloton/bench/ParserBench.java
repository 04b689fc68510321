package peloton.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import peloton.http.HttpLimits;
import peloton.http.server.Request;
import peloton.http.server.RequestParser;

/**
 * The request parser's hot path as a connection drives it: parse a head from the read buffer,
 * decode its body, reset for the next request. Measures the cost per request of keep-alive
 * parsing, including whatever the parser allocates or borrows per request.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ParserBench {
  private static final String BROWSER_GET = "GET /static/app.js?v=12 HTTP/1.1\r\n"
      + "Host: example.com\r\n"
      + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36\r\n"
      + "Accept: */*\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n"
      + "Cookie: session=0123456789abcdef; theme=dark\r\nReferer: https://example.com/\r\n"
      + "Connection: keep-alive\r\n\r\n";
  private static final String WRK_GET = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
  private static final String CHUNKED_POST = "POST /upload HTTP/1.1\r\nHost: h\r\n"
      + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;name=\"v\"\r\n world\r\n0\r\n\r\n";

  private RequestParser parser;
  private ByteBuffer browser, wrk, chunked;

  @Setup
  public void setup() {
    parser = new RequestParser(new HttpLimits());
    browser = ByteBuffer.wrap(BROWSER_GET.getBytes(StandardCharsets.ISO_8859_1));
    wrk = ByteBuffer.wrap(WRK_GET.getBytes(StandardCharsets.ISO_8859_1));
    chunked = ByteBuffer.wrap(CHUNKED_POST.getBytes(StandardCharsets.ISO_8859_1));
  }

  private Request once(ByteBuffer in) {
    in.rewind();
    parser.reset();
    if (parser.parseHead(in) != RequestParser.HEAD_DONE) {
      throw new IllegalStateException(parser.errorReason());
    }
    if (parser.parseBody(in, null) != RequestParser.BODY_DONE) {
      throw new IllegalStateException(parser.errorReason());
    }
    return parser.request();
  }

  /** A browser-like GET with nine headers. */
  @Benchmark
  public Request browserGet() {
    return once(browser);
  }

  /** wrk's minimal GET. */
  @Benchmark
  public Request minimalGet() {
    return once(wrk);
  }

  /** A small chunked POST with an extension and no trailers. */
  @Benchmark
  public Request chunkedPost() {
    return once(chunked);
  }

  /** The path routes see (normalized where the parser supports it), to include its cost. */
  @Benchmark
  public String browserGetPath() {
    return once(browser).path();
  }
}
