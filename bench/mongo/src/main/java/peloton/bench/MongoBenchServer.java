package peloton.bench;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/** mongo-java-server (memory backend) in a JVM of its own; prints its port, runs until killed. */
public final class MongoBenchServer {
  public static void main(String[] args) throws Exception {
    MongoServer s = new MongoServer(new MemoryBackend());
    s.bind("127.0.0.1", 0);
    System.out.println("PORT " + s.getLocalAddress().getPort());
    System.out.flush();
    Thread.currentThread().join();
  }
}
