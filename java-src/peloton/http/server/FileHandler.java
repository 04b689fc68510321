package peloton.http.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.jar.JarEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.http.Forms;
import peloton.http.Headers;
import peloton.http.HttpDate;
import peloton.http.MimeTypes;

/**
 * Serves static files from a directory or from classpath resources, with {@code GET} and {@code
 * HEAD}, validators ({@code ETag}, {@code Last-Modified}), conditional requests ({@code
 * If-None-Match}, {@code If-Modified-Since}, {@code If-Match}, {@code If-Unmodified-Since}) and
 * byte ranges ({@code Range}, {@code If-Range}, several ranges as {@code multipart/byteranges}).
 *
 * <p>Files on disk are sent with {@code FileChannel.transferTo} (sendfile); classpath resources
 * inside jars are streamed, waiting for the client whenever the connection's output backs up.
 *
 * <p>No request leaves the root: the path is percent-decoded once, and a segment {@code .} or
 * {@code ..}, an empty segment (so no absolute path), a backslash, a NUL or (unless {@link
 * Options#serveHidden}) a segment starting with {@code .} is answered 404, as is any file whose
 * real path (symlinks resolved) is not under the root's real path. A directory is answered with
 * its {@link Options#indexFile} when there is one, else 404; there are no listings.
 *
 * <pre>{@code
 * FileHandler files = FileHandler.create("public");          // or "classpath:public"
 * HttpServer.start(options, ex -> files.handle(ex));           // the request path, from the root
 * // or, under a prefix: files.serve(ex, ex.path().substring("/static/".length()));
 * }</pre>
 */
public final class FileHandler implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(FileHandler.class);

  /** A root given to {@link #create} with this prefix names classpath resources. */
  public static final String CLASSPATH_PREFIX = "classpath:";

  private static final int CHUNK = 64 * 1024;
  private static final String NOT_FOUND = "Not Found\n";

  /** Settings for a file handler; setters chain. */
  public static final class Options {
    /** The file served for a directory; null serves none (directories are then 404). */
    public String indexFile = "index.html";
    /** Whether names starting with {@code .} are served; default false (404). */
    public boolean serveHidden;
    /** Extra content types by extension ({@code "svgz"} or {@code ".svgz"}, any case). */
    public Map<String, String> mimeTypes;
    /** A {@code Cache-Control} value for every file, or null (default) for none. */
    public String cacheControl;
    /** The loader of classpath resources; null means the thread's context loader at creation. */
    public ClassLoader classLoader;

    /**
     * Sets {@link #indexFile}.
     *
     * @return these options
     * @param name the index file's name, such as {@code index.html}
     */
    public Options indexFile(String name) {
      indexFile = name;
      return this;
    }

    /**
     * Sets {@link #serveHidden}.
     *
     * @return these options
     * @param on whether to serve them
     */
    public Options serveHidden(boolean on) {
      serveHidden = on;
      return this;
    }

    /**
     * Sets {@link #mimeTypes}.
     *
     * @return these options
     * @param types file extensions (without the dot) to media types
     */
    public Options mimeTypes(Map<String, String> types) {
      mimeTypes = types;
      return this;
    }

    /**
     * Sets {@link #cacheControl}.
     *
     * @return these options
     * @param value the Cache-Control value
     */
    public Options cacheControl(String value) {
      cacheControl = value;
      return this;
    }

    /**
     * Sets {@link #classLoader}.
     *
     * @return these options
     * @param loader the class loader
     */
    public Options classLoader(ClassLoader loader) {
      classLoader = loader;
      return this;
    }
  }

  private final Path root; // null for classpath roots
  private final String prefix; // classpath prefix without slashes at either end, or null
  private final ClassLoader loader;
  private final String indexFile;
  private final boolean serveHidden;
  private final Map<String, String> mimeTypes;
  private final String cacheControl;
  private volatile Path rootReal;

  private FileHandler(Path root, String prefix, Options o) {
    this.root = root;
    this.prefix = prefix;
    ClassLoader l = o.classLoader;
    if (l == null && prefix != null) {
      l = Thread.currentThread().getContextClassLoader();
      if (l == null) {
        l = FileHandler.class.getClassLoader();
      }
    }
    this.loader = l;
    this.indexFile = o.indexFile;
    this.serveHidden = o.serveHidden;
    Map<String, String> types = new HashMap<>();
    if (o.mimeTypes != null) {
      for (Map.Entry<String, String> e : o.mimeTypes.entrySet()) {
        Headers.checkValue(e.getValue());
        String ext = e.getKey().startsWith(".") ? e.getKey().substring(1) : e.getKey();
        types.put(ext.toLowerCase(Locale.ROOT), e.getValue());
      }
    }
    this.mimeTypes = types;
    if (o.cacheControl != null) {
      Headers.checkValue(o.cacheControl);
    }
    this.cacheControl = o.cacheControl;
  }

  /**
   * Files under {@code root}, a directory or {@code "classpath:prefix"}, with default options.
   *
   * @param root a directory, or {@code "classpath:prefix"}
   * @return a file handler
   */
  public static FileHandler create(String root) {
    return create(root, new Options());
  }

  /**
   * Files under {@code root}, a directory or {@code "classpath:prefix"}.
   *
   * @param root a directory, or {@code "classpath:prefix"}
   * @param options the options
   * @return a file handler
   */
  public static FileHandler create(String root, Options options) {
    if (root.startsWith(CLASSPATH_PREFIX)) {
      return classpath(root.substring(CLASSPATH_PREFIX.length()), options);
    }
    return directory(Paths.get(root), options);
  }

  /**
   * Files under the directory {@code root} (which may be created later).
   *
   * @param root the directory
   * @param options the options
   * @return a file handler
   */
  public static FileHandler directory(Path root, Options options) {
    return new FileHandler(root.toAbsolutePath().normalize(), null, options);
  }

  /**
   * Classpath resources under {@code prefix} (e.g. {@code "public"}; "" for the classpath root),
   * loaded by {@link Options#classLoader}.
   *
   * @param prefix the resource path prefix
   * @param options the options
   * @return a file handler
   */
  public static FileHandler classpath(String prefix, Options options) {
    int s = 0;
    int e = prefix.length();
    while (s < e && prefix.charAt(s) == '/') {
      s++;
    }
    while (e > s && prefix.charAt(e - 1) == '/') {
      e--;
    }
    String p = prefix.substring(s, e);
    if (!p.isEmpty() && segments(p, true) == null) {
      throw new IllegalArgumentException("bad classpath prefix: " + prefix);
    }
    return new FileHandler(null, p, options);
  }

  /** Serves the request's whole path (e.g. {@code /css/site.css}) relative to the root. */
  @Override
  public void handle(Exchange ex) {
    String p = ex.path();
    serve(ex, p.startsWith("/") ? p.substring(1) : p);
  }

  /**
   * Serves {@code rawPath}, relative to the root and still percent-encoded (as it appears in the
   * request, e.g. a route's regex group); null or "" is the root itself.
   *
   * @param ex the exchange to answer
   * @param rawPath the path below the root, percent-encoded
   */
  public void serve(Exchange ex, String rawPath) {
    String method = ex.method();
    if (!"GET".equals(method) && !"HEAD".equals(method)) {
      ex.setHeader("Allow", "GET, HEAD");
      ex.sendStatus(405, "Method Not Allowed\n");
      return;
    }
    String decoded = Forms.percentDecodePath(rawPath == null ? "" : rawPath);
    String[] segs = decoded == null ? null : segments(decoded, serveHidden);
    if (segs == null) {
      log.debug("refused path {}", rawPath);
      ex.sendStatus(404, NOT_FOUND);
      return;
    }
    boolean dirRequest = decoded.isEmpty() || decoded.endsWith("/");
    try {
      if (root != null) {
        Path real = realRoot();
        if (real == null) {
          ex.sendStatus(404, NOT_FOUND);
          return;
        }
        serveDisk(ex, root, real, segs, dirRequest);
      } else {
        serveResource(ex, segs, dirRequest);
      }
    } catch (IOException | RuntimeException e) {
      log.warn("serving {} failed", rawPath, e);
      if (ex.isStarted()) {
        ex.end(); // a short body: the connection closes after it
      } else {
        ex.sendStatus(500, "Internal Server Error\n");
      }
    }
  }

  /**
   * The segments of a decoded relative path, or null when it must be refused. A trailing '/' is
   * allowed (a directory); any other empty segment, '.', '..', '\' or NUL is not.
   */
  static String[] segments(String path, boolean serveHidden) {
    if (path.indexOf('\\') >= 0 || path.indexOf('\0') >= 0) {
      return null;
    }
    int n = path.length();
    if (n == 0) {
      return new String[0];
    }
    int count = 1;
    for (int i = 0; i < n; i++) {
      if (path.charAt(i) == '/') {
        count++;
      }
    }
    if (path.charAt(n - 1) == '/') {
      count--;
    }
    String[] out = new String[count];
    int start = 0;
    for (int k = 0; k < count; k++) {
      int slash = path.indexOf('/', start);
      int end = slash < 0 ? n : slash;
      if (end == start) {
        return null; // empty segment: absolute path or "a//b"
      }
      String seg = path.substring(start, end);
      if (seg.equals(".") || seg.equals("..") || (!serveHidden && seg.charAt(0) == '.')) {
        return null;
      }
      out[k] = seg;
      start = end + 1;
    }
    return out;
  }

  private Path realRoot() {
    Path r = rootReal;
    if (r == null) {
      try {
        r = root.toRealPath();
      } catch (IOException e) {
        return null;
      }
      if (!Files.isDirectory(r)) {
        return null;
      }
      rootReal = r;
    }
    return r;
  }

  // ---- files on disk ----

  private void serveDisk(Exchange ex, Path base, Path baseReal, String[] segs, boolean dirRequest)
      throws IOException {
    Path p = base;
    try {
      for (String s : segs) {
        p = p.resolve(s);
      }
    } catch (InvalidPathException e) {
      ex.sendStatus(404, NOT_FOUND);
      return;
    }
    Path real = realInside(p, baseReal);
    BasicFileAttributes a = real == null ? null : attributes(real);
    if (a != null && a.isDirectory()) {
      if (indexFile == null) {
        a = null;
      } else {
        real = realInside(real.resolve(indexFile), baseReal);
        a = real == null ? null : attributes(real);
      }
    } else if (dirRequest) {
      a = null; // "file.txt/"
    }
    if (a == null || !a.isRegularFile()) {
      ex.sendStatus(404, NOT_FOUND);
      return;
    }
    Source src =
        new Source(real.getFileName().toString(), a.size(), a.lastModifiedTime().toMillis());
    src.path = real;
    respond(ex, src);
  }

  /** The real path of {@code p} when it exists and lies under {@code baseReal}, else null. */
  private static Path realInside(Path p, Path baseReal) {
    Path real;
    try {
      real = p.toRealPath();
    } catch (IOException e) {
      return null;
    }
    if (!real.startsWith(baseReal)) {
      log.debug("{} resolves outside the root", p);
      return null;
    }
    return real;
  }

  private static BasicFileAttributes attributes(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class);
    } catch (IOException e) {
      return null;
    }
  }

  // ---- classpath resources ----

  private void serveResource(Exchange ex, String[] segs, boolean dirRequest) throws IOException {
    String name = join(prefix, segs);
    URL url = loader.getResource(name);
    if (url == null) {
      ex.sendStatus(404, NOT_FOUND);
      return;
    }
    if ("file".equals(url.getProtocol())) {
      // A directory on the classpath: serve from disk, rooted at the prefix directory.
      Path p;
      try {
        p = Paths.get(url.toURI());
      } catch (URISyntaxException | IllegalArgumentException e) {
        ex.sendStatus(404, NOT_FOUND);
        return;
      }
      Path base = p;
      for (int i = 0; i < segs.length && base != null; i++) {
        base = base.getParent();
      }
      Path baseReal = null;
      try {
        baseReal = base == null ? null : base.toRealPath();
      } catch (IOException e) {
        // gone meanwhile
      }
      if (baseReal == null) {
        ex.sendStatus(404, NOT_FOUND);
        return;
      }
      serveDisk(ex, base, baseReal, segs, dirRequest);
      return;
    }
    URLConnection c = url.openConnection();
    if (c instanceof JarURLConnection) {
      JarEntry e = ((JarURLConnection) c).getJarEntry();
      if (e == null || e.isDirectory()) {
        URL index = indexFile == null ? null : loader.getResource(join(name, indexFile));
        if (index == null) {
          ex.sendStatus(404, NOT_FOUND);
          return;
        }
        url = index;
        c = url.openConnection();
      } else if (dirRequest) {
        ex.sendStatus(404, NOT_FOUND);
        return;
      }
    }
    String path = url.getPath();
    Source src = new Source(path.substring(path.lastIndexOf('/') + 1),
        c.getContentLengthLong(), c.getLastModified());
    src.url = c;
    if (src.length < 0) {
      // Unknown length: read it whole (resources without a length are rare and small).
      try (InputStream in = c.getInputStream()) {
        src.bytes = in.readAllBytes();
      }
      src.length = src.bytes.length;
      src.url = null;
    }
    respond(ex, src);
  }

  private static String join(String a, String[] segs) {
    StringBuilder sb = new StringBuilder(a);
    for (String s : segs) {
      if (sb.length() > 0) {
        sb.append('/');
      }
      sb.append(s);
    }
    return sb.toString();
  }

  private static String join(String a, String b) {
    return a.isEmpty() ? b : a + "/" + b;
  }

  // ---- the response ----

  /** What is being served: a file, a resource connection or bytes in memory. */
  private static final class Source {
    final String name;
    long length;
    final long mtime; // ms, 0 when unknown
    Path path;
    URLConnection url;
    byte[] bytes;

    Source(String name, long length, long mtime) {
      this.name = name;
      this.length = length;
      this.mtime = Math.max(0, mtime);
    }
  }

  private void respond(Exchange ex, Source src) throws IOException {
    long len = src.length;
    String etag = null;
    long lastModified = -1; // whole seconds, as ms
    if (src.mtime > 0) {
      etag = "\"" + Long.toHexString(len) + "-" + Long.toHexString(src.mtime) + "\"";
      lastModified = src.mtime / 1000 * 1000;
      ex.setHeader("ETag", etag);
      ex.setHeader("Last-Modified", HttpDate.format(lastModified));
    }
    if (cacheControl != null) {
      ex.setHeader("Cache-Control", cacheControl);
    }
    // Preconditions in RFC 9110 §13.2.2 order.
    String ifMatch = joined(ex, "if-match");
    if (ifMatch != null ? !matches(ifMatch, etag, false)
        : lastModified > 0 && isAfter(lastModified, ex.header("If-Unmodified-Since"))) {
      ex.sendStatus(412, "Precondition Failed\n");
      return;
    }
    String ifNoneMatch = joined(ex, "if-none-match");
    if (ifNoneMatch != null ? matches(ifNoneMatch, etag, true)
        : lastModified > 0 && notAfter(lastModified, ex.header("If-Modified-Since"))) {
      ex.status(304).send();
      return;
    }
    String type = contentType(src.name);
    ex.setHeader("Accept-Ranges", "bytes");
    String rangeHeader = ex.header("Range");
    ByteRanges ranges = null;
    if (rangeHeader != null && ifRange(ex.header("If-Range"), etag, lastModified)) {
      ranges = ByteRanges.parse(rangeHeader, len);
    }
    if (ranges != null && ranges.unsatisfiable()) {
      ex.setHeader("Content-Range", "bytes */" + len);
      ex.sendStatus(416, "Range Not Satisfiable\n");
      return;
    }
    boolean head = "HEAD".equals(ex.method());
    List<ByteRanges.Range> rs = ranges == null ? null : ranges.ranges();
    if (rs == null) {
      ex.contentType(type);
      send(ex, src, head, len, null, new long[] {0, len}, null);
    } else if (rs.size() == 1) {
      ByteRanges.Range r = rs.get(0);
      ex.status(206);
      ex.contentType(type);
      ex.setHeader("Content-Range", "bytes " + r.start() + "-" + r.end() + "/" + len);
      send(ex, src, head, r.length(), null, new long[] {r.start(), r.length()}, null);
    } else {
      String boundary = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE)
          + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
      byte[][] heads = new byte[rs.size()][];
      long[] spans = new long[rs.size() * 2];
      long total = 0;
      for (int i = 0; i < rs.size(); i++) {
        ByteRanges.Range r = rs.get(i);
        heads[i] = ((i == 0 ? "--" : "\r\n--") + boundary + "\r\nContent-Type: " + type
            + "\r\nContent-Range: bytes " + r.start() + "-" + r.end() + "/" + len + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1);
        spans[2 * i] = r.start();
        spans[2 * i + 1] = r.length();
        total += heads[i].length + r.length();
      }
      byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1);
      total += tail.length;
      ex.status(206);
      ex.contentType("multipart/byteranges; boundary=" + boundary);
      send(ex, src, head, total, heads, spans, tail);
    }
  }

  /**
   * Sends a body of {@code total} bytes: for each i, {@code heads[i]} (when heads is not null) then
   * {@code spans[2i+1]} bytes of the source from {@code spans[2i]}; then {@code tail}.
   */
  private void send(Exchange ex, Source src, boolean head, long total, byte[][] heads,
      long[] spans, byte[] tail) throws IOException {
    if (head || total == 0) {
      ex.startResponse(total);
      ex.end();
      return;
    }
    if (src.bytes != null) {
      ex.startResponse(total);
      for (int i = 0; i < spans.length / 2; i++) {
        if (heads != null) {
          ex.write(ByteBuffer.wrap(heads[i]));
        }
        ex.write(ByteBuffer.wrap(src.bytes, (int) spans[2 * i], (int) spans[2 * i + 1]));
      }
      if (tail != null) {
        ex.write(ByteBuffer.wrap(tail));
      }
      ex.end();
      return;
    }
    if (src.path != null) {
      FileChannel ch;
      try {
        ch = FileChannel.open(src.path, StandardOpenOption.READ);
      } catch (AccessDeniedException e) {
        ex.sendStatus(403, "Forbidden\n");
        return;
      } catch (NoSuchFileException e) {
        ex.sendStatus(404, NOT_FOUND);
        return;
      }
      ex.startResponse(total);
      int parts = spans.length / 2;
      for (int i = 0; i < parts; i++) {
        if (heads != null) {
          ex.write(ByteBuffer.wrap(heads[i]));
        }
        // The last region closes the channel, also when the client leaves first.
        ex.writeFile(ch, spans[2 * i], spans[2 * i + 1], i == parts - 1);
      }
      if (tail != null) {
        ex.write(ByteBuffer.wrap(tail));
      }
      ex.end();
      return;
    }
    InputStream in = src.url.getInputStream();
    ex.startResponse(total);
    Pump pump = new Pump(ex, in, heads, spans, tail);
    ex.reactor().dispatch(pump);
  }

  /**
   * Streams pieces of a resource to the exchange on its reactor, {@link #CHUNK} bytes at a time,
   * pausing while the connection's output is above its high-water mark.
   */
  private static final class Pump implements Runnable {
    private final Exchange ex;
    private final InputStream in;
    private final byte[][] heads;
    private final long[] spans;
    private final byte[] tail;
    private int part; // index of the span being sent
    private boolean headSent;
    private long sent; // bytes of the current span sent
    private long pos; // position in the stream

    Pump(Exchange ex, InputStream in, byte[][] heads, long[] spans, byte[] tail) {
      this.ex = ex;
      this.in = in;
      this.heads = heads;
      this.spans = spans;
      this.tail = tail;
    }

    @Override
    public void run() {
      try {
        while (true) {
          if (ex.isFinished()) {
            close();
            return;
          }
          if (ex.isBackedUp()) {
            ex.flush();
            ex.writable().onComplete((v, e) -> ex.reactor().submit(this));
            return;
          }
          if (part == spans.length / 2) {
            if (tail != null) {
              ex.write(ByteBuffer.wrap(tail));
            }
            ex.end();
            close();
            return;
          }
          if (heads != null && !headSent) {
            ex.write(ByteBuffer.wrap(heads[part]));
            headSent = true;
          }
          long start = spans[2 * part];
          long length = spans[2 * part + 1];
          if (pos < start) {
            in.skipNBytes(start - pos);
            pos = start;
          }
          int n = (int) Math.min(CHUNK, length - sent);
          byte[] b = in.readNBytes(n);
          if (b.length < n) {
            throw new IOException("resource shorter than its length");
          }
          pos += n;
          sent += n;
          ex.write(ByteBuffer.wrap(b));
          if (sent == length) {
            part++;
            sent = 0;
            headSent = false;
          }
        }
      } catch (IOException e) {
        log.warn("reading a resource failed", e);
        ex.end(); // short body: the connection is closed after it
        close();
      }
    }

    private void close() {
      try {
        in.close();
      } catch (IOException e) {
        log.debug("close failed: {}", e.toString());
      }
    }
  }

  private String contentType(String name) {
    if (!mimeTypes.isEmpty()) {
      int dot = name.lastIndexOf('.');
      if (dot >= 0) {
        String t = mimeTypes.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
        if (t != null) {
          return t;
        }
      }
    }
    return MimeTypes.forName(name);
  }

  // ---- validators ----

  private static String joined(Exchange ex, String lowerName) {
    List<String> vs = ex.request().headers(lowerName);
    if (vs.isEmpty()) {
      return null;
    }
    return vs.size() == 1 ? vs.get(0) : String.join(",", vs);
  }

  /**
   * Whether the entity-tag list (or {@code *}) matches {@code etag}: weak comparison ignores
   * {@code W/}; strong comparison needs both tags strong.
   */
  static boolean matches(String list, String etag, boolean weak) {
    if (list.trim().equals("*")) {
      return true; // the representation exists
    }
    if (etag == null) {
      return false;
    }
    int n = list.length();
    int i = 0;
    while (i < n) {
      char c = list.charAt(i);
      if (c == ' ' || c == '\t' || c == ',') {
        i++;
        continue;
      }
      boolean isWeak = false;
      if (c == 'W' && i + 1 < n && list.charAt(i + 1) == '/') {
        isWeak = true;
        i += 2;
      }
      if (i < n && list.charAt(i) == '"') {
        int close = list.indexOf('"', i + 1);
        if (close < 0) {
          return false;
        }
        if ((weak || !isWeak) && list.regionMatches(i, etag, 0, etag.length())
            && close + 1 - i == etag.length()) {
          return true;
        }
        i = close + 1;
      } else {
        int comma = list.indexOf(',', i);
        i = comma < 0 ? n : comma + 1; // not a tag: skip it
      }
    }
    return false;
  }

  private static boolean isAfter(long lastModified, String date) {
    long d = HttpDate.parse(date);
    return d >= 0 && lastModified > d;
  }

  private static boolean notAfter(long lastModified, String date) {
    long d = HttpDate.parse(date);
    return d >= 0 && lastModified <= d;
  }

  /** Whether a Range may be honoured under {@code If-Range} (absent: yes). */
  private static boolean ifRange(String ifRange, String etag, long lastModified) {
    if (ifRange == null) {
      return true;
    }
    String v = ifRange.trim();
    if (v.startsWith("\"") || v.startsWith("W/")) {
      return etag != null && v.equals(etag); // strong comparison
    }
    long d = HttpDate.parse(v);
    return d >= 0 && lastModified > 0 && d == lastModified;
  }
}
