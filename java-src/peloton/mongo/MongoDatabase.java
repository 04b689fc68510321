package peloton.mongo;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.conversions.Bson;
import peloton.fut.Fut;

/**
 * One database of a {@link MongoClient}, for Java code: where its {@link MongoCollection}s come
 * from, and a way to run any command.
 *
 * <pre>{@code
 * MongoDatabase blog = client.database("blog");
 * MongoCollection posts = blog.collection("posts");
 * Fut<Document> stats = blog.runCommand(new Document("dbStats", 1));
 * }</pre>
 *
 * <p>A view like {@link MongoCollection}: it holds nothing but the client and the name.
 */
public final class MongoDatabase {
  private final MongoClient client;
  private final String name;

  MongoDatabase(MongoClient client, String name) {
    if (name == null || name.isEmpty() || name.indexOf('.') >= 0) {
      throw new IllegalArgumentException("bad database name \"" + name + "\"");
    }
    this.client = client;
    this.name = name;
  }

  /**
   * The database's name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * The collection {@code collection} of this database (it need not exist yet: the first write
   * creates it).
   *
   * @param collection the collection's name
   * @return a collection view
   */
  public MongoCollection collection(String collection) {
    return new MongoCollection(client, name, collection);
  }

  /**
   * Runs {@code command} (command name first, e.g. {@code new Document("ping", 1)}) on this
   * database, on the primary.
   *
   * @param command the command
   * @return a fut of the server's reply; an error reply fails it with a {@link
   *     MongoCommandException}
   */
  public Fut<Document> runCommand(Bson command) {
    BsonDocument c = JavaBson.toBsonDocument(command);
    if (c.isEmpty()) {
      return Fut.failed(new IllegalArgumentException("a command needs its name as the first key"));
    }
    Map<String, Object> body = new LinkedHashMap<>(c.size() + 1);
    for (Map.Entry<String, BsonValue> e : c.entrySet()) {
      body.put(e.getKey(), e.getValue());
    }
    body.putIfAbsent("$db", name);
    Fut<?> reply = client.run(body, true);
    return reply.map(r -> (Document) r);
  }
}
