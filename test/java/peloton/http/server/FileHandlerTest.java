package peloton.http.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import peloton.http.HttpDate;

class FileHandlerTest {
  private static final String SECRET = "TOP-SECRET-CONTENT";
  private static final long MTIME = 1_700_000_000_000L; // 2023-11-14T22:13:20Z

  @TempDir Path tmp;
  private Path root;
  private byte[] big;
  private HttpServer server;
  private URLClassLoader loader;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void files() throws IOException {
    root = Files.createDirectory(tmp.resolve("root"));
    big = new byte[3 * 1024 * 1024 + 17];
    new Random(42).nextBytes(big);
    write("big.bin", big);
    write("hello.txt", "hello world\n".getBytes(StandardCharsets.UTF_8));
    write("style.css", "body{}".getBytes(StandardCharsets.UTF_8));
    write("app.js", "1;".getBytes(StandardCharsets.UTF_8));
    write("data.json", "{}".getBytes(StandardCharsets.UTF_8));
    write("pic.PNG", new byte[] {(byte) 0x89, 'P', 'N', 'G'});
    write("noext", new byte[] {1, 2, 3});
    write("empty.txt", new byte[0]);
    write("thing.custom", "c".getBytes(StandardCharsets.UTF_8));
    write(".hidden", "hidden".getBytes(StandardCharsets.UTF_8));
    write("site/index.html", "<h1>site</h1>".getBytes(StandardCharsets.UTF_8));
    write("site/page.html", "<h1>page</h1>".getBytes(StandardCharsets.UTF_8));
    Files.createDirectories(root.resolve("empty"));
    Files.writeString(tmp.resolve("secret.txt"), SECRET);
    Files.writeString(tmp.resolve("root2.txt"), SECRET); // a sibling whose name extends "root"
    Files.createSymbolicLink(root.resolve("escape.txt"), tmp.resolve("secret.txt"));
    Files.createSymbolicLink(root.resolve("escapedir"), tmp);
    Files.createSymbolicLink(root.resolve("inner-link.txt"), root.resolve("hello.txt"));
  }

  private void write(String name, byte[] data) throws IOException {
    Path p = root.resolve(name);
    Files.createDirectories(p.getParent());
    Files.write(p, data);
    Files.setLastModifiedTime(p, FileTime.fromMillis(MTIME));
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).join();
    }
    if (loader != null) {
      loader.close();
    }
  }

  private int start(HttpHandler h) throws IOException {
    HttpServer.Options o = new HttpServer.Options();
    o.port = 0;
    o.reactors = 2;
    server = HttpServer.start(o, h);
    return server.port();
  }

  private int startOnRoot() throws IOException {
    FileHandler fh = FileHandler.create(root.toString(),
        new FileHandler.Options().mimeTypes(Map.of(".CUSTOM", "application/x-custom")));
    return start(fh);
  }

  private HttpResponse<byte[]> get(int port, String path, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static RawHttp.Response raw(int port, String request, boolean head) throws IOException {
    try (RawHttp c = new RawHttp(port)) {
      c.send(request);
      return c.read(head);
    }
  }

  private static RawHttp.Response rawGet(int port, String target, String... headers) throws IOException {
    StringBuilder sb = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < headers.length; i += 2) {
      sb.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    return raw(port, sb.append("\r\n").toString(), false);
  }

  // ---- whole files ----

  @Test
  void wholeFileThroughHttpClientIsByteForByte() throws Exception {
    int port = startOnRoot();
    HttpResponse<byte[]> r = get(port, "/big.bin");
    assertEquals(200, r.statusCode());
    assertArrayEquals(big, r.body());
    assertEquals(String.valueOf(big.length), r.headers().firstValue("content-length").orElseThrow());
    assertEquals("application/octet-stream", r.headers().firstValue("content-type").orElseThrow());
    assertEquals("bytes", r.headers().firstValue("accept-ranges").orElseThrow());
    assertEquals(HttpDate.format(MTIME), r.headers().firstValue("last-modified").orElseThrow());
    String etag = r.headers().firstValue("etag").orElseThrow();
    assertTrue(etag.startsWith("\"") && etag.endsWith("\"") && etag.length() > 4, etag);
    // The tag changes with the file.
    Files.setLastModifiedTime(root.resolve("big.bin"), FileTime.fromMillis(MTIME + 1000));
    assertFalse(etag.equals(get(port, "/big.bin").headers().firstValue("etag").orElseThrow()));
  }

  @Test
  void wholeFileThroughCurlIsByteForByte() throws Exception {
    Assumptions.assumeTrue(new File("/usr/bin/curl").canExecute(), "curl is not installed");
    int port = startOnRoot();
    Path out = tmp.resolve("curl.out");
    Process p = new ProcessBuilder("/usr/bin/curl", "-sS", "--max-time", "20", "-o", out.toString(),
        "-w", "%{http_code} %{content_type}", "http://127.0.0.1:" + port + "/big.bin")
        .redirectErrorStream(true).start();
    String result = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), result);
    assertEquals("200 application/octet-stream", result);
    assertArrayEquals(big, Files.readAllBytes(out));
    // curl's own multi-range request, the output kept as sent (multipart)
    Process p2 = new ProcessBuilder("/usr/bin/curl", "-sS", "--max-time", "20", "-r", "0-3,10-13",
        "-w", "\n%{http_code}", "http://127.0.0.1:" + port + "/hello.txt")
        .redirectErrorStream(true).start();
    String multi = new String(p2.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    assertTrue(p2.waitFor(30, TimeUnit.SECONDS));
    assertTrue(multi.endsWith("\n206"), multi);
    assertTrue(multi.contains("Content-Range: bytes 0-3/12\r\n\r\nhell\r\n"), multi);
    assertTrue(multi.contains("Content-Range: bytes 10-11/12\r\n\r\nd\n\r\n"), multi);
  }

  @Test
  void headHasTheHeadersAndNoBodyAndKeepsTheConnection() throws Exception {
    int port = startOnRoot();
    try (RawHttp c = new RawHttp(port)) {
      c.send("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response h = c.read(true);
      assertEquals(200, h.status);
      assertEquals(String.valueOf(big.length), h.header("content-length"));
      assertNotNull(h.header("etag"));
      assertEquals("bytes", h.header("accept-ranges"));
      // No body came: the next answer on the connection parses cleanly.
      c.send("HEAD /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n");
      RawHttp.Response hr = c.read(true);
      assertEquals(206, hr.status);
      assertEquals("10", hr.header("content-length"));
      c.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals("hello world\n", c.read().body());
    }
  }

  @Test
  void emptyFile() throws Exception {
    int port = startOnRoot();
    RawHttp.Response r = rawGet(port, "/empty.txt");
    assertEquals(200, r.status);
    assertEquals("0", r.header("content-length"));
    assertEquals(416, rawGet(port, "/empty.txt", "Range", "bytes=0-").status);
  }

  // ---- ranges ----

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "bytes=0-99, 0, 99",
    "bytes=100-, 100, -1",
    "bytes=-500, -500, -1",
    "bytes=7-7, 7, 7",
    "bytes=3000000-99999999, 3000000, -1",
    "bytes=-99999999, 0, -1",
    "'bytes=0-0,1-5', 0, 5", // adjacent ranges coalesce into one
  })
  void singleRange(String range, long first, long last) throws Exception {
    int port = startOnRoot();
    long len = big.length;
    long start = first < 0 ? len + first : first;
    long end = last < 0 ? len - 1 : last;
    RawHttp.Response r = rawGet(port, "/big.bin", "Range", range);
    assertEquals(206, r.status);
    assertEquals("bytes " + start + "-" + end + "/" + len, r.header("content-range"));
    assertEquals("application/octet-stream", r.header("content-type"));
    assertArrayEquals(Arrays.copyOfRange(big, (int) start, (int) end + 1), r.body);
  }

  @Test
  void rangeThroughHttpClient() throws Exception {
    int port = startOnRoot();
    HttpResponse<byte[]> r = get(port, "/big.bin", "Range", "bytes=1000000-2999999");
    assertEquals(206, r.statusCode());
    assertArrayEquals(Arrays.copyOfRange(big, 1000000, 3000000), r.body());
  }

  @Test
  void severalRangesAreMultipart() throws Exception {
    int port = startOnRoot();
    try (RawHttp c = new RawHttp(port)) {
      c.send("GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=-5, 0-9,1000-1999 , 5-12\r\n\r\n");
      RawHttp.Response r = c.read();
      checkMultipart(r, "application/octet-stream", big, new long[][] {{0, 12}, {1000, 1999},
          {big.length - 5, big.length - 1}});
      // The declared length was exact: the connection is still in step.
      c.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals("hello world\n", c.read().body());
    }
  }

  /** Parses a multipart/byteranges body and checks each part against {@code data}. */
  static void checkMultipart(RawHttp.Response r, String type, byte[] data, long[][] ranges) {
    assertEquals(206, r.status);
    String ct = r.header("content-type");
    assertTrue(ct.startsWith("multipart/byteranges; boundary="), ct);
    assertNull(r.header("content-range"));
    String boundary = ct.substring(ct.indexOf('=') + 1);
    byte[] body = r.body;
    assertEquals(Long.parseLong(r.header("content-length")), body.length);
    String text = new String(body, StandardCharsets.ISO_8859_1); // one char per byte
    int at = 0;
    for (int i = 0; i < ranges.length; i++) {
      String delim = (i == 0 ? "" : "\r\n") + "--" + boundary + "\r\n";
      assertTrue(text.startsWith(delim, at), "part " + i + " delimiter");
      at += delim.length();
      int headEnd = text.indexOf("\r\n\r\n", at);
      String[] lines = text.substring(at, headEnd).split("\r\n");
      assertEquals(2, lines.length);
      assertEquals("content-type: " + type, lines[0].toLowerCase(Locale.ROOT));
      long s = ranges[i][0], e = ranges[i][1];
      assertEquals("Content-Range: bytes " + s + "-" + e + "/" + data.length, lines[1]);
      at = headEnd + 4;
      int n = (int) (e - s + 1);
      assertArrayEquals(Arrays.copyOfRange(data, (int) s, (int) s + n),
          Arrays.copyOfRange(body, at, at + n), "part " + i + " data");
      at += n;
    }
    assertEquals("\r\n--" + boundary + "--\r\n", text.substring(at));
  }

  @Test
  void unsatisfiableRangeIs416WithTheLength() throws Exception {
    int port = startOnRoot();
    RawHttp.Response r = rawGet(port, "/big.bin", "Range", "bytes=" + big.length + "-");
    assertEquals(416, r.status);
    assertEquals("bytes */" + big.length, r.header("content-range"));
    assertEquals(416, rawGet(port, "/big.bin", "Range", "bytes=99999999-99999999,88888888-").status);
  }

  @ParameterizedTest
  @ValueSource(strings = {"bytes=abc", "bytes=5-2", "items=0-5", "bytes="})
  void invalidRangeHeaderIsIgnored(String range) throws Exception {
    int port = startOnRoot();
    RawHttp.Response r = rawGet(port, "/hello.txt", "Range", range);
    assertEquals(200, r.status);
    assertEquals("hello world\n", r.body());
  }

  @Test
  void ifRangeHonoursTheRangeOnlyWhenTheValidatorMatches() throws Exception {
    int port = startOnRoot();
    String etag = rawGet(port, "/hello.txt").header("etag");
    String lm = HttpDate.format(MTIME);
    assertEquals(206, rawGet(port, "/hello.txt", "Range", "bytes=0-4", "If-Range", etag).status);
    assertEquals("hello", rawGet(port, "/hello.txt", "Range", "bytes=0-4", "If-Range", etag).body());
    assertEquals(206, rawGet(port, "/hello.txt", "Range", "bytes=0-4", "If-Range", lm).status);
    RawHttp.Response stale = rawGet(port, "/hello.txt", "Range", "bytes=0-4", "If-Range", "\"other\"");
    assertEquals(200, stale.status);
    assertEquals("hello world\n", stale.body());
    assertEquals(200, rawGet(port, "/hello.txt", "Range", "bytes=0-4", "If-Range", "W/" + etag).status);
    assertEquals(200, rawGet(port, "/hello.txt", "Range", "bytes=0-4",
        "If-Range", HttpDate.format(MTIME - 1000)).status);
  }

  // ---- conditional requests ----

  @Test
  void ifNoneMatchGives304() throws Exception {
    int port = startOnRoot();
    RawHttp.Response first = rawGet(port, "/hello.txt");
    String etag = first.header("etag");
    RawHttp.Response r = rawGet(port, "/hello.txt", "If-None-Match", etag);
    assertEquals(304, r.status);
    assertEquals(0, r.body.length);
    assertEquals(etag, r.header("etag"));
    assertEquals(HttpDate.format(MTIME), r.header("last-modified"));
    assertEquals(304, rawGet(port, "/hello.txt", "If-None-Match", "\"a\", W/" + etag).status);
    assertEquals(304, rawGet(port, "/hello.txt", "If-None-Match", "*").status);
    assertEquals(200, rawGet(port, "/hello.txt", "If-None-Match", "\"nope\"").status);
    // If-None-Match wins over a date that alone would give 304.
    assertEquals(200, rawGet(port, "/hello.txt", "If-None-Match", "\"nope\"",
        "If-Modified-Since", HttpDate.format(MTIME + 60_000)).status);
    // Also on HEAD, and over HttpClient.
    assertEquals(304, raw(port, "HEAD /hello.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag
        + "\r\n\r\n", true).status);
    assertEquals(304, get(port, "/hello.txt", "If-None-Match", etag).statusCode());
  }

  @Test
  void ifModifiedSinceGives304() throws Exception {
    int port = startOnRoot();
    assertEquals(304, rawGet(port, "/hello.txt", "If-Modified-Since", HttpDate.format(MTIME)).status);
    assertEquals(304, rawGet(port, "/hello.txt", "If-Modified-Since",
        HttpDate.format(MTIME + 3_600_000)).status);
    assertEquals(304, rawGet(port, "/hello.txt", "If-Modified-Since",
        "Tuesday, 14-Nov-23 22:13:20 GMT").status); // RFC 850 form
    RawHttp.Response older = rawGet(port, "/hello.txt", "If-Modified-Since", HttpDate.format(MTIME - 1000));
    assertEquals(200, older.status);
    assertEquals("hello world\n", older.body());
    assertEquals(200, rawGet(port, "/hello.txt", "If-Modified-Since", "yesterday").status);
  }

  @Test
  void ifMatchAndIfUnmodifiedSinceGive412() throws Exception {
    int port = startOnRoot();
    String etag = rawGet(port, "/hello.txt").header("etag");
    assertEquals(412, rawGet(port, "/hello.txt", "If-Match", "\"nope\"").status);
    assertEquals(412, rawGet(port, "/hello.txt", "If-Match", "W/" + etag).status); // strong only
    assertEquals(200, rawGet(port, "/hello.txt", "If-Match", etag).status);
    assertEquals(200, rawGet(port, "/hello.txt", "If-Match", "*").status);
    assertEquals(412, rawGet(port, "/hello.txt", "If-Unmodified-Since", HttpDate.format(MTIME - 1000)).status);
    assertEquals(200, rawGet(port, "/hello.txt", "If-Unmodified-Since", HttpDate.format(MTIME)).status);
  }

  // ---- types, directories, methods ----

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "/style.css, text/css; charset=utf-8",
    "/app.js, text/javascript; charset=utf-8",
    "/data.json, application/json",
    "/pic.PNG, image/png",
    "/hello.txt, text/plain; charset=utf-8",
    "/noext, application/octet-stream",
    "/thing.custom, application/x-custom",
    "/site/page.html, text/html; charset=utf-8",
  })
  void contentTypeFromTheExtension(String path, String type) throws Exception {
    int port = startOnRoot();
    RawHttp.Response r = rawGet(port, path);
    assertEquals(200, r.status);
    assertEquals(type, r.header("content-type"));
    assertArrayEquals(Files.readAllBytes(root.resolve(path.substring(1))), r.body);
  }

  @Test
  void directoriesServeTheirIndexOr404() throws Exception {
    int port = startOnRoot();
    RawHttp.Response r = rawGet(port, "/site/");
    assertEquals(200, r.status);
    assertEquals("<h1>site</h1>", r.body());
    assertEquals("text/html; charset=utf-8", r.header("content-type"));
    assertEquals("<h1>site</h1>", rawGet(port, "/site").body());
    assertEquals(404, rawGet(port, "/empty/").status);
    assertEquals(404, rawGet(port, "/").status); // no listing of the root
    assertEquals(404, rawGet(port, "/hello.txt/").status);
    assertEquals(404, rawGet(port, "/missing.txt").status);
  }

  @Test
  void indexCanBeTurnedOff() throws Exception {
    int port = start(FileHandler.create(root.toString(), new FileHandler.Options().indexFile(null)));
    assertEquals(404, rawGet(port, "/site/").status);
    assertEquals(200, rawGet(port, "/site/page.html").status);
  }

  @ParameterizedTest
  @ValueSource(strings = {"POST", "PUT", "DELETE", "OPTIONS"})
  void otherMethodsGet405(String method) throws Exception {
    int port = startOnRoot();
    RawHttp.Response r = raw(port, method + " /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", false);
    assertEquals(405, r.status);
    assertEquals("GET, HEAD", r.header("allow"));
  }

  @Test
  void percentEncodedNamesAndAPrefixMount() throws Exception {
    write("with space/caf\u00e9.txt", "ok".getBytes(StandardCharsets.UTF_8));
    FileHandler fh = FileHandler.create(root.toString());
    int port = start(ex -> {
      String p = ex.path();
      if (p.startsWith("/static/")) {
        fh.serve(ex, p.substring("/static/".length()));
      } else {
        ex.sendStatus(404, "no route\n");
      }
    });
    assertEquals("ok", rawGet(port, "/static/with%20space/caf%C3%A9.txt").body());
    assertEquals("hello world\n", rawGet(port, "/static/hello.txt").body());
    assertEquals("<h1>site</h1>", rawGet(port, "/static/site/").body());
  }

  // ---- security ----

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
    "/../secret.txt",
    "/site/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/site/..%2F..%2Fsecret.txt",
    "/site/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/..%5csecret.txt",
    "/..\\secret.txt",
    "/site\\..\\..\\secret.txt",
    "//secret.txt",
    "/%2Fsecret.txt",
    "/%c0%ae%c0%ae/secret.txt",
    "/hello.txt%00.png",
    "/escape.txt",
    "/escapedir/secret.txt",
    "/escapedir/root2.txt",
    "/.hidden",
    "/%2ehidden",
    "/site/%",
  })
  void pathsOutsideTheRootAre404(String target) throws Exception {
    int port = startOnRoot();
    RawHttp.Response r = rawGet(port, target);
    // 400: the parser already refused it (a path above the root, a malformed encoding)
    assertTrue(r.status == 404 || r.status == 400, r.toString());
    assertFalse(r.body().contains(SECRET));
  }

  @Test
  void dotSegmentsAreResolvedBeforeTheHandlerSeesThePath() throws Exception {
    int port = startOnRoot();
    assertEquals("hello world\n", rawGet(port, "/./hello.txt").body());
    assertEquals("hello world\n", rawGet(port, "/nowhere/../%68ello.txt").body());
    assertEquals(400, rawGet(port, "/../secret.txt").status);
  }

  @Test
  void absoluteFileSystemPathIs404() throws Exception {
    int port = startOnRoot();
    String abs = tmp.resolve("secret.txt").toString(); // starts with '/'
    assertEquals(404, rawGet(port, "/" + abs).status);
    assertEquals(404, rawGet(port, "/" + abs.replace("/", "%2F")).status);
    assertEquals(404, rawGet(port, "http://x/" + abs).status); // absolute-form target
  }

  @Test
  void symlinksInsideTheRootAreServedAndHiddenFilesWhenAsked() throws Exception {
    int port = start(FileHandler.create(root.toString(), new FileHandler.Options().serveHidden(true)));
    assertEquals("hello world\n", rawGet(port, "/inner-link.txt").body());
    assertEquals("hidden", rawGet(port, "/.hidden").body());
    assertEquals(400, rawGet(port, "/../secret.txt").status); // refused by the parser
    assertEquals(404, rawGet(port, "/escape.txt").status);
  }

  @Test
  void segmentsRefuseWhatCouldLeave() {
    assertArrayEquals(new String[] {"a", "b"}, FileHandler.segments("a/b", false));
    assertArrayEquals(new String[] {"a"}, FileHandler.segments("a/", false));
    assertArrayEquals(new String[0], FileHandler.segments("", false));
    for (String bad : new String[] {"/a", "a//b", "..", "a/../b", ".", "a\\b", "a\0b", ".x", "a/.."}) {
      assertNull(FileHandler.segments(bad, false), bad);
    }
    assertArrayEquals(new String[] {".x"}, FileHandler.segments(".x", true));
    assertNull(FileHandler.segments("..", true));
  }

  // ---- a client that leaves ----

  @Test
  void clientThatLeavesMidFileLeavesNoOpenDescriptor() throws Exception {
    Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs /proc");
    Path huge = root.resolve("huge.bin");
    try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
      f.setLength(256L * 1024 * 1024); // sparse: far more than the socket buffers hold
    }
    Path real = huge.toRealPath();
    int port = startOnRoot();
    assertEquals(0, openDescriptorsOf(real));
    RawHttp c = new RawHttp(port);
    c.send("GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    byte[] some = c.in.readNBytes(4096);
    assertEquals(4096, some.length);
    waitFor(() -> openDescriptorsOf(real) == 1, "the file is open while it is sent");
    c.socket.setSoLinger(true, 0); // leave abruptly
    c.close();
    waitFor(() -> openDescriptorsOf(real) == 0, "the file is closed after the client left");
    // And the server still serves.
    assertEquals("hello world\n", rawGet(port, "/hello.txt").body());
  }

  private static int openDescriptorsOf(Path file) {
    int n = 0;
    File[] fds = new File("/proc/self/fd").listFiles();
    if (fds == null) {
      return 0;
    }
    for (File fd : fds) {
      try {
        if (Files.readSymbolicLink(fd.toPath()).equals(file)) {
          n++;
        }
      } catch (IOException | UnsupportedOperationException e) {
        // closed meanwhile
      }
    }
    return n;
  }

  private static void waitFor(BooleanSupplier cond, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!cond.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting: " + what);
      Thread.sleep(10);
    }
  }

  // ---- classpath ----

  private byte[] jarBig;

  private URL buildJar() throws IOException {
    jarBig = new byte[1024 * 1024 + 3]; // more than the high-water mark: streaming must wait
    new Random(7).nextBytes(jarBig);
    Path jar = tmp.resolve("res.jar");
    try (OutputStream os = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(os)) {
      entry(j, "public/", null);
      entry(j, "public/index.html", "<h1>jar index</h1>".getBytes(StandardCharsets.UTF_8));
      entry(j, "public/a.css", "a{}".getBytes(StandardCharsets.UTF_8));
      entry(j, "public/big.bin", jarBig);
      entry(j, "public/sub/", null);
      entry(j, "public/sub/index.html", "<h1>sub</h1>".getBytes(StandardCharsets.UTF_8));
      entry(j, "public/nodir/", null);
      entry(j, "secret.txt", SECRET.getBytes(StandardCharsets.UTF_8));
    }
    return jar.toUri().toURL();
  }

  private static void entry(JarOutputStream j, String name, byte[] data) throws IOException {
    JarEntry e = new JarEntry(name);
    e.setTime(MTIME);
    j.putNextEntry(e);
    if (data != null) {
      j.write(data);
    }
    j.closeEntry();
  }

  @Test
  void classpathResourcesInAJarAreStreamed() throws Exception {
    loader = new URLClassLoader(new URL[] {buildJar()}, null);
    int port = start(FileHandler.create("classpath:public", new FileHandler.Options().classLoader(loader)));
    HttpResponse<byte[]> r = get(port, "/big.bin");
    assertEquals(200, r.statusCode());
    assertArrayEquals(jarBig, r.body());
    assertEquals("application/octet-stream", r.headers().firstValue("content-type").orElseThrow());
    assertNotNull(r.headers().firstValue("etag").orElse(null));
    RawHttp.Response css = rawGet(port, "/a.css");
    assertEquals("a{}", css.body());
    assertEquals("text/css; charset=utf-8", css.header("content-type"));
    assertEquals("<h1>jar index</h1>", rawGet(port, "/").body());
    assertEquals("<h1>sub</h1>", rawGet(port, "/sub/").body());
    assertEquals("<h1>sub</h1>", rawGet(port, "/sub").body());
    assertEquals(404, rawGet(port, "/nodir/").status);
    assertEquals(404, rawGet(port, "/a.css/").status);
    assertEquals(404, rawGet(port, "/missing").status);
    assertEquals(400, rawGet(port, "/../secret.txt").status); // refused by the parser
    assertEquals(400, rawGet(port, "/%2e%2e/secret.txt").status);
    // Ranges come out of the stream too.
    RawHttp.Response one = rawGet(port, "/big.bin", "Range", "bytes=500000-500099");
    assertEquals(206, one.status);
    assertArrayEquals(Arrays.copyOfRange(jarBig, 500000, 500100), one.body);
    RawHttp.Response multi = rawGet(port, "/big.bin", "Range", "bytes=0-1,400000-800000,-3");
    checkMultipart(multi, "application/octet-stream", jarBig,
        new long[][] {{0, 1}, {400000, 800000}, {jarBig.length - 3, jarBig.length - 1}});
    // Conditional on the jar entry's validators.
    String etag = css.header("etag");
    assertEquals(304, rawGet(port, "/a.css", "If-None-Match", etag).status);
    RawHttp.Response head = raw(port, "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", true);
    assertEquals(String.valueOf(jarBig.length), head.header("content-length"));
  }

  @Test
  void handlersOnAnExecutorServeFilesAndStreamsToo() throws Exception {
    loader = new URLClassLoader(new URL[] {buildJar()}, null);
    FileHandler disk = FileHandler.create(root.toString());
    FileHandler jar = FileHandler.create("classpath:public", new FileHandler.Options().classLoader(loader));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      HttpServer.Options o = new HttpServer.Options().executor(pool);
      o.port = 0;
      o.reactors = 1;
      server = HttpServer.start(o, ex -> {
        if (ex.path().startsWith("/jar/")) {
          jar.serve(ex, ex.path().substring(5));
        } else {
          disk.handle(ex);
        }
      });
      int port = server.port();
      assertArrayEquals(big, get(port, "/big.bin").body());
      assertArrayEquals(jarBig, get(port, "/jar/big.bin").body());
      checkMultipart(rawGet(port, "/jar/big.bin", "Range", "bytes=0-0,-1"), "application/octet-stream",
          jarBig, new long[][] {{0, 0}, {jarBig.length - 1, jarBig.length - 1}});
    } finally {
      server.stop(1, TimeUnit.SECONDS).join();
      server = null;
      pool.shutdown();
    }
  }

  @Test
  void classpathDirectoryIsServedFromDiskInsideItsPrefix() throws Exception {
    Path cp = Files.createDirectory(tmp.resolve("cp"));
    Files.createDirectories(cp.resolve("web/sub"));
    Files.writeString(cp.resolve("web/index.html"), "<h1>cp</h1>");
    Files.write(cp.resolve("web/big.bin"), big);
    Files.writeString(cp.resolve("outside.txt"), SECRET);
    Files.createSymbolicLink(cp.resolve("web/link.txt"), cp.resolve("outside.txt"));
    loader = new URLClassLoader(new URL[] {cp.toUri().toURL()}, null);
    FileHandler fh = FileHandler.classpath("/web/", new FileHandler.Options().classLoader(loader));
    int port = start(fh);
    assertArrayEquals(big, get(port, "/big.bin").body());
    assertEquals("<h1>cp</h1>", rawGet(port, "/").body());
    assertEquals(404, rawGet(port, "/sub/").status);
    assertEquals(400, rawGet(port, "/../outside.txt").status); // refused by the parser
    assertEquals(404, rawGet(port, "/link.txt").status);
    RawHttp.Response r = rawGet(port, "/big.bin", "Range", "bytes=0-9,20-29");
    checkMultipart(r, "application/octet-stream", big, new long[][] {{0, 9}, {20, 29}});
  }

  @Test
  void classpathRootOnTheTestClasspath() throws Exception {
    // This class's own .class file, found through the context class loader.
    int port = start(FileHandler.create("classpath:peloton/http/server"));
    RawHttp.Response r = rawGet(port, "/FileHandlerTest.class");
    assertEquals(200, r.status);
    byte[] expected;
    try (InputStream in = FileHandlerTest.class.getResourceAsStream("FileHandlerTest.class")) {
      expected = in.readAllBytes();
    }
    assertArrayEquals(expected, r.body);
  }
}
