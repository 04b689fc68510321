package peloton.mongo;

import clojure.lang.Keyword;
import clojure.lang.Named;
import clojure.lang.PersistentVector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import peloton.fut.PelotonException;

/**
 * The server answered a command with an error ({@code ok: 0}), with write errors (a duplicate key,
 * code 11000, say) or with a write concern error. Writes before the failing one in an ordered batch
 * were applied; {@link #writeErrors()} says which writes failed and {@link #response()} has the
 * server's whole reply.
 *
 * <pre>{@code
 * users.insertOne(doc).recover(e -> {
 *   if (e instanceof MongoCommandException && ((MongoCommandException) e).code() == 11000) {
 *     return null; // already there
 *   }
 *   throw (RuntimeException) e;
 * });
 * }</pre>
 *
 * <p>It is also a Clojure {@code ex-info} (see {@link PelotonException}): {@code (ex-data e)} is
 * {@code {:code 11000 :code-name "DuplicateKey" :message "..." :write-errors [...] :response
 * {...}}}, the write errors and the response as the keyword maps the Clojure API reads, plus
 * {@code :error-labels} when the server sent labels.
 */
public class MongoCommandException extends PelotonException {
  private static final long serialVersionUID = 1L;
  static final Keyword OK = Keyword.intern("ok");
  static final Keyword CODE = Keyword.intern("code");
  static final Keyword CODE_NAME_FIELD = Keyword.intern("codeName");
  static final Keyword ERRMSG = Keyword.intern("errmsg");
  static final Keyword INDEX = Keyword.intern("index");
  static final Keyword WRITE_ERRORS = Keyword.intern("writeErrors");
  static final Keyword WRITE_CONCERN_ERROR = Keyword.intern("writeConcernError");
  static final Keyword ERROR_LABELS = Keyword.intern("errorLabels");

  /** The server's error code, -1 when it gave none. */
  private final int code;
  /** The server's name for the code, or null. */
  private final String codeName;
  /** The server's message, or null. */
  private final String errorMessage;
  /** The failed writes, unmodifiable. */
  private final List<WriteError> writeErrors;
  /** The server's labels, unmodifiable. */
  private final List<String> errorLabels;
  /** The write errors as the reply had them (Clojure maps or Documents), for ex-data. */
  private final transient List<?> rawWriteErrors;
  /** The reply as decoded: a Clojure map, or a Document for a read of the Java API. */
  private final transient Map<?, ?> reply;
  private transient volatile Document response;

  /**
   * An error with the given fields.
   *
   * @param code the server's error code, -1 when it gave none
   * @param codeName the server's name for the code, or null
   * @param message the server's message
   * @param writeErrors the reply's write errors, as decoded, possibly empty
   * @param reply the server's whole reply as decoded, or null
   */
  MongoCommandException(int code, String codeName, String message, List<?> writeErrors, Map<?, ?> reply) {
    super("command failed with error " + code + (codeName == null ? "" : " (" + codeName + ")") + ": " + message,
        null);
    this.code = code;
    this.codeName = codeName;
    this.errorMessage = message;
    this.rawWriteErrors = writeErrors;
    this.reply = reply;
    List<WriteError> typed = new ArrayList<>(writeErrors.size());
    for (Object e : writeErrors) {
      typed.add(WriteError.of(e));
    }
    this.writeErrors = Collections.unmodifiableList(typed);
    Object labels = reply == null ? null : field(reply, ERROR_LABELS);
    if (labels instanceof List && !((List<?>) labels).isEmpty()) {
      List<String> ls = new ArrayList<>();
      for (Object l : (List<?>) labels) {
        ls.add(String.valueOf(l));
      }
      this.errorLabels = Collections.unmodifiableList(ls);
    } else {
      this.errorLabels = List.of();
    }
  }

  /**
   * The error in a reply body, or null when the reply reports success: {@code ok} not 1, else the
   * first write error, else a write concern error.
   *
   * @param body a decoded reply body (a Clojure map, or an {@code org.bson.Document} for the Java API)
   * @return the error, or null for a successful reply
   */
  static MongoCommandException fromReply(Object body) {
    if (!(body instanceof Map)) {
      return new MongoCommandException(-1, null, "reply is not a document", PersistentVector.EMPTY, null);
    }
    Map<?, ?> m = (Map<?, ?>) body;
    Object ok = field(m, OK);
    Object we = field(m, WRITE_ERRORS);
    List<?> writeErrors = we instanceof List ? (List<?>) we : PersistentVector.EMPTY;
    if (!(ok instanceof Number) || ((Number) ok).doubleValue() != 1.0) {
      return new MongoCommandException(intOf(field(m, CODE)), str(field(m, CODE_NAME_FIELD)), str(field(m, ERRMSG)),
          writeErrors, m);
    }
    if (!writeErrors.isEmpty()) {
      Object first = writeErrors.get(0);
      Map<?, ?> e = first instanceof Map ? (Map<?, ?>) first : Map.of();
      return new MongoCommandException(intOf(field(e, CODE)), str(field(e, CODE_NAME_FIELD)), str(field(e, ERRMSG)),
          writeErrors, m);
    }
    Object wce = field(m, WRITE_CONCERN_ERROR);
    if (wce instanceof Map) {
      Map<?, ?> e = (Map<?, ?>) wce;
      return new MongoCommandException(intOf(field(e, CODE)), str(field(e, CODE_NAME_FIELD)), str(field(e, ERRMSG)),
          writeErrors, m);
    }
    return null;
  }

  /** {@code m}'s field {@code k}: by name in a Java-shaped reply ({@code org.bson.Document}). */
  static Object field(Map<?, ?> m, Keyword k) {
    return m instanceof org.bson.Document ? m.get(k.getName()) : m.get(k);
  }

  private static int intOf(Object o) {
    return o instanceof Number ? ((Number) o).intValue() : -1;
  }

  private static String str(Object o) {
    return o == null ? null : o.toString();
  }

  /**
   * The server's error code; for write errors, the first one's.
   *
   * @return e.g. 11000 for a duplicate key; -1 when the server gave none
   */
  public int code() {
    return code;
  }

  /**
   * The server's name for the code.
   *
   * @return e.g. {@code "DuplicateKey"}, or null when the server gave none
   */
  public String codeName() {
    return codeName;
  }

  /**
   * The server's message (its {@code errmsg}), without the code that {@link #getMessage()} adds.
   *
   * @return the message, or null
   */
  public String errorMessage() {
    return errorMessage;
  }

  /**
   * The writes that failed, in the order the server reported them: one for an ordered batch (the
   * writes after it were not tried), one per failed write for an unordered one.
   *
   * @return the write errors, unmodifiable, empty when the command itself failed
   */
  public List<WriteError> writeErrors() {
    return writeErrors;
  }

  /**
   * The labels the server put on the error ({@code errorLabels}), such as {@code
   * "RetryableWriteError"} or {@code "TransientTransactionError"}.
   *
   * @return the labels, unmodifiable, empty when there were none
   */
  public List<String> errorLabels() {
    return errorLabels;
  }

  /**
   * Whether the server put {@code label} on the error.
   *
   * @param label a label such as {@code "RetryableWriteError"}; case matters
   * @return true when {@link #errorLabels()} holds it
   */
  public boolean hasErrorLabel(String label) {
    return errorLabels.contains(label);
  }

  /**
   * The server's whole reply, for the fields this exception has no getter for ({@code errInfo},
   * {@code writeConcernError}, the counts of a bulk write that failed part way: {@code nInserted},
   * {@code insertedIds}...). A reply decoded the Clojure way (any write) is copied into a Document
   * on the first call: its numbers are then Long where the server sent Int32, and the keys of
   * {@code insertedIds} are the indexes in words ({@code "0"}, {@code "2"}).
   *
   * @return the reply, or null when there was none (a reply that was not a document)
   */
  public Document response() {
    Document d = response;
    if (d == null && reply != null) {
      d = reply instanceof Document ? (Document) reply : (Document) javaShaped(reply);
      response = d;
    }
    return d;
  }

  /** The reply as decoded, unconverted: what the engine reads counts from. */
  Map<?, ?> reply() {
    return reply;
  }

  /** {@code v} with every keyword-keyed map a Document and every vector an ArrayList. */
  private static Object javaShaped(Object v) {
    if (v instanceof Document) {
      return v;
    }
    if (v instanceof Map) {
      Document d = new Document();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        Object k = e.getKey();
        d.put(k instanceof Named ? ((Named) k).getName() : String.valueOf(k), javaShaped(e.getValue()));
      }
      return d;
    }
    if (v instanceof List) {
      List<Object> l = new ArrayList<>(((List<?>) v).size());
      for (Object o : (List<?>) v) {
        l.add(javaShaped(o));
      }
      return l;
    }
    return v;
  }

  /**
   * Whether this error means "this server is not (or no longer) the primary".
   *
   * @return true for the not-primary codes and messages
   */
  public boolean isNotPrimary() {
    switch (code) {
      case 10107: case 13435: case 13436: case 11600: case 11602: case 189: case 91:
        return true;
      default:
        return errorMessage != null && (errorMessage.contains("not master") || errorMessage.contains("not primary"));
    }
  }

  /** The fields the Clojure API has always shown, the reply's own maps included. */
  @Override
  protected Object[] exData() {
    return new Object[] {"code", (long) code, "code-name", codeName, "message", errorMessage,
        "write-errors", rawWriteErrors, "response", reply,
        "error-labels", errorLabels.isEmpty() ? null : field(reply, ERROR_LABELS)};
  }
}
