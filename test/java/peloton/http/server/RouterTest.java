package peloton.http.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Routes whose regex is only a literal are matched without the regex engine: the answer must be
 * the one {@link java.util.regex.Matcher#find()} gives, for every pattern and path.
 */
class RouterTest {
  private HttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).join();
    }
  }

  @Test
  void literalBodies() {
    assertEquals("/json", Router.literal("/json"));
    assertEquals("/favicon.ico", Router.literal("/favicon\\.ico"));
    assertEquals("/a-b/c", Router.literal("/a\\-b\\/c"));
    assertEquals("", Router.literal(""));
    assertNull(Router.literal("/favicon.ico"), "an unescaped dot means any character");
    assertNull(Router.literal("/user/(\\d+)"));
    assertNull(Router.literal("/a|/b"));
    assertNull(Router.literal("/x\\d"));
    assertNull(Router.literal("/x\\Q.\\E"));
    assertNull(Router.literal("/x\\"));
    assertNull(Router.literal("/a*"));
  }

  @Test
  void everyRouteAnswersAsTheRegexEngineWould() throws Exception {
    List<String> patterns = List.of("^/$", "^/json$", "^/static/", "\\.css$", "^/a\\.b$",
        "^/a.b$", "admin", "^/user/(\\d+)$", "^/x\\$$", "(?i)^/CASE$", "");
    List<String> paths = List.of("/", "/json", "/json/", "/jsonx", "/static/app.js", "/s/site.css",
        "/a.b", "/axb", "/my/admin/x", "/user/42", "/user/x", "/x$", "/case", "/other");
    Router r = new Router();
    for (int i = 0; i < patterns.size(); i++) {
      int n = i;
      r.add("GET", Pattern.compile(patterns.get(i)),
          (HttpHandler) ex -> ex.contentType("text/plain").body("route " + n).send());
    }
    HttpServer.Options o = new HttpServer.Options();
    o.port = 0;
    server = HttpServer.start(o, r);
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    for (String path : paths) {
      int expected = -1;
      for (int i = 0; i < patterns.size() && expected < 0; i++) {
        if (Pattern.compile(patterns.get(i)).matcher(path).find()) {
          expected = i;
        }
      }
      HttpResponse<String> resp = client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.port() + path)).timeout(Duration.ofSeconds(10))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals("route " + expected, resp.body(), path);
    }
  }

  @Test
  void clojureHandlersOfLiteralRoutesGetTheirExtraArguments() throws Exception {
    clojure.lang.IFn f = new clojure.lang.AFn() {
      @Override
      public Object invoke(Object ex, Object extra) {
        ((Exchange) ex).contentType("text/plain").body("extra " + extra).send();
        return null;
      }
    };
    Router r = new Router().add("GET", Pattern.compile("^/e$"), f, "x1");
    HttpServer.Options o = new HttpServer.Options();
    o.port = 0;
    server = HttpServer.start(o, r);
    HttpResponse<String> resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.port() + "/e")).timeout(Duration.ofSeconds(10))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("extra x1", resp.body());
  }
}
