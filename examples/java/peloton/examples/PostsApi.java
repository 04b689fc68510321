package peloton.examples;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.bson.types.ObjectId;
import peloton.fut.Fut;
import peloton.http.client.ClientRequest;
import peloton.http.client.ClientResponse;
import peloton.http.client.HttpClient;
import peloton.http.server.Exchange;
import peloton.http.server.HttpServer;
import peloton.http.server.Router;
import peloton.mongo.MongoClient;
import peloton.mongo.MongoCollection;

/**
 * A small HTTP JSON API over MongoDB, written only against Peloton's public Java API: list,
 * get, create and delete blog posts.
 *
 * <pre>
 * GET    /posts        200 [{"id": "...", "title": "...", ...}, ...]  (newest first, at most 100)
 * GET    /posts/ID     200 {"id": ..., ...}, or 404
 * POST   /posts        201 {"id": ..., ...} from a JSON object with a string "title", or 400
 * DELETE /posts/ID     204, or 404
 * </pre>
 *
 * <p>Run it with {@code main}: {@code PostsApi mongodb://127.0.0.1:27017 8080}.
 */
public final class PostsApi implements AutoCloseable {
  private final MongoClient mongo;
  private final MongoCollection posts;
  private final HttpServer server;

  /**
   * Connects to MongoDB at {@code mongoUri}, then serves the API on 127.0.0.1:{@code port}.
   *
   * @param mongoUri a {@code mongodb://} URI
   * @param port the HTTP port (0 picks a free one)
   * @return a fut of the running API, or failed when MongoDB or the port is not available
   */
  public static Fut<PostsApi> start(String mongoUri, int port) {
    return MongoClient.connect(mongoUri).map(mongo -> new PostsApi(mongo, port));
  }

  private PostsApi(MongoClient mongo, int port) {
    this.mongo = mongo;
    this.posts = mongo.collection("blog.posts");
    Router router = new Router()
        .get("^/posts$", this::list)
        .get("^/posts/([0-9a-f]{24})$", this::get)
        .post("^/posts$", this::create)
        .delete("^/posts/([0-9a-f]{24})$", this::delete);
    try {
      server = HttpServer.start(new HttpServer.Options().port(port), router);
    } catch (IOException e) {
      mongo.close();
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The port the API listens on.
   *
   * @return the HTTP port
   */
  public int port() {
    return server.port();
  }

  private void list(Exchange ex) {
    posts.find().sort(Sorts.descending("_id")).limit(100).toList().onComplete((docs, error) -> {
      if (error != null) {
        fail(ex, error);
        return;
      }
      List<String> items = new ArrayList<>();
      for (Document d : docs) {
        items.add(json(d));
      }
      respond(ex, 200, "[" + String.join(",", items) + "]");
    });
  }

  private void get(Exchange ex) {
    posts.findOne(Filters.eq("_id", new ObjectId(ex.pathParam(1)))).onComplete((doc, error) -> {
      if (error != null) {
        fail(ex, error);
      } else if (doc == null) {
        respond(ex, 404, "{\"error\":\"no such post\"}");
      } else {
        respond(ex, 200, json(doc));
      }
    });
  }

  private void create(Exchange ex) {
    Document post;
    try {
      post = Document.parse(ex.bodyString());
    } catch (RuntimeException notAJsonObject) { // JsonParseException, BsonInvalidOperationException
      respond(ex, 400, "{\"error\":\"the body must be a JSON object\"}");
      return;
    }
    if (!(post.get("title") instanceof String)) {
      respond(ex, 400, "{\"error\":\"a post needs a string title\"}");
      return;
    }
    post.remove("_id");
    posts.insertOne(post).onComplete((result, error) -> {
      if (error != null) {
        fail(ex, error);
      } else {
        ex.setHeader("Location", "/posts/" + post.getObjectId("_id").toHexString());
        respond(ex, 201, json(post));
      }
    });
  }

  private void delete(Exchange ex) {
    posts.deleteOne(Filters.eq("_id", new ObjectId(ex.pathParam(1)))).onComplete((result, error) -> {
      if (error != null) {
        fail(ex, error);
      } else if (result.getDeletedCount() == 0) {
        respond(ex, 404, "{\"error\":\"no such post\"}");
      } else {
        ex.status(204).send();
      }
    });
  }

  /** A post as JSON, its ObjectId {@code _id} shown as a plain {@code "id"} string. */
  private static String json(Document d) {
    Document out = new Document("id", d.getObjectId("_id").toHexString());
    for (String key : d.keySet()) {
      if (!key.equals("_id")) {
        out.append(key, d.get(key));
      }
    }
    return out.toJson();
  }

  private static void respond(Exchange ex, int status, String json) {
    ex.status(status).contentType("application/json").body(json).send();
  }

  private static void fail(Exchange ex, Throwable error) {
    respond(ex, 500, new Document("error", String.valueOf(error.getMessage())).toJson());
  }

  /** Stops serving (in-flight responses get a second) and closes the MongoDB client. */
  @Override
  public void close() {
    server.stop(1, TimeUnit.SECONDS).ensure(mongo::close).join();
  }

  /**
   * A client of this API over Peloton's own HTTP client: what another Peloton service would use.
   */
  public static final class Client implements AutoCloseable {
    private final HttpClient http = new HttpClient();
    private final String base;

    /**
     * A client of the API at {@code base}.
     *
     * @param base e.g. {@code http://127.0.0.1:8080}
     */
    public Client(String base) {
      this.base = base;
    }

    /**
     * Creates a post.
     *
     * @param title the post's title
     * @param body the post's text
     * @return a fut of the new post's id
     */
    public Fut<String> create(String title, String body) {
      ClientRequest req = ClientRequest.newBuilder(base + "/posts")
          .header("Content-Type", "application/json")
          .POST(new Document("title", title).append("body", body).toJson())
          .build();
      return http.request(req).map(resp -> {
        if (resp.status() != 201) {
          throw new IllegalStateException("create answered " + resp.status() + ": " + resp.bodyString());
        }
        return Document.parse(resp.bodyString()).getString("id");
      });
    }

    /**
     * Reads a post.
     *
     * @param id the post's id
     * @return a fut of the post, or of null when there is none
     */
    public Fut<Document> get(String id) {
      return http.get(base + "/posts/" + id).map((ClientResponse resp) ->
          resp.status() == 404 ? null : Document.parse(resp.bodyString()));
    }

    @Override
    public void close() {
      http.close();
    }
  }

  /**
   * Serves the API until the process is stopped.
   *
   * @param args the MongoDB URI (default {@code mongodb://127.0.0.1:27017}) and the port (8080)
   */
  public static void main(String[] args) {
    String uri = args.length > 0 ? args[0] : "mongodb://127.0.0.1:27017";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 8080;
    PostsApi api = start(uri, port).join();
    System.out.println("posts API at http://127.0.0.1:" + api.port() + "/posts");
  }
}
