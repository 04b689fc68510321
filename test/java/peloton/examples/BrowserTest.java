package peloton.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.java.api.Clojure;
import clojure.lang.Keyword;
import clojure.lang.RT;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Drives Debian's headless Chromium against the demo through ChromeDriver's W3C WebDriver HTTP
 * API (JDK HttpClient, no Selenium): the live counter at /chunked rises, and a blog post typed into
 * the form and submitted appears on the page (as text, not markup) and goes away with its Delete
 * button. Skipped when chromium or chromedriver is not installed ({@code apt-get install chromium
 * chromium-driver}); {@code PELOTON_CHROMIUM} and {@code PELOTON_CHROMEDRIVER} name other binaries.
 */
class BrowserTest {
  private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static String missing;
  private static String chromium;
  private static Path tmp;
  private static Object demo;
  private static String demoUrl;
  private static Process driver;
  private static String driverUrl;
  private static String session;

  @BeforeAll
  static void start() throws Exception {
    chromium = executable("PELOTON_CHROMIUM", "chromium", "chromium-browser", "google-chrome");
    String chromedriver = executable("PELOTON_CHROMEDRIVER", "chromedriver");
    if (chromium == null || chromedriver == null) {
      missing = "chromium and chromedriver are not installed"
          + " (apt-get install chromium chromium-driver)";
      return;
    }
    tmp = Files.createTempDirectory("peloton-browser");

    Clojure.var("clojure.core", "require").invoke(Clojure.read("peloton.examples.demo"));
    demo = Clojure.var("peloton.examples.demo", "start!").invoke(
        RT.map(Keyword.intern("port"), 0, Keyword.intern("data-dir"),
            tmp.resolve("data").toString()));
    demoUrl = (String) ((Map<?, ?>) demo).get(Keyword.intern("url"));

    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    driverUrl = "http://127.0.0.1:" + port;
    driver = new ProcessBuilder(chromedriver, "--port=" + port)
        .redirectErrorStream(true)
        .redirectOutput(tmp.resolve("chromedriver.log").toFile())
        .start();
    waitFor("chromedriver to be ready", () -> {
      try {
        return value(call("GET", "/status", null)).asDocument().getBoolean("ready").getValue()
            ? true : null;
      } catch (IOException e) {
        return null;
      }
    });

    session = newSession(chromium, "profile");
  }

  /** A new browser session with a profile directory of its own (and {@code extra} flags). */
  private static String newSession(String chromium, String profile, String... extra)
      throws Exception {
    List<String> args = new ArrayList<>(List.of("--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--user-data-dir=" + tmp.resolve(profile)));
    args.addAll(List.of(extra));
    StringBuilder a = new StringBuilder();
    for (String arg : args) {
      a.append(a.length() == 0 ? "" : ",").append(json(arg));
    }
    // pageLoadStrategy none: /chunked never finishes loading, so navigation must not wait for it.
    String caps = "{\"capabilities\":{\"alwaysMatch\":{\"browserName\":\"chrome\","
        + "\"pageLoadStrategy\":\"none\",\"goog:chromeOptions\":{\"binary\":" + json(chromium)
        + ",\"args\":[" + a + "]}}}}";
    return value(call("POST", "/session", caps)).asDocument().getString("sessionId").getValue();
  }

  @BeforeEach
  void needsChromium() {
    Assumptions.assumeTrue(missing == null, missing);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (session != null) {
        call("DELETE", "/session/" + session, null);
      }
    } finally {
      if (driver != null) {
        driver.destroy();
        driver.waitFor();
      }
      if (demo != null) {
        Clojure.var("peloton.examples.demo", "stop!").invoke(demo, 1);
      }
      if (tmp != null) {
        try (Stream<Path> files = Files.walk(tmp)) {
          files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
      }
    }
  }

  @Test
  void chunkedCounterRisesInTheBrowser() throws Exception {
    navigate(demoUrl + "chunked");
    // null until the counter's text is parsed: a busy parser may yield between creating the
    // element and inserting its text, so an empty element is "not yet", not a number.
    String read = "var e = document.getElementById('foo'); return e && e.textContent ? e.textContent : null;";
    int first = Integer.parseInt(waitFor("the counter", () -> {
      BsonValue v = script(read);
      return v.isString() ? v.asString().getValue() : null;
    }));
    // One increment a second: three more take about three seconds.
    int later = waitFor("the counter to rise by 3 from " + first, () -> {
      BsonValue v = script(read);
      int n = v.isString() ? Integer.parseInt(v.asString().getValue()) : first;
      return n >= first + 3 ? n : null;
    });
    assertTrue(later >= first + 3, first + " -> " + later);
    assertEquals("/chunked", script("return location.pathname").asString().getValue());
    // The counter page has the frame of the others: title, stylesheet, navigation.
    assertEquals("Counter", script("return document.title").asString().getValue());
    assertEquals(4, script("return document.querySelectorAll('nav a').length").asNumber().intValue());
    assertEquals("64px", script("return getComputedStyle(document.getElementById('foo')).fontSize")
        .asString().getValue(), "style.css applies (.counter is 4rem)");
  }

  @Test
  void blogPostSubmittedThroughTheFormAppears() throws Exception {
    String title = "From Chromium <i>" + System.nanoTime() + "</i> & co";
    navigate(demoUrl + "blog");
    String input = waitFor("the form", () -> find("form.post input[name=title]"));
    call("POST", "/session/" + session + "/element/" + input + "/value",
        "{\"text\":" + json(title) + "}");
    String body = find("form.post textarea[name=body]");
    call("POST", "/session/" + session + "/element/" + body + "/value",
        "{\"text\":" + json("Typed into a real browser.") + "}");
    click(find("form.post button[type=submit]"));

    String titles = "return Array.from(document.querySelectorAll('article h2'))"
        + ".map(function (e) { return e.textContent; })";
    List<String> shown = waitFor("the new post on /blog", () -> {
      List<String> t = strings(script(titles));
      return t.contains(title) ? t : null;
    });
    assertEquals(title, shown.get(0), "newest first");
    assertEquals("/blog", script("return location.pathname").asString().getValue(),
        "POST /blog answered 303 See Other back to /blog");
    assertEquals(0, script("return document.querySelectorAll('article h2 i').length")
        .asNumber().intValue(), "the title is text, not markup");
    assertEquals("Typed into a real browser.",
        script("return document.querySelector('article .body').textContent").asString()
            .getValue());

    click(find("article form.delete button"));
    waitFor("the post to be deleted", () -> strings(script(titles)).contains(title) ? null : true);
  }

  @Test
  void aLivePostInOneBrowserAppearsInAnotherOverWebSocketAndServerSentEvents() throws Exception {
    String other = newSession(chromium, "profile-live");
    try {
      String mine = session;
      navigate(demoUrl + "live");
      navigate(other, demoUrl + "live");
      for (String s : new String[] {mine, other}) {
        waitFor("the WebSocket to open", () -> "connected".equals(text(s, "status")) ? true : null);
        waitFor("the event feed to open", () -> "listening".equals(text(s, "feed-status"))
            ? true : null);
      }
      String post = "hello from one browser <b>" + System.nanoTime() + "</b>";
      String input = find("#text");
      call("POST", "/session/" + mine + "/element/" + input + "/value",
          "{\"text\":" + json(post) + "}");
      click(find("#say button"));
      String lastMessage = "var l = document.querySelectorAll('#messages li');"
          + " return l.length ? l[l.length - 1].textContent : null;";
      String lastFeed = "var l = document.querySelectorAll('#feed li');"
          + " return l.length ? l[l.length - 1].textContent : null;";
      for (String s : new String[] {other, mine}) {
        waitFor("the post over WebSocket", () -> post.equals(string(script(s, lastMessage)))
            ? true : null);
        waitFor("the post over Server-Sent Events", () -> post.equals(string(script(s, lastFeed)))
            ? true : null);
      }
      assertEquals(0, script(other, "return document.querySelectorAll('#messages b').length")
          .asNumber().intValue(), "the post is text, not markup");
    } finally {
      call("DELETE", "/session/" + other, null);
    }
  }

  /**
   * A page over https from Peloton's TLS server runs its script, whose fetch goes over TLS too.
   * The browser trusts the test CA by its public key (Chromium's
   * --ignore-certificate-errors-spki-list: errors are ignored only for a chain holding that key;
   * adding the CA to an NSS database would need certutil). A profile without the flag gets the
   * certificate error page and runs nothing.
   */
  @Test
  void aPageOverHttpsRunsItsFetch() throws Exception {
    java.util.concurrent.atomic.AtomicInteger fetches = new java.util.concurrent.atomic.AtomicInteger();
    String page = "<!doctype html><html><head><title>Over TLS</title></head><body>"
        + "<p id=out>waiting</p><script>fetch('/data').then(function (r) { return r.text(); })"
        + ".then(function (t) { document.getElementById('out').textContent = t + ' via '"
        + " + location.protocol; });</script></body></html>";
    peloton.http.server.HttpServer server = peloton.http.server.HttpServer.start(
        new peloton.http.server.HttpServer.Options().port(0).reactors(1).tls(
            peloton.transport.TlsConfig.serverPem(peloton.transport.TestCerts.file("fullchain.pem"),
                peloton.transport.TestCerts.file("server.key"))),
        ex -> {
          if (ex.path().equals("/data")) {
            fetches.incrementAndGet();
            ex.contentType("text/plain").body("fetched " + ex.tlsSession().getProtocol()).send();
          } else {
            ex.contentType("text/html; charset=utf-8").body(page).send();
          }
        });
    String trusting = null;
    try {
      String url = "https://localhost:" + server.port() + "/";
      java.security.cert.X509Certificate ca = peloton.transport.Pem.certificates(
          Path.of(peloton.transport.TestCerts.file("ca.pem"))).get(0);
      String spki = java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest
          .getInstance("SHA-256").digest(ca.getPublicKey().getEncoded()));
      trusting = newSession(chromium, "profile-tls", "--ignore-certificate-errors-spki-list=" + spki);
      String s = trusting;
      navigate(s, url);
      String out = waitFor("the page's fetch over https", () -> {
        String t = text(s, "out");
        return t != null && !t.equals("waiting") ? t : null;
      });
      assertEquals("fetched TLSv1.3 via https:", out);
      assertEquals(1, fetches.get());

      // The main profile does not trust the test CA: Chromium's error page, no script, no fetch.
      navigate(url);
      String where = waitFor("the certificate error page", () -> {
        String h = string(script("return location.href"));
        return h != null && h.startsWith("chrome-error:") ? h : null;
      });
      assertTrue(text(session, "out") == null, where);
      assertEquals(1, fetches.get(), "the untrusting browser ran no fetch");
    } finally {
      if (trusting != null) {
        call("DELETE", "/session/" + trusting, null);
      }
      server.close();
    }
  }

  private static String text(String s, String id) throws Exception {
    return string(script(s, "var e = document.getElementById('" + id + "');"
        + " return e ? e.textContent : null;"));
  }

  private static String string(BsonValue v) {
    return v.isString() ? v.asString().getValue() : null;
  }

  // ---- WebDriver over HTTP ----

  private static void navigate(String url) throws Exception {
    navigate(session, url);
  }

  private static void navigate(String s, String url) throws Exception {
    call("POST", "/session/" + s + "/url", "{\"url\":" + json(url) + "}");
  }

  private static BsonValue script(String js) throws Exception {
    return script(session, js);
  }

  private static BsonValue script(String s, String js) throws Exception {
    return value(call("POST", "/session/" + s + "/execute/sync",
        "{\"script\":" + json(js) + ",\"args\":[]}"));
  }

  /** The element id for a CSS selector, or null when there is none (yet). */
  private static String find(String css) throws Exception {
    String r = call("POST", "/session/" + session + "/elements",
        "{\"using\":\"css selector\",\"value\":" + json(css) + "}");
    List<BsonValue> found = value(r).asArray().getValues();
    return found.isEmpty() ? null : found.get(0).asDocument().getString(ELEMENT).getValue();
  }

  private static void click(String element) throws Exception {
    call("POST", "/session/" + session + "/element/" + element + "/click", "{}");
  }

  private static String call(String method, String path, String body) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(driverUrl + path))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (resp.statusCode() != 200) {
      throw new AssertionError("WebDriver " + method + " " + path + " answered "
          + resp.statusCode() + ": " + resp.body());
    }
    return resp.body();
  }

  private static BsonValue value(String json) {
    return BsonDocument.parse(json).get("value");
  }

  private static List<String> strings(BsonValue v) {
    List<String> out = new ArrayList<>();
    for (BsonValue x : v.asArray()) {
      out.add(x.asString().getValue());
    }
    return out;
  }

  private static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  /** Polls {@code check} until it answers non-null, failing after {@link #WAIT}. */
  private static <T> T waitFor(String what, Callable<T> check) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      T v = check.call();
      if (v != null) {
        return v;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + WAIT.toSeconds() + " s waiting for " + what);
      }
      Thread.sleep(50);
    }
  }

  private static String executable(String env, String... names) {
    String given = System.getenv(env);
    if (given != null && !given.isEmpty()) {
      return new File(given).canExecute() ? given : null;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      for (String name : names) {
        File f = new File(dir, name);
        if (f.canExecute()) {
          return f.getPath();
        }
      }
    }
    return null;
  }
}
