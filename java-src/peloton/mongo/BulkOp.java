package peloton.mongo;

import java.util.Map;

/**
 * One operation of a {@link MongoClient#bulkWrite bulk write}: an insert, an update or a delete.
 * Consecutive operations of one kind travel together as one command (in batches as the server's
 * limits allow).
 */
public final class BulkOp {
  /** The kinds of operation, with the command and the sequence each travels in. */
  public enum Kind {
    /** An insert of one document. */
    INSERT("insert", "documents"),
    /** An update (operators or a replacement) of the first or every matching document. */
    UPDATE("update", "updates"),
    /** A delete of the first or every matching document. */
    DELETE("delete", "deletes");

    final String command;
    final String identifier;

    Kind(String command, String identifier) {
      this.command = command;
      this.identifier = identifier;
    }
  }

  final Kind kind;
  /** The document to insert, or the update/delete statement ({@code {:q .. :u ..}}, {@code {:q .. :limit ..}}). */
  final Object statement;

  private BulkOp(Kind kind, Object statement) {
    this.kind = kind;
    this.statement = statement;
  }

  /**
   * An insert of {@code doc} (given an ObjectId {@code _id} when it has none).
   *
   * @param doc the document, a map
   * @return the operation
   */
  public static BulkOp insert(Object doc) {
    if (!(doc instanceof Map)) {
      throw new IllegalArgumentException("a document must be a map");
    }
    return new BulkOp(Kind.INSERT, doc);
  }

  /**
   * An update of the first (every, when {@code multi}) document matching {@code filter}.
   *
   * @param filter the query
   * @param update update operators, or a replacement document
   * @param upsert insert one when nothing matches
   * @param multi update every match, not just the first
   * @return the operation
   */
  public static BulkOp update(Object filter, Object update, boolean upsert, boolean multi) {
    return new BulkOp(Kind.UPDATE, MongoClient.cmd(MongoClient.k("q"), filter, MongoClient.k("u"), update,
        MongoClient.k("upsert"), upsert, MongoClient.k("multi"), multi));
  }

  /**
   * A delete of the first (when {@code single}) or every document matching {@code filter}.
   *
   * @param filter the query
   * @param single delete only the first match
   * @return the operation
   */
  public static BulkOp delete(Object filter, boolean single) {
    return new BulkOp(Kind.DELETE, MongoClient.cmd(MongoClient.k("q"), filter, MongoClient.k("limit"), single ? 1 : 0));
  }

  /**
   * This operation's kind.
   *
   * @return insert, update or delete
   */
  public Kind kind() {
    return kind;
  }

  @Override
  public String toString() {
    return "BulkOp[" + kind.command + " " + statement + "]";
  }
}
