package peloton.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import peloton.fut.Stream;
import peloton.http.client.ClientRequest;
import peloton.http.client.HttpClient;
import peloton.http.server.HttpServer;

/**
 * The event-stream reader: the HTML standard's parsing rules at every split point of the input,
 * then end to end over real sockets against Peloton's own SSE server and against a raw server
 * that sends the awkward cases in pieces.
 */
class EventStreamClientTest {
  private HttpServer server;
  private final HttpClient client = new HttpClient();

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    }
  }

  private static ServerSentEvent ev(String type, String data, String id, long retry) {
    return new ServerSentEvent(type, data, id, retry);
  }

  /** The awkward cases of section 9.2.6 in one stream, and the events it must give. */
  private static final String EDGE_CASES = "\uFEFF"
      + ": a comment, ignored\n"
      + "data: first\r\ndata:second, no space\r\n\r\n" // CRLF; the space after the colon is optional
      + "event: update\rid: 7\rdata:  two spaces kept as one\r\r" // CR alone
      + "data: the id carries over\n\n"
      + "id\ndata: a bare id resets it\n\n"
      + "id: bad\0id\ndata: an id with NUL is ignored\n\n"
      + "retry: 1500\nretry: 15x\nunknown: field\ndata\n\n" // bad retry ignored; empty data
      + "event: no data, so no event\n\n"
      + "data: caf\u00e9 \ud83d\ude00\n\n"
      + "data: unfinished at the end is dropped\n";

  private static final List<ServerSentEvent> EDGE_EVENTS = List.of(
      ev("message", "first\nsecond, no space", "", -1),
      ev("update", " two spaces kept as one", "7", -1),
      ev("message", "the id carries over", "7", -1),
      ev("message", "a bare id resets it", "", -1),
      ev("message", "an id with NUL is ignored", "", -1),
      ev("message", "", "", 1500),
      ev("message", "caf\u00e9 \ud83d\ude00", "", 1500));

  private static List<ServerSentEvent> parse(byte[] b, int... cuts) throws IOException {
    List<ServerSentEvent> got = new ArrayList<>();
    EventStreamParser p = new EventStreamParser(1024, got::add);
    int from = 0;
    for (int c : cuts) {
      p.feed(b, from, c - from);
      from = c;
    }
    p.feed(b, from, b.length - from);
    p.end();
    return got;
  }

  @Test
  void theStandardsRulesHoldAtEverySplitPoint() throws IOException {
    byte[] b = EDGE_CASES.getBytes(StandardCharsets.UTF_8);
    assertEquals(EDGE_EVENTS, parse(b));
    for (int i = 1; i < b.length; i++) {
      assertEquals(EDGE_EVENTS, parse(b, i), "split at " + i); // CRLF, BOM and UTF-8 split too
    }
    for (int i = 1; i + 7 < b.length; i += 3) {
      assertEquals(EDGE_EVENTS, parse(b, i, i + 7), "split at " + i + " and " + (i + 7));
    }
  }

  @Test
  void aLineOverTheLimitIsAnError() {
    EventStreamParser p = new EventStreamParser(16, e -> { });
    byte[] b = "data: 0123456789abcdef\n".getBytes(StandardCharsets.US_ASCII);
    IOException e = assertThrows(IOException.class, () -> p.feed(b, 0, b.length));
    assertTrue(e.getMessage().contains("longer than 16 bytes"), e.getMessage());
  }

  private static List<ServerSentEvent> drain(Stream<ServerSentEvent> s) throws Exception {
    List<ServerSentEvent> got = new ArrayList<>();
    s.forEach(got::add).toCompletableFuture().get(20, TimeUnit.SECONDS);
    return got;
  }

  @Test
  void readsPelotonsOwnEventStreamUntilTheServerEndsIt() throws Exception {
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1), ex -> {
      EventStream es = EventStream.start(ex, 0);
      es.send(null, "hello", null, -1);
      es.send("update", "line one\nline two\r\nline three", "42", 3000);
      es.comment("a heartbeat");
      es.send(null, "after " + EventStream.lastEventId(ex), null, -1);
      es.close();
    });
    Stream<ServerSentEvent> events = EventStreamClient.open(client,
        new ClientRequest("http://127.0.0.1:" + server.port() + "/feed")
            .header("Last-Event-ID", "41")).toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertEquals(List.of(ev("message", "hello", "", -1),
        ev("update", "line one\nline two\nline three", "42", 3000),
        ev("message", "after 41", "42", 3000)), drain(events));
  }

  @Test
  void readsARawServerThatSendsTheEdgeCasesInPieces() throws Exception {
    byte[] body = EDGE_CASES.getBytes(StandardCharsets.UTF_8);
    try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
        try (Socket s = ss.accept()) {
          s.getInputStream().read(new byte[4096]); // the request (small: one read)
          OutputStream out = s.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
              + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          // Pieces of 5 bytes, each flushed: lines, CRLFs and UTF-8 sequences split across reads.
          for (int i = 0; i < body.length; i += 5) {
            out.write(body, i, Math.min(5, body.length - i));
            out.flush();
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      Stream<ServerSentEvent> events = EventStreamClient.open(client,
          new ClientRequest("http://127.0.0.1:" + ss.getLocalPort() + "/"))
          .toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertEquals(EDGE_EVENTS, drain(events));
      served.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anAnswerThatIsNotAnEventStreamFailsTheOpen() throws Exception {
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1),
        ex -> ex.sendStatus(404, "no feed here\n"));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> EventStreamClient.open(client,
            new ClientRequest("http://127.0.0.1:" + server.port() + "/"))
            .toCompletableFuture().get(20, TimeUnit.SECONDS));
    EventStreamClient.NotAnEventStream n = (EventStreamClient.NotAnEventStream) e.getCause();
    assertEquals(404, n.status());
    assertTrue(n.contentType().startsWith("text/plain"), n.contentType());
  }

  @Test
  void aLineOverTheLimitFailsTheStream() throws Exception {
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1), ex -> {
      EventStream es = EventStream.start(ex, 0);
      es.send("x".repeat(5000));
    });
    Stream<ServerSentEvent> events = EventStreamClient.open(client,
        new ClientRequest("http://127.0.0.1:" + server.port() + "/"), 1000, 4)
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    ExecutionException e = assertThrows(ExecutionException.class, () -> drain(events));
    assertTrue(e.getCause().getMessage().contains("longer than 1000 bytes"), e.getMessage());
  }
}
