package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.reactor.Reactor;

/** Host names are looked up off the reactor; IP literals are not looked up at all. */
class MongoLookupTest {
  private MongoServer server;
  private int port;
  private Reactor reactor;

  @BeforeEach
  void setUp() {
    server = new MongoServer(new MemoryBackend());
    server.bind("127.0.0.1", 0);
    port = server.getLocalAddress().getPort();
    reactor = new Reactor("mongo-lookup-test").start(true);
  }

  @AfterEach
  void tearDown() {
    server.shutdownNow();
    reactor.stop();
  }

  private MongoClient connect(String uri) throws Exception {
    return MongoClient.connect(MongoOptions.fromUri(uri), reactor).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  @Test
  void aNameIsLookedUpOffTheReactorAndALiteralIsNot() throws Exception {
    long before = MongoConnection.LOOKUPS.get();
    MongoClient literal = connect("mongodb://127.0.0.1:" + port + "/db");
    try {
      MongoClientTest.await(literal.insert("db.t", List.of(MongoClientTest.doc(
          MongoClientTest.k("_id"), 1))));
    } finally {
      literal.close();
    }
    assertEquals(before, MongoConnection.LOOKUPS.get(), "an IP literal is parsed, not looked up");
    MongoClient named = connect("mongodb://localhost:" + port + "/db");
    try {
      assertEquals(1L, ((Number) MongoClientTest.await(named.count("db.t",
          MongoClientTest.doc()))).longValue());
    } finally {
      named.close();
    }
    assertTrue(MongoConnection.LOOKUPS.get() > before, "localhost went through the lookup pool");
  }

  @Test
  void anUnknownHostFailsNamingIt() {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> connect("mongodb://no-such-host.invalid:" + port + "/db?connectTimeoutMS=10000"));
    assertInstanceOf(MongoConnectionException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains("unknown host no-such-host.invalid"),
        e.getCause().getMessage());
  }
}
