package peloton.mongo;

import java.util.Map;

/**
 * One failed write of a batch, as the server reported it in {@code writeErrors}: which write
 * ({@link #index()}), why ({@link #code()}, {@link #message()}). Part of a {@link
 * MongoCommandException}; immutable.
 */
public final class WriteError {
  private final int index;
  private final int code;
  private final String codeName;
  private final String message;

  WriteError(int index, int code, String codeName, String message) {
    this.index = index;
    this.code = code;
    this.codeName = codeName;
    this.message = message;
  }

  /** One entry of a reply's {@code writeErrors}, keyword-keyed (Clojure) or a Document. */
  static WriteError of(Object entry) {
    Map<?, ?> e = entry instanceof Map ? (Map<?, ?>) entry : Map.of();
    Object index = MongoCommandException.field(e, MongoCommandException.INDEX);
    Object code = MongoCommandException.field(e, MongoCommandException.CODE);
    Object name = MongoCommandException.field(e, MongoCommandException.CODE_NAME_FIELD);
    Object msg = MongoCommandException.field(e, MongoCommandException.ERRMSG);
    return new WriteError(index instanceof Number ? ((Number) index).intValue() : -1,
        code instanceof Number ? ((Number) code).intValue() : -1,
        name == null ? null : name.toString(), msg == null ? null : msg.toString());
  }

  /**
   * Which write failed: its position in the list the caller passed (the documents of an {@code
   * insertMany}, the models of a {@code bulkWrite}), counted from 0 across the batches Peloton
   * split the list into.
   *
   * @return the index, or -1 when the server gave none
   */
  public int index() {
    return index;
  }

  /**
   * The server's error code for this write.
   *
   * @return e.g. 11000 for a duplicate key, or -1 when the server gave none
   */
  public int code() {
    return code;
  }

  /**
   * The server's name for {@link #code()}; servers send it for some errors only.
   *
   * @return e.g. {@code "DuplicateKey"}, or null
   */
  public String codeName() {
    return codeName;
  }

  /**
   * The server's message for this write.
   *
   * @return the message ({@code errmsg}), or null
   */
  public String message() {
    return message;
  }

  /**
   * The write error in words, for logs.
   *
   * @return e.g. {@code "write 2 failed with 11000: E11000 duplicate key ..."}
   */
  @Override
  public String toString() {
    return "write " + index + " failed with " + code + (codeName == null ? "" : " (" + codeName + ")")
        + ": " + message;
  }
}
