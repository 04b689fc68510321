package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static peloton.mongo.MongoClientTest.await;
import static peloton.mongo.MongoClientTest.awaitError;
import static peloton.mongo.MongoClientTest.doc;
import static peloton.mongo.ScriptedServer.hello;
import static peloton.mongo.ScriptedServer.k;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.fut.Stream;
import peloton.reactor.Reactor;

/** Faults, authentication, discovery and cursors against scripted servers over real sockets. */
class ScriptedServerTest {
  private Reactor reactor;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void start() {
    reactor = new Reactor("scripted-test").start(true);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    reactor.stop();
    reactor.awaitTermination(5, TimeUnit.SECONDS);
  }

  private ScriptedServer server(java.util.function.BiFunction<OpMsg.Reply, String, Object> script) throws Exception {
    ScriptedServer s = new ScriptedServer(script);
    closeables.add(s);
    return s;
  }

  private MongoClient connect(MongoOptions o) {
    MongoClient c = (MongoClient) await(MongoClient.connect(o, reactor));
    closeables.add(c);
    return c;
  }

  private static MongoOptions opts(ScriptedServer s) {
    MongoOptions o = new MongoOptions();
    o.hosts.add(s.address());
    return o.timeouts(2000, 2000);
  }

  private static final Map<?, ?> OK = doc(k("n"), 1L, k("ok"), 1.0);

  @Test
  void handshakeIsLegacyIsMasterWithHelloOkAndClientMetadata() throws Exception {
    ScriptedServer s = server((r, name) -> name.equals("isMaster") ? hello() : OK);
    connect(opts(s));
    Map<?, ?> first = (Map<?, ?>) s.requests.get(0).body;
    assertEquals("isMaster", ScriptedServer.commandName(s.requests.get(0)));
    assertEquals(true, first.get(k("helloOk")));
    assertEquals("peloton", ((Map<?, ?>) ((Map<?, ?>) first.get(k("client"))).get(k("driver"))).get(k("name")));
    assertEquals("admin", first.get(k("$db")));
  }

  @Test
  void malformedReplyFailsThatConnectionAndTheReactorGoesOn() throws Exception {
    AtomicInteger counts = new AtomicInteger();
    ScriptedServer s = server((r, name) -> {
      if (name.equals("isMaster")) {
        return hello();
      }
      if (counts.incrementAndGet() == 1) {
        byte[] bad = ScriptedServer.reply(r.requestId, doc(k("n"), 1L, k("ok"), 1.0));
        bad[12] = 1; // opCode 1 (OP_REPLY), which Peloton does not speak
        return bad;
      }
      return doc(k("n"), 4L, k("ok"), 1.0);
    });
    MongoClient c = connect(opts(s));
    Throwable e = awaitError(c.count("a.b", null));
    assertInstanceOf(MongoConnectionException.class, e);
    assertInstanceOf(MongoProtocolException.class, e.getCause());
    assertEquals(4L, await(c.count("a.b", null)));
  }

  @Test
  void oversizedReplyIsAnErrorNotAnAllocation() throws Exception {
    ScriptedServer s = server((r, name) -> name.equals("isMaster")
        ? hello(k("maxMessageSizeBytes"), 100_000L)
        : new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 0, 0, 0, 0});
    MongoClient c = connect(opts(s));
    Throwable e = awaitError(c.count("a.b", null));
    assertInstanceOf(MongoConnectionException.class, e);
    assertInstanceOf(MongoProtocolException.class, e.getCause());
  }

  @Test
  void replyToAnotherRequestIsAnError() throws Exception {
    ScriptedServer s = server((r, name) -> name.equals("isMaster") ? hello()
        : ScriptedServer.reply(r.requestId + 1000, OK));
    MongoClient c = connect(opts(s));
    assertInstanceOf(MongoProtocolException.class, awaitError(c.count("a.b", null)).getCause());
  }

  @Test
  void serverClosingMidFlightFailsThePendingFut() throws Exception {
    ScriptedServer s = server((r, name) -> name.equals("isMaster") ? hello() : ScriptedServer.CLOSE);
    MongoClient c = connect(opts(s));
    assertInstanceOf(MongoConnectionException.class, awaitError(c.count("a.b", null)));
  }

  @Test
  void silentServerFailsWithinTheSocketTimeout() throws Exception {
    ScriptedServer s = server((r, name) -> name.equals("isMaster") ? hello() : null);
    MongoClient c = connect(opts(s).timeouts(2000, 300));
    Throwable e = awaitError(c.count("a.b", null));
    assertInstanceOf(MongoConnectionException.class, e);
    assertTrue(e.getMessage().contains("socket timeout"), e.getMessage());
  }

  @Test
  void largeInsertGoesAsKindOneSequencesWithinTheServersBatchLimit() throws Exception {
    ScriptedServer s = server((r, name) -> name.equals("isMaster") ? hello()
        : doc(k("n"), (long) r.sequences.get("documents").size(), k("ok"), 1.0));
    MongoClient c = connect(opts(s));
    List<Map<?, ?>> docs = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      docs.add(doc(k("x"), 1L));
    }
    assertEquals(5000, ((List<?>) await(c.insert("x.y", docs))).size());
    List<Integer> sizes = new ArrayList<>();
    for (OpMsg.Reply r : s.requests) {
      if (ScriptedServer.commandName(r).equals("insert")) {
        sizes.add(r.sequences.get("documents").size());
        assertFalse(((Map<?, ?>) r.body).containsKey(k("documents")));
      }
    }
    assertEquals(List.of(1000, 1000, 1000, 1000, 1000), sizes);
  }

  /** A server that drops the connection at the first find and answers later ones; counts the finds. */
  private ScriptedServer dropsFirstFind(AtomicInteger finds) throws Exception {
    return server((r, name) -> {
      switch (name) {
        case "isMaster": return hello();
        case "find":
          return finds.incrementAndGet() == 1 ? ScriptedServer.CLOSE
              : doc(k("cursor"), doc(k("id"), 0L, k("ns"), "a.b", k("firstBatch"), List.of(doc(k("_id"), 1L))),
                  k("ok"), 1.0);
        default: return OK;
      }
    });
  }

  @Test
  void aReadIsRetriedOnceAfterANetworkErrorUnlessRetryReadsIsOff() throws Exception {
    AtomicInteger finds = new AtomicInteger();
    ScriptedServer s = dropsFirstFind(finds);
    MongoClient c = connect(opts(s));
    assertEquals(doc(k("_id"), 1L), await(c.findOne("a.b", doc(), null)), "the retry, on a new connection, answered");
    assertEquals(2, finds.get(), "sent twice: once, and one retry");

    AtomicInteger finds2 = new AtomicInteger();
    ScriptedServer s2 = dropsFirstFind(finds2);
    MongoOptions o = opts(s2);
    o.retryReads = false;
    MongoClient c2 = connect(o);
    assertInstanceOf(MongoConnectionException.class, awaitError(c2.findOne("a.b", doc(), null)));
    assertEquals(1, finds2.get(), "not retried");
  }

  @Test
  void streamAsksForMoreOnlyAsTheConsumerTakesAndKillsTheCursorWhenCancelled() throws Exception {
    CountDownLatch getMore = new CountDownLatch(1);
    CountDownLatch killed = new CountDownLatch(1);
    AtomicInteger getMores = new AtomicInteger();
    ScriptedServer s = server((r, name) -> {
      switch (name) {
        case "isMaster": return hello();
        case "find":
          return doc(k("cursor"), doc(k("id"), 77L, k("ns"), "a.b",
              k("firstBatch"), List.of(doc(k("i"), 0L), doc(k("i"), 1L))), k("ok"), 1.0);
        case "getMore":
          getMores.incrementAndGet();
          getMore.countDown();
          return doc(k("cursor"), doc(k("id"), 77L, k("ns"), "a.b",
              k("nextBatch"), List.of(doc(k("i"), 2L), doc(k("i"), 3L))), k("ok"), 1.0);
        case "killCursors":
          assertEquals(List.of(77L), ((Map<?, ?>) r.body).get(k("cursors")));
          killed.countDown();
          return doc(k("ok"), 1.0);
        default: return null;
      }
    });
    MongoClient c = connect(opts(s));
    Stream st = (Stream) await(c.findStream("a.b", null, new FindOptions().batchSize(2)));
    assertTrue(getMore.await(5, TimeUnit.SECONDS));
    assertEquals(0L, ((Map<?, ?>) await(st.take())).get(k("i")));
    st.cancel();
    assertTrue(killed.await(5, TimeUnit.SECONDS));
    // The buffer held the first batch; one getMore filled the room the take made, no more.
    assertEquals(1, getMores.get());
  }

  @Test
  void aJavaCursorIsReadTheDriversWayAndCancellingItKillsTheServersCursor() throws Exception {
    CountDownLatch killed = new CountDownLatch(1);
    AtomicInteger getMores = new AtomicInteger();
    ScriptedServer s = server((r, name) -> {
      switch (name) {
        case "isMaster": return hello();
        case "find":
          return doc(k("cursor"), doc(k("id"), 78L, k("ns"), "a.b",
              k("firstBatch"), List.of(doc(k("i"), 0), doc(k("i"), 1L))), k("ok"), 1.0);
        case "getMore":
          getMores.incrementAndGet();
          return doc(k("cursor"), doc(k("id"), 78L, k("ns"), "a.b",
              k("nextBatch"), List.of(doc(k("i"), 2), doc(k("i"), 3))), k("ok"), 1.0);
        case "killCursors":
          assertEquals(List.of(78L), ((Map<?, ?>) r.body).get(k("cursors")));
          killed.countDown();
          return doc(k("ok"), 1.0);
        default: return null;
      }
    });
    MongoClient c = connect(opts(s));
    peloton.fut.Stream<org.bson.Document> st = c.collection("a.b").find().batchSize(2).cursor()
        .get(5, TimeUnit.SECONDS);
    org.bson.Document first = st.next().get(5, TimeUnit.SECONDS);
    assertEquals(new org.bson.Document("i", 0), first);
    assertEquals(Integer.class, first.get("i").getClass());
    assertEquals(Long.class, st.next().get(5, TimeUnit.SECONDS).get("i").getClass());
    st.cancel();
    assertTrue(killed.await(5, TimeUnit.SECONDS));
    // Two takes made room for two documents: at most the two getMores that filled it.
    assertTrue(getMores.get() <= 2, "getMores: " + getMores.get());
  }

  // ---------------------------------------------------------------- SCRAM

  private static byte[] hmac(String alg, byte[] key, byte[] data) throws Exception {
    Mac m = Mac.getInstance(alg);
    m.init(new SecretKeySpec(key, alg));
    return m.doFinal(data);
  }

  /** A SCRAM server for one user: answers saslStart/saslContinue as MongoDB does. */
  private ScriptedServer scramServer(String mech, String user, String password, AtomicBoolean authed,
      List<String> mechsSeen) throws Exception {
    boolean sha256 = mech.equals("SCRAM-SHA-256");
    String alg = sha256 ? "HmacSHA256" : "HmacSHA1";
    String prepared = sha256 ? password : Scram.mongoPasswordDigest(user, password);
    byte[] salt = "0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    int iterations = 4096;
    String[] state = new String[2]; // client-first-bare, server-first
    return server((r, name) -> {
      try {
        Map<?, ?> b = (Map<?, ?>) r.body;
        switch (name) {
          case "isMaster":
            return hello(k("saslSupportedMechs"), List.of(mech));
          case "saslStart": {
            mechsSeen.add((String) b.get(k("mechanism")));
            String first = new String((byte[]) b.get(k("payload")), StandardCharsets.UTF_8);
            state[0] = first.substring(3);
            String nonce = state[0].substring(state[0].indexOf(",r=") + 3);
            state[1] = "r=" + nonce + "SERVERNONCE,s=" + Base64.getEncoder().encodeToString(salt) + ",i=" + iterations;
            return doc(k("conversationId"), 1L, k("done"), false,
                k("payload"), state[1].getBytes(StandardCharsets.UTF_8), k("ok"), 1.0);
          }
          case "saslContinue": {
            String fin = new String((byte[]) b.get(k("payload")), StandardCharsets.UTF_8);
            String withoutProof = fin.substring(0, fin.indexOf(",p="));
            byte[] proof = Base64.getDecoder().decode(fin.substring(fin.indexOf(",p=") + 3));
            byte[] salted = SecretKeyFactory.getInstance(sha256 ? "PBKDF2WithHmacSHA256" : "PBKDF2WithHmacSHA1")
                .generateSecret(new PBEKeySpec(prepared.toCharArray(), salt, iterations, sha256 ? 256 : 160)).getEncoded();
            byte[] clientKey = hmac(alg, salted, "Client Key".getBytes(StandardCharsets.UTF_8));
            byte[] storedKey = MessageDigest.getInstance(sha256 ? "SHA-256" : "SHA-1").digest(clientKey);
            byte[] auth = (state[0] + "," + state[1] + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
            byte[] sig = hmac(alg, storedKey, auth);
            for (int i = 0; i < sig.length; i++) {
              sig[i] ^= clientKey[i];
            }
            if (!MessageDigest.isEqual(sig, proof)) {
              return doc(k("ok"), 0.0, k("code"), 18L, k("codeName"), "AuthenticationFailed",
                  k("errmsg"), "Authentication failed.");
            }
            byte[] serverKey = hmac(alg, salted, "Server Key".getBytes(StandardCharsets.UTF_8));
            String v = "v=" + Base64.getEncoder().encodeToString(hmac(alg, serverKey, auth));
            authed.set(true);
            return doc(k("conversationId"), 1L, k("done"), true,
                k("payload"), v.getBytes(StandardCharsets.UTF_8), k("ok"), 1.0);
          }
          default:
            return authed.get() ? doc(k("n"), 42L, k("ok"), 1.0)
                : doc(k("ok"), 0.0, k("code"), 13L, k("errmsg"), "unauthorized");
        }
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
  }

  @Test
  void scramSha256ConversationAuthenticatesTheConnection() throws Exception {
    AtomicBoolean authed = new AtomicBoolean();
    List<String> mechs = new ArrayList<>();
    ScriptedServer s = scramServer("SCRAM-SHA-256", "ann", "pässword", authed, mechs);
    MongoClient c = connect(opts(s).credentials("ann", "pässword", "admin"));
    assertEquals(42L, await(c.count("a.b", null)));
    assertEquals(List.of("SCRAM-SHA-256"), mechs);
    Map<?, ?> hs = (Map<?, ?>) s.requests.get(0).body;
    assertEquals("admin.ann", hs.get(k("saslSupportedMechs")));
  }

  @Test
  void scramSha1IsChosenWhenTheServerOffersOnlyIt() throws Exception {
    AtomicBoolean authed = new AtomicBoolean();
    List<String> mechs = new ArrayList<>();
    ScriptedServer s = scramServer("SCRAM-SHA-1", "bob", "secret", authed, mechs);
    MongoClient c = connect(opts(s).credentials("bob", "secret", "admin"));
    assertEquals(42L, await(c.count("a.b", null)));
    assertEquals(List.of("SCRAM-SHA-1"), mechs);
  }

  @Test
  void wrongPasswordFailsConnectWithAuthenticationFailed() throws Exception {
    ScriptedServer s = scramServer("SCRAM-SHA-256", "ann", "right", new AtomicBoolean(), new ArrayList<>());
    Throwable e = awaitError(MongoClient.connect(opts(s).credentials("ann", "wrong", "admin"), reactor));
    MongoCommandException ce = assertInstanceOf(MongoCommandException.class, e);
    assertEquals(18, ce.code());
    assertFalse(e.getMessage().contains("wrong"));
  }

  // ---------------------------------------------------------------- replica set

  @Test
  void findsThePrimaryAndFindsItAgainAfterNotPrimary() throws Exception {
    AtomicBoolean bPrimary = new AtomicBoolean(true);
    AtomicInteger aInserts = new AtomicInteger();
    AtomicInteger bInserts = new AtomicInteger();
    String[] addrs = new String[2];
    ScriptedServer a = server((r, name) -> {
      if (name.equals("isMaster") || name.equals("hello")) {
        return hello(k("ismaster"), !bPrimary.get(), k("secondary"), bPrimary.get(), k("setName"), "rs0",
            k("hosts"), List.of(addrs[0], addrs[1]));
      }
      aInserts.incrementAndGet();
      return OK;
    });
    ScriptedServer b = server((r, name) -> {
      if (name.equals("isMaster") || name.equals("hello")) {
        return hello(k("helloOk"), true, k("ismaster"), bPrimary.get(), k("secondary"), !bPrimary.get(),
            k("setName"), "rs0", k("hosts"), List.of(addrs[0], addrs[1]));
      }
      if (!bPrimary.get()) {
        return doc(k("ok"), 0.0, k("code"), 10107L, k("codeName"), "NotWritablePrimary", k("errmsg"), "not primary");
      }
      bInserts.incrementAndGet();
      return OK;
    });
    addrs[0] = a.address();
    addrs[1] = b.address();
    // Only A is given: B is learned from A's host list.
    MongoClient c = connect(opts(a).replicaSet("rs0"));
    await(c.insert("x.y", List.of(doc(k("i"), 1L))));
    assertEquals(b.address(), c.primaryAddress());
    assertEquals(1, bInserts.get());
    assertEquals(0, aInserts.get());

    bPrimary.set(false);
    MongoCommandException e = assertInstanceOf(MongoCommandException.class,
        awaitError(c.insert("x.y", List.of(doc(k("i"), 2L)))));
    assertTrue(e.isNotPrimary());
    await(c.insert("x.y", List.of(doc(k("i"), 3L))));
    assertEquals(a.address(), c.primaryAddress());
    assertEquals(1, aInserts.get());
    // B said helloOk: it was asked again with hello; A never said it, so it never got hello.
    assertTrue(b.received.contains("hello"), b.received.toString());
    assertFalse(a.received.contains("hello"), a.received.toString());
  }

  @Test
  void wrongReplicaSetNameFindsNoPrimary() throws Exception {
    ScriptedServer s = server((r, name) -> hello(k("setName"), "other"));
    Throwable e = awaitError(MongoClient.connect(opts(s).replicaSet("rs0"), reactor));
    assertInstanceOf(MongoConnectionException.class, e);
    assertTrue(e.getMessage().contains("no primary"), e.getMessage());
  }

  // ---------------------------------------------------------------- read preference

  /** A member of replica set rs0 that answers reads with a document naming it. */
  private ScriptedServer member(String name, boolean isPrimary, String[] addrs) throws Exception {
    return server((r, cmd) -> {
      switch (cmd) {
        case "isMaster":
        case "hello":
          return hello(k("ismaster"), isPrimary, k("secondary"), !isPrimary, k("setName"), "rs0",
              k("hosts"), List.of(addrs[0], addrs[1]));
        case "find":
          return doc(k("cursor"), doc(k("id"), 0L, k("ns"), "a.b",
              k("firstBatch"), List.of(doc(k("from"), name))), k("ok"), 1.0);
        case "count":
          return doc(k("n"), isPrimary ? 1L : 2L, k("ok"), 1.0);
        default:
          return OK;
      }
    });
  }

  private static Object readPreferenceOf(ScriptedServer s, String command) {
    for (OpMsg.Reply r : s.requests) {
      if (ScriptedServer.commandName(r).equals(command)) {
        return ((Map<?, ?>) r.body).get(k("$readPreference"));
      }
    }
    throw new AssertionError("no " + command + " received: " + s.received);
  }

  private static Object from(Object found) {
    return ((Map<?, ?>) ((List<?>) found).get(0)).get(k("from"));
  }

  @Test
  void readsGoWhereTheReadPreferenceAllowsWithReadPreferenceInTheBody() throws Exception {
    String[] addrs = new String[2];
    ScriptedServer p = member("primary", true, addrs);
    ScriptedServer sec = member("secondary", false, addrs);
    addrs[0] = p.address();
    addrs[1] = sec.address();
    MongoClient c = connect(opts(p).replicaSet("rs0"));

    assertEquals("primary", from(await(c.find("a.b", null, null))));
    assertEquals(null, readPreferenceOf(p, "find"));
    assertEquals("secondary", from(await(c.find("a.b", null,
        new FindOptions().readPreference(ReadPreference.SECONDARY)))));
    assertEquals(doc(k("mode"), "secondary"), readPreferenceOf(sec, "find"));
    assertEquals(2L, await(c.count("a.b", null, ReadPreference.SECONDARY_PREFERRED)));
    assertEquals(doc(k("mode"), "secondaryPreferred"), readPreferenceOf(sec, "count"));
    assertEquals(1L, await(c.count("a.b", null, ReadPreference.PRIMARY_PREFERRED)));
    assertEquals(doc(k("mode"), "primaryPreferred"), readPreferenceOf(p, "count"));
    Object nearest = from(await(c.find("a.b", null, new FindOptions().readPreference(ReadPreference.NEAREST))));
    assertTrue(nearest.equals("primary") || nearest.equals("secondary"), String.valueOf(nearest));
    // Writes and $out aggregations stay on the primary whatever the preference.
    await(c.insert("a.b", List.of(doc(k("i"), 1L))));
    assertTrue(p.received.contains("insert"), p.received.toString());
    assertFalse(sec.received.contains("insert"), sec.received.toString());
    await(c.aggregate("a.b", List.of(doc(k("$out"), "c")), 0, ReadPreference.SECONDARY).recover(e -> null));
    assertTrue(p.received.contains("aggregate"), p.received.toString());
    assertFalse(sec.received.contains("aggregate"), sec.received.toString());
  }

  @Test
  void theUrisReadPreferenceIsTheDefault() throws Exception {
    String[] addrs = new String[2];
    ScriptedServer p = member("primary", true, addrs);
    ScriptedServer sec = member("secondary", false, addrs);
    addrs[0] = p.address();
    addrs[1] = sec.address();
    MongoOptions o = MongoOptions.fromUri("mongodb://" + p.address() + "/?replicaSet=rs0&readPreference=secondary");
    assertEquals(ReadPreference.SECONDARY, o.readPreference);
    MongoClient c = connect(o.timeouts(2000, 2000));
    assertEquals("secondary", from(await(c.find("a.b", null, null))));
    assertEquals("primary", from(await(c.find("a.b", null, new FindOptions().readPreference(ReadPreference.PRIMARY)))));

  }

  @Test
  void withNoSecondaryReachableSecondaryReadsFailAndSecondaryPreferredReadsThePrimary() throws Exception {
    java.net.ServerSocket gone = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
    String[] addrs = {null, "127.0.0.1:" + gone.getLocalPort()};
    gone.close();
    ScriptedServer p = member("primary", true, addrs);
    addrs[0] = p.address();
    MongoClient c = connect(opts(p).replicaSet("rs0"));
    Throwable e = awaitError(c.count("a.b", null, ReadPreference.SECONDARY));
    assertInstanceOf(MongoConnectionException.class, e);
    assertTrue(e.getMessage().contains("read preference secondary"), e.getMessage());
    assertEquals(1L, await(c.count("a.b", null, ReadPreference.SECONDARY_PREFERRED)));
    assertEquals(1L, await(c.count("a.b", null, ReadPreference.NEAREST)));
    assertEquals(doc(k("mode"), "secondaryPreferred"), readPreferenceOf(p, "count"));
  }

  @Test
  void aStandaloneServerServesEveryPreferenceWithoutReadPreferenceInTheBody() throws Exception {
    ScriptedServer s = server((r, name) -> name.equals("isMaster") ? hello() : doc(k("n"), 3L, k("ok"), 1.0));
    MongoClient c = connect(opts(s).readPreference(ReadPreference.SECONDARY));
    assertEquals(3L, await(c.count("a.b", null)));
    assertEquals(3L, await(c.count("a.b", null, ReadPreference.NEAREST)));
    assertEquals(null, readPreferenceOf(s, "count"));
  }

  // ---------------------------------------------------------------- write concern, bulk

  @Test
  void perOperationWriteConcernOverridesTheClientsAndW0GoesWithoutAReply() throws Exception {
    ScriptedServer s = server((r, name) -> {
      if (name.equals("isMaster")) {
        return hello();
      }
      if ((r.flagBits & OpMsg.MORE_TO_COME) != 0) {
        return null; // as a server does: no reply to moreToCome
      }
      return doc(k("n"), 1L, k("ok"), 1.0);
    });
    MongoOptions o = opts(s).pool(1, 100, 2000);
    o.writeConcern = doc(k("w"), "majority");
    MongoClient c = connect(o);
    await(c.insert("x.y", List.of(doc(k("i"), 1L))));
    await(c.insert("x.y", List.of(doc(k("i"), 2L)), true, doc(k("w"), 1L, k("j"), true)));
    await(c.update("x.y", doc(), doc(k("$set"), doc(k("a"), 1L)), false, true, doc(k("w"), 2L)));
    await(c.delete("x.y", doc(), false, doc(k("w"), 3L)));
    await(c.findAndModify("x.y", doc(k("query"), doc(), k("remove"), true, k("writeConcern"), doc(k("w"), 4L))));
    assertEquals(MongoClient.UNACKNOWLEDGED, await(c.update("x.y", doc(), doc(), false, false, doc(k("w"), 0L))));
    assertEquals(1, ((List<?>) await(c.insert("x.y", List.of(doc(k("i"), 3L)), true, doc(k("w"), 0L)))).size());
    // The one connection still pairs replies with requests after the replies that never came.
    assertEquals(1L, await(c.count("x.y", null)));
    List<Object> concerns = new ArrayList<>();
    List<Boolean> moreToCome = new ArrayList<>();
    for (OpMsg.Reply r : s.requests) {
      if (!ScriptedServer.commandName(r).equals("isMaster") && !ScriptedServer.commandName(r).equals("count")) {
        concerns.add(((Map<?, ?>) r.body).get(k("writeConcern")));
        moreToCome.add((r.flagBits & OpMsg.MORE_TO_COME) != 0);
      }
    }
    assertEquals(List.of(doc(k("w"), "majority"), doc(k("w"), 1L, k("j"), true), doc(k("w"), 2L),
        doc(k("w"), 3L), doc(k("w"), 4L), doc(k("w"), 0L), doc(k("w"), 0L)), concerns);
    assertEquals(List.of(false, false, false, false, false, true, true), moreToCome);
  }

  @Test
  void bulkWriteSendsOneCommandPerRunOfOneKindAsKindOneSequences() throws Exception {
    ScriptedServer s = server((r, name) -> {
      if (name.equals("isMaster")) {
        return hello();
      }
      List<Object> seq = r.sequences.values().iterator().next();
      return doc(k("n"), (long) seq.size(), k("nModified"), (long) seq.size(), k("ok"), 1.0);
    });
    MongoClient c = connect(opts(s));
    Map<?, ?> r = (Map<?, ?>) await(c.bulkWrite("x.y", List.of(BulkOp.insert(doc(k("a"), 1L)),
        BulkOp.insert(doc(k("a"), 2L)), BulkOp.update(doc(), doc(k("$set"), doc(k("b"), 1L)), false, true),
        BulkOp.insert(doc(k("a"), 3L)), BulkOp.delete(doc(), false), BulkOp.delete(doc(k("a"), 1L), true)),
        false, doc(k("w"), 1L)));
    assertEquals(List.of("isMaster", "insert", "update", "insert", "delete"), s.received);
    List<String> seqs = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    for (OpMsg.Reply q : s.requests.subList(1, s.requests.size())) {
      seqs.addAll(q.sequences.keySet());
      sizes.add(q.sequences.values().iterator().next().size());
      assertEquals(false, ((Map<?, ?>) q.body).get(k("ordered")));
      assertEquals(doc(k("w"), 1L), ((Map<?, ?>) q.body).get(k("writeConcern")));
    }
    assertEquals(List.of("documents", "updates", "documents", "deletes"), seqs);
    assertEquals(List.of(2, 1, 1, 2), sizes);
    assertEquals(3L, r.get(k("nInserted")));
    assertEquals(2L, r.get(k("nRemoved")));
  }

}
