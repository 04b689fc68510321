package peloton.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs examples/java's {@link PostsApi} against mongo-java-server and calls it over real sockets
 * with the JDK's HTTP client (and with the example's own Peloton-based client).
 */
class PostsApiTest {
  private MongoServer mongo;
  private PostsApi api;
  private HttpClient http;
  private String base;

  @BeforeEach
  void start() throws Exception {
    mongo = new MongoServer(new MemoryBackend());
    mongo.bind("127.0.0.1", 0);
    api = PostsApi.start("mongodb://127.0.0.1:" + mongo.getLocalAddress().getPort(), 0).get(10, TimeUnit.SECONDS);
    base = "http://127.0.0.1:" + api.port();
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void stop() {
    api.close();
    mongo.shutdownNow();
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void createListGetDelete() throws Exception {
    HttpResponse<String> created = send("POST", "/posts", "{\"title\": \"Hello\", \"body\": \"first\", \"stars\": 3}");
    assertEquals(201, created.statusCode());
    assertEquals("application/json", created.headers().firstValue("content-type").orElse(""));
    Document post = Document.parse(created.body());
    String id = post.getString("id");
    assertEquals(24, id.length());
    assertEquals("/posts/" + id, created.headers().firstValue("location").orElse(""));
    assertEquals(List.of("id", "title", "body", "stars"), List.copyOf(post.keySet()));
    assertEquals(3, post.getInteger("stars"));

    assertEquals(201, send("POST", "/posts", "{\"title\": \"Second\"}").statusCode());
    HttpResponse<String> list = send("GET", "/posts", null);
    assertEquals(200, list.statusCode());
    List<?> items = Document.parse("{\"items\": " + list.body() + "}").getList("items", Object.class);
    assertEquals(2, items.size());
    assertEquals("Second", ((Document) items.get(0)).getString("title"));

    HttpResponse<String> got = send("GET", "/posts/" + id, null);
    assertEquals(200, got.statusCode());
    assertEquals(post, Document.parse(got.body()));

    assertEquals(204, send("DELETE", "/posts/" + id, null).statusCode());
    assertEquals(404, send("GET", "/posts/" + id, null).statusCode());
    assertEquals(404, send("DELETE", "/posts/" + id, null).statusCode());
  }

  @Test
  void unknownIdsAndPathsAre404() throws Exception {
    assertEquals(404, send("GET", "/posts/0123456789abcdef01234567", null).statusCode());
    assertEquals(404, send("GET", "/posts/not-an-id", null).statusCode());
  }

  @Test
  void badJsonIs400() throws Exception {
    HttpResponse<String> bad = send("POST", "/posts", "{\"title\": ");
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("JSON object"), bad.body());
    assertEquals(400, send("POST", "/posts", "[1, 2]").statusCode());
    assertEquals(400, send("POST", "/posts", "{\"title\": 5}").statusCode());
    assertEquals("[]", send("GET", "/posts", null).body());
  }

  @Test
  void theExamplesOwnPelotonClientTalksToIt() throws Exception {
    try (PostsApi.Client client = new PostsApi.Client(base)) {
      String id = client.create("From Peloton", "hi").get(10, TimeUnit.SECONDS);
      Document post = client.get(id).get(10, TimeUnit.SECONDS);
      assertEquals("From Peloton", post.getString("title"));
      assertNull(client.get("0123456789abcdef01234567").get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void theReadmesJavaSnippetsAreTheExamplesCode() throws Exception {
    String example = Files.readString(Path.of("examples/java/peloton/examples/PostsApi.java"), StandardCharsets.UTF_8);
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    List<String> lines = List.of(example.split("\n"));
    int checked = 0;
    for (String block : readme.split("```java\n")) {
      String code = block.substring(0, Math.max(0, block.indexOf("```")));
      String[] snippet = code.strip().split("\n");
      int at = indexOf(lines, snippet[0].strip(), 0);
      if (code.isEmpty() || at < 0) {
        continue; // a snippet of another program
      }
      for (String line : snippet) {
        at = indexOf(lines, line.strip(), at);
        assertTrue(at >= 0, "README line not in PostsApi.java (in order): " + line);
      }
      checked++;
    }
    assertTrue(checked >= 7, "README snippets from PostsApi found: " + checked);
  }

  private static int indexOf(List<String> lines, String line, int from) {
    for (int i = from; i < lines.size(); i++) {
      if (lines.get(i).strip().equals(line)) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void theExampleUsesOnlyThePublicJavaApi() throws Exception {
    String src = Files.readString(Path.of("examples/java/peloton/examples/PostsApi.java"), StandardCharsets.UTF_8);
    assertFalse(src.contains("clojure"), "the example imports nothing of Clojure");
    for (String line : src.split("\n")) {
      assertFalse(line.matches(".*\\(\\s*[A-Z][A-Za-z<>?, ]*\\)\\s*[a-z(].*") && !line.contains("->"),
          "a cast in the example: " + line);
    }
  }
}
