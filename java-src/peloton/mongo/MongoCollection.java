package peloton.mongo;

import clojure.lang.Keyword;
import com.mongodb.bulk.BulkWriteInsert;
import com.mongodb.bulk.BulkWriteResult;
import com.mongodb.bulk.BulkWriteUpsert;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.Collation;
import com.mongodb.client.model.CountOptions;
import com.mongodb.client.model.DeleteManyModel;
import com.mongodb.client.model.DeleteOneModel;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.InsertOneModel;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.UpdateManyModel;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.WriteModel;
import com.mongodb.client.result.DeleteResult;
import com.mongodb.client.result.InsertManyResult;
import com.mongodb.client.result.InsertOneResult;
import com.mongodb.client.result.UpdateResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.conversions.Bson;
import org.bson.types.ObjectId;
import peloton.fut.Fut;
import peloton.fut.Stream;

/**
 * One MongoDB collection, for Java code: documents in and out are {@link Document}s with their
 * BSON types kept (Int32 as {@link Integer}, Int64 as {@link Long}, Decimal128, Binary ...; key
 * order kept), filters, updates, sorts, projections, pipelines and index keys are the {@link Bson}
 * that the driver's builders make ({@code com.mongodb.client.model.Filters}, {@code Updates},
 * {@code Sorts}, {@code Projections}, {@code Aggregates}, {@code Indexes}), options and results are
 * the driver's own classes ({@link UpdateOptions}, {@link UpdateResult} ...). Every operation
 * answers a {@link Fut} and nothing blocks.
 *
 * <pre>{@code
 * MongoClient client = MongoClient.connect("mongodb://127.0.0.1:27017").join();
 * MongoCollection posts = client.collection("blog.posts");
 * posts.insertOne(new Document("title", "Hello").append("views", 0))
 *     .then(r -> posts.updateOne(Filters.eq("_id", r.getInsertedId()), Updates.inc("views", 1)))
 *     .then(u -> posts.find(Filters.gt("views", 0)).sort(Sorts.descending("views")).limit(10).toList())
 *     .onComplete((docs, error) -> log.info("top posts {}", docs));
 * }</pre>
 *
 * <p>This is a view: it holds no connection, and makes none of its own. Every operation goes
 * through the client's pools, server selection, batching and cursors, the same ones that {@code
 * peloton.mongo} uses from Clojure; replies to these operations are read by the driver's own
 * {@code DocumentCodec}, so a document comes back exactly as the official driver would give it.
 * A server error fails the fut with a {@link MongoCommandException} (a duplicate key is {@code
 * code() == 11000}), a network failure with a {@link MongoConnectionException}, a value that
 * cannot be encoded with an {@link IllegalArgumentException}. Thread-safe.
 */
public final class MongoCollection {
  private static final Keyword ID = MongoClient.k("_id");
  private static final Keyword DB = MongoClient.k("$db");
  private static final Keyword Q = MongoClient.k("q");
  private static final Keyword U = MongoClient.k("u");
  private static final Keyword UPSERT = MongoClient.k("upsert");
  private static final Keyword MULTI = MongoClient.k("multi");
  private static final Keyword LIMIT = MongoClient.k("limit");
  private static final Keyword ARRAY_FILTERS = MongoClient.k("arrayFilters");
  private static final Keyword COLLATION = MongoClient.k("collation");
  private static final Keyword HINT = MongoClient.k("hint");
  private static final Keyword SORT = MongoClient.k("sort");
  private static final Keyword N = MongoClient.k("n");
  private static final Keyword N_MODIFIED = MongoClient.k("nModified");
  private static final Keyword UPSERTED = MongoClient.k("upserted");
  private static final Keyword INDEX = MongoClient.k("index");

  private final MongoClient client;
  private final String database;
  private final String name;
  private final String namespace;
  private final String[] ns;

  MongoCollection(MongoClient client, String database, String name) {
    if (database == null || database.isEmpty() || database.indexOf('.') >= 0) {
      throw new IllegalArgumentException("bad database name \"" + database + "\"");
    }
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("bad collection name \"" + name + "\"");
    }
    this.client = client;
    this.database = database;
    this.name = name;
    this.namespace = database + "." + name;
    this.ns = new String[] {database, name};
  }

  /**
   * The database's name.
   *
   * @return the name of the database this collection is in
   */
  public String databaseName() {
    return database;
  }

  /**
   * The collection's name, without the database.
   *
   * @return the collection name
   */
  public String name() {
    return name;
  }

  /**
   * The namespace, {@code "db.collection"}.
   *
   * @return the full name
   */
  public String namespace() {
    return namespace;
  }

  // ---------------------------------------------------------------- reads

  /**
   * A find of every document; see {@link #find(Bson)}.
   *
   * @return a find to refine and run
   */
  public Find find() {
    return new Find(null);
  }

  /**
   * A find of the documents matching {@code filter}, to refine ({@link Find#sort}, {@link
   * Find#limit} ...) and run ({@link Find#toList()}, {@link Find#first()}, {@link Find#cursor()}).
   * Nothing is sent until it runs.
   *
   * <pre>{@code
   * Fut<List<Document>> adults = people.find(Filters.gte("age", 18))
   *     .sort(Sorts.ascending("name")).projection(Projections.include("name")).limit(50).toList();
   * }</pre>
   *
   * @param filter the query, e.g. {@code Filters.eq("name", "ann")}; null matches every document
   * @return a find to refine and run
   */
  public Find find(Bson filter) {
    return new Find(filter);
  }

  /**
   * The first document matching {@code filter}, or null: {@code find(filter).first()}.
   *
   * @param filter the query; null matches every document
   * @return a fut of the document, or of null when none matches
   */
  public Fut<Document> findOne(Bson filter) {
    return find(filter).first();
  }

  /**
   * An aggregation, to refine and run like a find.
   *
   * <pre>{@code
   * Fut<List<Document>> totals = orders.aggregate(List.of(
   *     Aggregates.match(Filters.eq("status", "paid")),
   *     Aggregates.group("$customer", Accumulators.sum("total", "$amount")))).toList();
   * }</pre>
   *
   * @param pipeline the stages, e.g. from {@code com.mongodb.client.model.Aggregates}
   * @return an aggregation to refine and run
   */
  public Aggregation aggregate(List<? extends Bson> pipeline) {
    return new Aggregation(pipeline);
  }

  /**
   * The number of documents matching {@code filter}, counted by the server with an aggregation
   * ({@code $match} then {@code $group}), as the official driver's {@code countDocuments} does.
   *
   * @param filter the query; null counts every document
   * @return a fut of the count
   */
  public Fut<Long> countDocuments(Bson filter) {
    return countDocuments(filter, new CountOptions());
  }

  /**
   * {@link #countDocuments(Bson)} with {@code skip}, {@code limit}, {@code hint}, {@code
   * collation}, {@code comment} and {@code maxTime} from {@code options}.
   *
   * @param filter the query; null counts every document
   * @param options the driver's count options
   * @return a fut of the count
   */
  public Fut<Long> countDocuments(Bson filter, CountOptions options) {
    List<Object> pipeline = new ArrayList<>(4);
    pipeline.add(new Document("$match", filter == null ? new BsonDocument() : filter));
    if (options.getSkip() > 0) {
      pipeline.add(new Document("$skip", options.getSkip()));
    }
    if (options.getLimit() > 0) {
      pipeline.add(new Document("$limit", options.getLimit()));
    }
    pipeline.add(new Document("$group", new Document("_id", 1).append("n", new Document("$sum", 1))));
    Object body = MongoClient.cmd(MongoClient.k("aggregate"), name, MongoClient.k("pipeline"), pipeline,
        MongoClient.k("cursor"), new Document(), HINT, options.getHint() != null ? options.getHint()
            : options.getHintString(), COLLATION, collation(options.getCollation()),
        MongoClient.k("comment"), options.getComment(), MongoClient.k("maxTimeMS"),
        maxTime(options.getMaxTime(TimeUnit.MILLISECONDS)), DB, database);
    return documents(client.drainCursor(database, body, 0, 0, null, true))
        .map(docs -> docs.isEmpty() ? 0L : ((Number) docs.get(0).get("n")).longValue());
  }

  /**
   * The distinct values of {@code field} among the documents matching {@code filter}, each of
   * class {@code type} ({@code Integer.class} for Int32 values, {@code Document.class} for
   * embedded documents, {@code Object.class} for a mix).
   *
   * @param field the field name (dotted for a nested field)
   * @param filter the query; null for every document
   * @param type the class of the values
   * @param <T> the type of the values
   * @return a fut of the values; it fails with a {@link ClassCastException} naming a value that is
   *     not a {@code type}
   */
  public <T> Fut<List<T>> distinct(String field, Bson filter, Class<T> type) {
    Object body = MongoClient.cmd(MongoClient.k("distinct"), name, MongoClient.k("key"), field,
        MongoClient.k("query"), filter == null ? new BsonDocument() : filter, DB, database);
    Fut<?> reply = client.read(body, null, true);
    return reply.map(r -> {
      Object values = ((Document) r).get("values");
      List<T> out = new ArrayList<>();
      if (values instanceof List) {
        for (Object v : (List<?>) values) {
          if (v != null && !type.isInstance(v)) {
            throw new ClassCastException("distinct value " + v + " of " + field + " is a "
                + v.getClass().getName() + ", not a " + type.getName());
          }
          out.add(type.cast(v));
        }
      }
      return out;
    });
  }

  // ---------------------------------------------------------------- writes

  /**
   * Inserts {@code document}; when it has no {@code _id}, a new {@link ObjectId} is put into it
   * (as the official driver does) and sent as its first field.
   *
   * @param document the document
   * @return a fut of the result, with the {@code _id}
   */
  public Fut<InsertOneResult> insertOne(Document document) {
    Document d = withId(document);
    return client.insert(namespace, List.of(d), true)
        .map(x -> InsertOneResult.acknowledged(bsonValue(d.get("_id"))));
  }

  /**
   * Inserts {@code documents} in order (stopping at the first error), in as few batches as the
   * server's limits allow; each without an {@code _id} gets a new {@link ObjectId} put into it.
   *
   * @param documents the documents
   * @return a fut of the result, with each {@code _id} by index
   */
  public Fut<InsertManyResult> insertMany(List<Document> documents) {
    return insertMany(documents, new InsertManyOptions());
  }

  /**
   * {@link #insertMany(List)} with {@code ordered} from {@code options} (false: every document is
   * tried; the fut fails with the first error after all were sent).
   *
   * @param documents the documents
   * @param options the driver's options; {@code bypassDocumentValidation} and {@code comment} are
   *     refused (not supported by Peloton's insert)
   * @return a fut of the result
   */
  public Fut<InsertManyResult> insertMany(List<Document> documents, InsertManyOptions options) {
    unsupported("InsertManyOptions.bypassDocumentValidation", options.getBypassDocumentValidation());
    unsupported("InsertManyOptions.comment", options.getComment());
    List<Document> docs = new ArrayList<>(documents.size());
    for (Document d : documents) {
      docs.add(withId(d));
    }
    return client.insert(namespace, docs, options.isOrdered()).map(x -> {
      Map<Integer, BsonValue> ids = new LinkedHashMap<>();
      for (int i = 0; i < docs.size(); i++) {
        ids.put(i, bsonValue(docs.get(i).get("_id")));
      }
      return InsertManyResult.acknowledged(ids);
    });
  }

  /**
   * Applies {@code update} (operators, e.g. {@code Updates.set("name", "ann")}) to the first
   * document matching {@code filter}.
   *
   * @param filter the query
   * @param update the update operators
   * @return a fut of the result (matched, modified, upserted id)
   */
  public Fut<UpdateResult> updateOne(Bson filter, Bson update) {
    return updateOne(filter, update, new UpdateOptions());
  }

  /**
   * {@link #updateOne(Bson, Bson)} with {@code options}: {@code upsert} (insert one when nothing
   * matches), {@code arrayFilters}, {@code collation}, {@code hint}, {@code sort}.
   *
   * @param filter the query
   * @param update the update operators
   * @param options the driver's update options
   * @return a fut of the result
   */
  public Fut<UpdateResult> updateOne(Bson filter, Bson update, UpdateOptions options) {
    return update(filter, operators(update), options, false);
  }

  /**
   * Applies {@code update} to every document matching {@code filter}.
   *
   * @param filter the query
   * @param update the update operators
   * @return a fut of the result
   */
  public Fut<UpdateResult> updateMany(Bson filter, Bson update) {
    return updateMany(filter, update, new UpdateOptions());
  }

  /**
   * {@link #updateMany(Bson, Bson)} with {@code options} (as {@link #updateOne(Bson, Bson,
   * UpdateOptions)}; {@code sort} is refused for a multi-document update).
   *
   * @param filter the query
   * @param update the update operators
   * @param options the driver's update options
   * @return a fut of the result
   */
  public Fut<UpdateResult> updateMany(Bson filter, Bson update, UpdateOptions options) {
    unsupported("UpdateOptions.sort (with updateMany)", options.getSort());
    return update(filter, operators(update), options, true);
  }

  /**
   * Replaces the first document matching {@code filter} with {@code replacement} (which keeps the
   * matched document's {@code _id}).
   *
   * @param filter the query
   * @param replacement the new document (no update operators)
   * @return a fut of the result
   */
  public Fut<UpdateResult> replaceOne(Bson filter, Document replacement) {
    return replaceOne(filter, replacement, new ReplaceOptions());
  }

  /**
   * {@link #replaceOne(Bson, Document)} with {@code options}: {@code upsert}, {@code collation},
   * {@code hint}, {@code sort}.
   *
   * @param filter the query
   * @param replacement the new document
   * @param options the driver's replace options
   * @return a fut of the result
   */
  public Fut<UpdateResult> replaceOne(Bson filter, Document replacement, ReplaceOptions options) {
    for (String key : replacement.keySet()) {
      if (key.startsWith("$")) {
        throw new IllegalArgumentException("a replacement document has no update operators, found "
            + key + ": use updateOne");
      }
    }
    unsupported("ReplaceOptions.bypassDocumentValidation", options.getBypassDocumentValidation());
    unsupported("ReplaceOptions.comment", options.getComment());
    unsupported("ReplaceOptions.let", options.getLet());
    Object st = MongoClient.cmd(Q, filter(filter), U, replacement, UPSERT, options.isUpsert(), MULTI, false,
        COLLATION, collation(options.getCollation()), HINT, hint(options.getHint(), options.getHintString()),
        SORT, options.getSort());
    return updateResult(st, false);
  }

  private Fut<UpdateResult> update(Bson filter, Bson update, UpdateOptions options, boolean multi) {
    unsupported("UpdateOptions.bypassDocumentValidation", options.getBypassDocumentValidation());
    unsupported("UpdateOptions.comment", options.getComment());
    unsupported("UpdateOptions.let", options.getLet());
    Object st = MongoClient.cmd(Q, filter(filter), U, update, UPSERT, options.isUpsert(), MULTI, multi,
        ARRAY_FILTERS, options.getArrayFilters(), COLLATION, collation(options.getCollation()),
        HINT, hint(options.getHint(), options.getHintString()), SORT, options.getSort());
    return updateResult(st, multi);
  }

  /**
   * Sends one update statement in the command's body (one statement always fits in one message),
   * so that the reply is read the Java way and an upserted {@code _id} keeps its BSON type; a
   * single-document update is a retryable write.
   */
  private Fut<UpdateResult> updateResult(Object statement, boolean multi) {
    Object wc = client.options().writeConcern;
    boolean acknowledged = !MongoClient.unacknowledged(wc);
    Object body = MongoClient.cmd(MongoClient.k("update"), name, MongoClient.k("updates"), List.of(statement),
        MongoClient.k("ordered"), Boolean.TRUE, MongoClient.k("writeConcern"), wc, DB, database);
    Fut<?> reply = client.runWrite(body, true, !multi);
    return reply.map(r -> {
      if (!acknowledged) {
        return UpdateResult.unacknowledged();
      }
      Document m = (Document) r;
      long n = count(m.get("n"));
      Object ups = m.get("upserted");
      BsonValue upsertedId = null;
      if (ups instanceof List && !((List<?>) ups).isEmpty()) {
        upsertedId = bsonValue(((Document) ((List<?>) ups).get(0)).get("_id"));
      }
      return UpdateResult.acknowledged(upsertedId == null ? n : n - 1, count(m.get("nModified")), upsertedId);
    });
  }

  /**
   * Deletes the first document matching {@code filter}.
   *
   * @param filter the query
   * @return a fut of the result (0 or 1 deleted)
   */
  public Fut<DeleteResult> deleteOne(Bson filter) {
    return client.delete(namespace, filter(filter), true).map(r -> DeleteResult.acknowledged(count(((Map<?, ?>) r).get(N))));
  }

  /**
   * Deletes every document matching {@code filter}.
   *
   * @param filter the query ({@code new Document()} for every document)
   * @return a fut of the result
   */
  public Fut<DeleteResult> deleteMany(Bson filter) {
    return client.delete(namespace, filter(filter), false).map(r -> DeleteResult.acknowledged(count(((Map<?, ?>) r).get(N))));
  }

  /**
   * Updates the first document matching {@code filter} and answers it as it was before the update.
   *
   * @param filter the query
   * @param update the update operators
   * @return a fut of the document before the update, or of null when none matched
   */
  public Fut<Document> findOneAndUpdate(Bson filter, Bson update) {
    return findOneAndUpdate(filter, update, new FindOneAndUpdateOptions());
  }

  /**
   * {@link #findOneAndUpdate(Bson, Bson)} with {@code options}: {@code returnDocument} ({@link
   * ReturnDocument#AFTER} answers the updated document), {@code upsert}, {@code sort}, {@code
   * projection}, {@code arrayFilters}, {@code collation}, {@code hint}, {@code maxTime}.
   *
   * @param filter the query
   * @param update the update operators
   * @param options the driver's options
   * @return a fut of the document before (or after) the update, or of null
   */
  public Fut<Document> findOneAndUpdate(Bson filter, Bson update, FindOneAndUpdateOptions options) {
    unsupported("FindOneAndUpdateOptions.bypassDocumentValidation", options.getBypassDocumentValidation());
    unsupported("FindOneAndUpdateOptions.comment", options.getComment());
    unsupported("FindOneAndUpdateOptions.let", options.getLet());
    Object body = MongoClient.cmd(MongoClient.k("findAndModify"), name, MongoClient.k("query"), filter(filter),
        SORT, options.getSort(), MongoClient.k("update"), operators(update),
        MongoClient.k("new"), options.getReturnDocument() == ReturnDocument.AFTER,
        MongoClient.k("fields"), options.getProjection(), UPSERT, options.isUpsert(),
        ARRAY_FILTERS, options.getArrayFilters(), COLLATION, collation(options.getCollation()),
        HINT, hint(options.getHint(), options.getHintString()),
        MongoClient.k("maxTimeMS"), maxTime(options.getMaxTime(TimeUnit.MILLISECONDS)),
        MongoClient.k("writeConcern"), client.options().writeConcern, DB, database);
    Fut<?> reply = client.runWrite(body, true, true);
    return reply.map(r -> {
      Object v = ((Document) r).get("value");
      return v instanceof Document ? (Document) v : null;
    });
  }

  /**
   * Runs several writes as few commands as the server allows: consecutive writes of one kind
   * travel together. Takes the driver's models: {@link InsertOneModel}, {@link UpdateOneModel},
   * {@link UpdateManyModel}, {@link ReplaceOneModel}, {@link DeleteOneModel}, {@link
   * DeleteManyModel} (their {@code upsert} option; other options are refused). In order, stopping
   * at the first error.
   *
   * <pre>{@code
   * coll.bulkWrite(List.of(
   *     new InsertOneModel<>(new Document("_id", 1)),
   *     new UpdateOneModel<>(Filters.eq("_id", 1), Updates.set("x", 2)),
   *     new DeleteManyModel<>(Filters.lt("x", 0))));
   * }</pre>
   *
   * @param models the writes
   * @return a fut of the driver's {@link BulkWriteResult}; write errors fail it with a {@link
   *     MongoCommandException} whose write errors carry the index in {@code models}
   */
  public Fut<BulkWriteResult> bulkWrite(List<? extends WriteModel<? extends Document>> models) {
    return bulkWrite(models, new BulkWriteOptions());
  }

  /**
   * {@link #bulkWrite(List)} with {@code ordered} from {@code options} (false: every write is
   * tried and the errors gathered).
   *
   * @param models the writes
   * @param options the driver's options
   * @return a fut of the result
   */
  public Fut<BulkWriteResult> bulkWrite(List<? extends WriteModel<? extends Document>> models,
      BulkWriteOptions options) {
    unsupported("BulkWriteOptions.bypassDocumentValidation", options.getBypassDocumentValidation());
    unsupported("BulkWriteOptions.comment", options.getComment());
    unsupported("BulkWriteOptions.let", options.getLet());
    List<BulkOp> ops = new ArrayList<>(models.size());
    List<BulkWriteInsert> inserts = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      WriteModel<? extends Document> m = models.get(i);
      if (m instanceof InsertOneModel) {
        Document d = withId(((InsertOneModel<? extends Document>) m).getDocument());
        inserts.add(new BulkWriteInsert(i, bsonValue(d.get("_id"))));
        ops.add(BulkOp.insert(d));
      } else if (m instanceof UpdateOneModel) {
        UpdateOneModel<?> u = (UpdateOneModel<?>) m;
        checkUpdateOptions(u.getOptions());
        ops.add(BulkOp.update(filter(u.getFilter()), u.getUpdate() != null ? operators(u.getUpdate())
            : u.getUpdatePipeline(), u.getOptions().isUpsert(), false));
      } else if (m instanceof UpdateManyModel) {
        UpdateManyModel<?> u = (UpdateManyModel<?>) m;
        checkUpdateOptions(u.getOptions());
        ops.add(BulkOp.update(filter(u.getFilter()), u.getUpdate() != null ? operators(u.getUpdate())
            : u.getUpdatePipeline(), u.getOptions().isUpsert(), true));
      } else if (m instanceof ReplaceOneModel) {
        ReplaceOneModel<?> r = (ReplaceOneModel<?>) m;
        ReplaceOptions o = r.getReplaceOptions();
        if (o.getCollation() != null || o.getHint() != null || o.getHintString() != null || o.getSort() != null) {
          throw new IllegalArgumentException("a ReplaceOneModel in bulkWrite takes only the upsert option");
        }
        ops.add(BulkOp.update(filter(r.getFilter()), r.getReplacement(), o.isUpsert(), false));
      } else if (m instanceof DeleteOneModel) {
        ops.add(BulkOp.delete(filter(((DeleteOneModel<?>) m).getFilter()), true));
      } else if (m instanceof DeleteManyModel) {
        ops.add(BulkOp.delete(filter(((DeleteManyModel<?>) m).getFilter()), false));
      } else {
        throw new IllegalArgumentException("bulkWrite does not take " + (m == null ? "null" : m.getClass().getName())
            + " (it takes InsertOneModel, UpdateOneModel, UpdateManyModel, ReplaceOneModel, DeleteOneModel, DeleteManyModel)");
      }
    }
    return client.bulkWrite(namespace, ops, options.isOrdered()).map(r -> {
      Map<?, ?> m = (Map<?, ?>) r;
      List<BulkWriteUpsert> upserts = new ArrayList<>();
      Object ups = m.get(UPSERTED);
      if (ups instanceof List) {
        for (Object u : (List<?>) ups) {
          Map<?, ?> um = (Map<?, ?>) u;
          upserts.add(new BulkWriteUpsert((int) count(um.get(INDEX)), bsonValue(um.get(ID))));
        }
      }
      return BulkWriteResult.acknowledged((int) count(m.get(MongoClient.k("nInserted"))),
          (int) count(m.get(MongoClient.k("nMatched"))), (int) count(m.get(MongoClient.k("nRemoved"))),
          (int) count(m.get(N_MODIFIED)), upserts, inserts);
    });
  }

  private static void checkUpdateOptions(UpdateOptions o) {
    if (o.getArrayFilters() != null || o.getCollation() != null || o.getHint() != null
        || o.getHintString() != null || o.getSort() != null || o.getBypassDocumentValidation() != null
        || o.getComment() != null || o.getLet() != null) {
      throw new IllegalArgumentException("an update model in bulkWrite takes only the upsert option"
          + " (use updateOne/updateMany for arrayFilters, collation, hint, sort)");
    }
  }

  // ---------------------------------------------------------------- indexes and the collection

  /**
   * Creates an index on {@code keys} (e.g. {@code Indexes.ascending("email")}).
   *
   * @param keys the index keys
   * @return a fut of the index's name ({@code email_1}, say)
   */
  public Fut<String> createIndex(Bson keys) {
    return createIndex(keys, new IndexOptions());
  }

  /**
   * {@link #createIndex(Bson)} with {@code options}: {@code name}, {@code unique}, {@code
   * sparse}, {@code expireAfter}, {@code partialFilterExpression}, {@code collation}, {@code
   * hidden}, {@code background}, {@code version}, {@code weights}, {@code defaultLanguage}, {@code
   * languageOverride}, {@code textVersion}, {@code sphereVersion}, {@code bits}, {@code min},
   * {@code max}, {@code storageEngine}, {@code wildcardProjection}, as the server defines them.
   *
   * @param keys the index keys
   * @param options the driver's index options
   * @return a fut of the index's name
   */
  public Fut<String> createIndex(Bson keys, IndexOptions options) {
    BsonDocument k = JavaBson.toBsonDocument(keys);
    String indexName = options.getName();
    if (indexName == null) {
      StringBuilder sb = new StringBuilder();
      for (Map.Entry<String, BsonValue> e : k.entrySet()) {
        BsonValue v = e.getValue();
        sb.append(sb.length() == 0 ? "" : "_").append(e.getKey()).append('_')
            .append(v.isString() ? v.asString().getValue() : v.isNumber() ? String.valueOf(v.asNumber().intValue()) : v);
      }
      indexName = sb.toString();
    }
    Object index = MongoClient.cmd(MongoClient.k("key"), k, MongoClient.k("name"), indexName,
        MongoClient.k("unique"), options.isUnique() ? Boolean.TRUE : null,
        MongoClient.k("sparse"), options.isSparse() ? Boolean.TRUE : null,
        MongoClient.k("background"), options.isBackground() ? Boolean.TRUE : null,
        MongoClient.k("hidden"), options.isHidden() ? Boolean.TRUE : null,
        MongoClient.k("expireAfterSeconds"), options.getExpireAfter(TimeUnit.SECONDS),
        MongoClient.k("partialFilterExpression"), options.getPartialFilterExpression(),
        COLLATION, collation(options.getCollation()), MongoClient.k("v"), options.getVersion(),
        MongoClient.k("weights"), options.getWeights(), MongoClient.k("default_language"), options.getDefaultLanguage(),
        MongoClient.k("language_override"), options.getLanguageOverride(),
        MongoClient.k("textIndexVersion"), options.getTextVersion(),
        MongoClient.k("2dsphereIndexVersion"), options.getSphereVersion(), MongoClient.k("bits"), options.getBits(),
        MongoClient.k("min"), options.getMin(), MongoClient.k("max"), options.getMax(),
        MongoClient.k("storageEngine"), options.getStorageEngine(),
        MongoClient.k("wildcardProjection"), options.getWildcardProjection());
    String nm = indexName;
    Fut<?> reply = client.run(MongoClient.cmd(MongoClient.k("createIndexes"), name, MongoClient.k("indexes"),
        List.of(index), DB, database), true);
    return reply.map(r -> nm);
  }

  /**
   * Drops the collection (nothing happens when there is none).
   *
   * @return a fut completed once it is dropped
   */
  public Fut<Void> drop() {
    return client.drop(namespace).map(dropped -> null);
  }

  // ---------------------------------------------------------------- reads, refined

  /**
   * A find, refined by chained setters, then run by {@link #toList()}, {@link #first()} or
   * {@link #cursor()}; each run sends a new query. Not thread-safe while being refined.
   */
  public final class Find {
    private final Bson filter;
    private final FindOptions options = new FindOptions();

    private Find(Bson filter) {
      this.filter = filter;
    }

    /**
     * Sets the sort order.
     *
     * @param sort e.g. {@code Sorts.descending("date")}
     * @return this find
     */
    public Find sort(Bson sort) {
      options.sort(sort);
      return this;
    }

    /**
     * Sets which fields to answer.
     *
     * @param projection e.g. {@code Projections.include("name")}
     * @return this find
     */
    public Find projection(Bson projection) {
      options.projection(projection);
      return this;
    }

    /**
     * Sets the most documents to answer (0: all).
     *
     * @param n the limit
     * @return this find
     */
    public Find limit(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("limit must be >= 0: " + n);
      }
      options.limit(n);
      return this;
    }

    /**
     * Sets how many matching documents to skip.
     *
     * @param n the number to skip
     * @return this find
     */
    public Find skip(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("skip must be >= 0: " + n);
      }
      options.skip(n);
      return this;
    }

    /**
     * Sets how many documents the server sends per batch (0: its default); also the buffer of a
     * {@link #cursor()}.
     *
     * @param n the batch size
     * @return this find
     */
    public Find batchSize(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("batchSize must be >= 0: " + n);
      }
      options.batchSize(n);
      return this;
    }

    /**
     * Sets where to read (null: the client's default).
     *
     * @param rp the read preference
     * @return this find
     */
    public Find readPreference(ReadPreference rp) {
      options.readPreference(rp);
      return this;
    }

    /**
     * Runs the find and gathers every matching document (all batches).
     *
     * @return a fut of the documents, in the server's order
     */
    public Fut<List<Document>> toList() {
      return documents(client.drainCursor(database, client.findBody(ns, filter(filter), options, false),
          options.limit, options.batchSize, options.readPreference, true));
    }

    /**
     * Runs the find for its first document only (one batch of one).
     *
     * @return a fut of the first matching document, or of null
     */
    public Fut<Document> first() {
      FindOptions o = new FindOptions().projection(options.projection).sort(options.sort).skip(options.skip)
          .limit(1).batchSize(1).readPreference(options.readPreference);
      Fut<?> reply = client.read(client.findBody(ns, filter(filter), o, true), options.readPreference, true);
      return reply.map(r -> {
        List<?> batch = MongoClient.batch((Map<?, ?>) r);
        return batch.isEmpty() ? null : (Document) batch.get(0);
      });
    }

    /**
     * Runs the find as a server cursor read with backpressure: the fut answers once the first batch
     * is in, and the next batch is asked for only once the consumer has taken enough for the
     * stream's buffer (a batch) to have room. {@link Stream#cancel()} on the stream (a consumer
     * that stops early) kills the server's cursor.
     *
     * <pre>{@code
     * coll.find(Filters.exists("email")).batchSize(100).cursor()
     *     .then(docs -> docs.forEach(d -> send(d.getString("email"))));
     * }</pre>
     *
     * @return a fut of the stream of documents
     */
    public Fut<Stream<Document>> cursor() {
      return stream(client.cursorStream(database, client.findBody(ns, filter(filter), options, false),
          options.limit, options.batchSize, options.readPreference, true));
    }
  }

  /** An aggregation, refined by chained setters, then run like a {@link Find}. */
  public final class Aggregation {
    private final List<BsonDocument> pipeline;
    private int batchSize;
    private ReadPreference readPreference;

    private Aggregation(List<? extends Bson> stages) {
      pipeline = new ArrayList<>(stages.size());
      for (Bson b : stages) {
        pipeline.add(JavaBson.toBsonDocument(b));
      }
    }

    /**
     * Sets how many documents the server sends per batch (0: its default).
     *
     * @param n the batch size
     * @return this aggregation
     */
    public Aggregation batchSize(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("batchSize must be >= 0: " + n);
      }
      batchSize = n;
      return this;
    }

    /**
     * Sets where to read (null: the client's default); a pipeline ending in {@code $out} or
     * {@code $merge} always goes to the primary.
     *
     * @param rp the read preference
     * @return this aggregation
     */
    public Aggregation readPreference(ReadPreference rp) {
      readPreference = rp;
      return this;
    }

    /**
     * Runs the aggregation and gathers every document it yields.
     *
     * @return a fut of the documents
     */
    public Fut<List<Document>> toList() {
      return documents(client.drainCursor(database, MongoClient.aggregateBody(ns, pipeline, batchSize), 0, batchSize,
          client.aggregatePreference(pipeline, readPreference), true));
    }

    /**
     * Runs the aggregation as a cursor read with backpressure (as {@link Find#cursor()}).
     *
     * @return a fut of the stream of documents
     */
    public Fut<Stream<Document>> cursor() {
      return stream(client.cursorStream(database, MongoClient.aggregateBody(ns, pipeline, batchSize), 0, batchSize,
          client.aggregatePreference(pipeline, readPreference), true));
    }
  }

  // ---------------------------------------------------------------- helpers

  @SuppressWarnings("unchecked")
  private static Fut<List<Document>> documents(Fut<?> vector) {
    // The shared cursor code gathers into an immutable vector; a Java caller gets a plain list.
    return vector.map(v -> new ArrayList<>((List<Document>) v));
  }

  @SuppressWarnings("unchecked")
  private static Fut<Stream<Document>> stream(Fut<?> f) {
    return (Fut<Stream<Document>>) f;
  }

  private static Object filter(Bson filter) {
    return filter == null ? new BsonDocument() : filter;
  }

  /** {@code update} when its first key is an operator; an update without operators would replace. */
  private static Bson operators(Bson update) {
    BsonDocument d = JavaBson.toBsonDocument(update);
    if (d.isEmpty() || !d.getFirstKey().startsWith("$")) {
      throw new IllegalArgumentException("an update needs operators such as $set (got " + d.toJson()
          + "): use replaceOne to replace a document");
    }
    return d;
  }

  private static Object collation(Collation c) {
    return c == null ? null : c.asDocument();
  }

  private static Object hint(Bson hint, String hintString) {
    return hint != null ? hint : hintString;
  }

  private static Long maxTime(long ms) {
    return ms > 0 ? ms : null;
  }

  private static void unsupported(String option, Object value) {
    if (value != null) {
      throw new IllegalArgumentException(option + " is not supported by Peloton");
    }
  }

  private static long count(Object n) {
    return n instanceof Number ? ((Number) n).longValue() : 0;
  }

  /** {@code d}, given an ObjectId {@code _id} first when it has none (put into {@code d} too, as the driver does). */
  private static Document withId(Document d) {
    if (d.containsKey("_id")) {
      return d;
    }
    ObjectId id = new ObjectId();
    Document sent = new Document("_id", id);
    sent.putAll(d);
    d.put("_id", id);
    return sent;
  }

  /** Any value the codec writes, as the driver's {@link BsonValue}. */
  static BsonValue bsonValue(Object v) {
    if (v instanceof BsonValue) {
      return (BsonValue) v;
    }
    return new RawBsonDocument(BsonCodec.encode(MongoClient.cmd(ID, v))).get("_id");
  }
}
