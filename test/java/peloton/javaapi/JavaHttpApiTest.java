package peloton.javaapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.fut.Fut;
import peloton.fut.Stream;
import peloton.http.client.ClientRequest;
import peloton.http.client.ClientResponse;
import peloton.http.client.HttpClient;
import peloton.http.client.HttpClientException;
import peloton.http.server.Exchange;
import peloton.http.server.HttpServer;
import peloton.http.server.Router;

/**
 * The typed Java API as a Java user writes it: no casts, no Clojure imports. A Peloton server
 * with typed routes and Peloton's client, over real sockets on 127.0.0.1.
 */
class JavaHttpApiTest {
  private HttpServer server;
  private HttpClient client;
  private ExecutorService blocking;
  private String base;

  @BeforeEach
  void start() throws IOException {
    blocking = Executors.newFixedThreadPool(2);
    Router router = new Router()
        .get("^/hello$", ex -> ex.contentType("text/plain; charset=utf-8").body("hello").send())
        .get("^/users/(\\d+)/posts/(\\w+)$", ex ->
            ex.body("user " + ex.pathParam(1) + " post " + ex.pathParam(2)).send())
        .get("^/headers$", this::echoHeaders)
        .get("^/query$", ex -> {
          Map<String, List<String>> q = ex.queryParams();
          ex.body(q.get("tag") + " " + q.get("q")).send();
        })
        .post("^/echo$", ex -> {
          byte[] bytes = ex.body();
          ex.status(201).setHeader("X-Length", Integer.toString(bytes.length))
              .contentType(ex.header("content-type")).body(ex.bodyString().toUpperCase()).send();
        })
        .post("^/input$", ex -> {
          // InputStream reading blocks, so it runs off the reactor thread.
          blocking.execute(() -> {
            try (InputStream in = ex.bodyInputStream()) {
              ex.body("read " + in.readAllBytes().length).send();
            } catch (IOException e) {
              ex.fail(e);
            }
          });
        })
        .put("^/stream$", ex -> {
          Stream<byte[]> body = ex.bodyStream();
          long[] total = new long[1];
          body.forEach(chunk -> total[0] += chunk.length)
              .onComplete((done, error) -> ex.body("streamed " + total[0]).send());
        })
        .get("^/chunked$", ex -> {
          ex.contentType("text/plain").startChunked();
          ex.sendChunk("a").then(ok -> ex.sendChunk("b")).onComplete((ok, e) -> {
            ex.sendChunk("c");
            ex.finishChunked();
          });
        })
        .delete("^/things/(\\d+)$", ex -> ex.status(204).send());
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1), router);
    client = new HttpClient(new HttpClient.Options()
        .connectTimeout(Duration.ofSeconds(5))
        .requestTimeout(Duration.ofSeconds(10))
        .maxConnectionsPerHost(4));
    base = "http://127.0.0.1:" + server.port();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    Fut<Void> stopped = server.stop(1, TimeUnit.SECONDS);
    stopped.get(10, TimeUnit.SECONDS);
    blocking.shutdownNow();
  }

  private void echoHeaders(Exchange ex) {
    List<String> multi = ex.headers("X-Multi");
    Map<String, List<String>> all = ex.headers();
    ex.body(String.join(",", multi) + "|" + all.get("x-multi") + "|" + all.containsKey("host"))
        .send();
  }

  private ClientResponse send(ClientRequest req) throws Exception {
    return client.request(req).get(10, TimeUnit.SECONDS);
  }

  @Test
  void getWithTheBuilderAndTypedResponse() throws Exception {
    ClientResponse r = send(ClientRequest.newBuilder(base + "/hello").GET().build());
    assertEquals(200, r.status());
    assertEquals("OK", r.reason());
    assertEquals("hello", r.bodyString());
    assertEquals("text/plain; charset=utf-8", r.header("Content-Type"));
    Map<String, List<String>> headers = r.headers();
    assertEquals(List.of("5"), headers.get("content-length"));
    byte[] body = r.body();
    assertEquals(5, body.length);
    try (InputStream in = r.bodyInputStream()) {
      assertEquals("hello", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void futsChainWithoutBlocking() throws Exception {
    Fut<Integer> length = client.get(base + "/hello")
        .map(ClientResponse::bodyString)
        .then(s -> client.get(base + "/users/7/posts/x").map(r -> s + " " + r.bodyString()))
        .map(String::length);
    assertEquals("hello user 7 post x".length(), length.get(10, TimeUnit.SECONDS));
  }

  @Test
  void routeGroupsArePathParams() throws Exception {
    ClientResponse r = send(ClientRequest.newBuilder(URI.create(base + "/users/42/posts/intro")).build());
    assertEquals("user 42 post intro", r.bodyString());
    assertEquals(404, send(ClientRequest.newBuilder(base + "/users/x/posts/intro").build()).status());
  }

  @Test
  void requestHeadersAndQueryAsJavaCollections() throws Exception {
    ClientResponse r = send(ClientRequest.newBuilder(base + "/headers")
        .header("X-Multi", "one").header("X-Multi", "two").build());
    assertEquals("one,two|[one, two]|true", r.bodyString());
    ClientResponse q = send(ClientRequest.newBuilder(base + "/query")
        .param("tag", "a b").param("tag", "c").param("q", "é").build());
    assertEquals("[a b, c] [é]", q.bodyString());
  }

  @Test
  void postBodyInAndOut() throws Exception {
    ClientResponse r = send(ClientRequest.newBuilder(base + "/echo")
        .header("Content-Type", "text/plain; charset=utf-8")
        .POST("grüezi")
        .timeout(Duration.ofSeconds(5))
        .build());
    assertEquals(201, r.status());
    assertEquals("GRÜEZI", r.bodyString());
    assertEquals("7", r.header("x-length"));
    assertEquals("text/plain; charset=utf-8", r.header("content-type"));
  }

  @Test
  void requestBodyAsInputStreamAndAsTypedStream() throws Exception {
    byte[] big = new byte[3 * 1024 * 1024]; // over the 1 MiB buffer limit: streamed to the handler
    ClientResponse streamed = send(ClientRequest.newBuilder(base + "/stream").PUT(big).build());
    assertEquals("streamed " + big.length, streamed.bodyString());
    ClientResponse read = send(ClientRequest.newBuilder(base + "/input").POST(big).build());
    assertEquals("read " + big.length, read.bodyString());
  }

  @Test
  void streamedResponseBodyIsATypedStream() throws Exception {
    ClientResponse r = send(ClientRequest.newBuilder(base + "/chunked").stream(true).build());
    assertNull(r.body());
    Stream<byte[]> chunks = r.bodyStream();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    List<Integer> sizes = new ArrayList<>();
    Fut<Boolean> done = chunks.forEach(c -> {
      sizes.add(c.length);
      all.writeBytes(c);
    });
    assertTrue(done.get(10, TimeUnit.SECONDS));
    assertEquals("abc", all.toString(StandardCharsets.UTF_8));
    assertFalse(sizes.isEmpty());
    assertNull(chunks.next().get(1, TimeUnit.SECONDS), "after the end, next() answers null");
  }

  @Test
  void deleteAndFailuresAreTypedToo() throws Exception {
    assertEquals(204, send(ClientRequest.newBuilder(base + "/things/3").DELETE().build()).status());
    int port = server.port();
    server.stop(1, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    Fut<String> refused = client.get("http://127.0.0.1:" + port + "/hello")
        .map(ClientResponse::bodyString)
        .recover(e -> e instanceof HttpClientException hce ? hce.kind().name() : e.toString());
    assertEquals("REFUSED", refused.get(10, TimeUnit.SECONDS));
  }
}
