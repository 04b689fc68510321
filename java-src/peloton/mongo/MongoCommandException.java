package peloton.mongo;

import clojure.lang.ExceptionInfo;
import clojure.lang.IPersistentMap;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import clojure.lang.PersistentVector;
import java.util.List;
import java.util.Map;

/**
 * The server answered a command with an error ({@code ok: 0}), with write errors (a duplicate key,
 * code 11000, say) or with a write concern error. Writes before the failing one in an ordered batch
 * were applied; {@link #response()} has the server's whole reply.
 *
 * <p>It is a Clojure {@code ex-info}: {@code (ex-data e)} is {@code {:code 11000 :code-name
 * "DuplicateKey" :message "..." :write-errors [...] :response {...}}}.
 */
public class MongoCommandException extends ExceptionInfo {
  private static final long serialVersionUID = 1L;
  static final Keyword OK = Keyword.intern("ok");
  static final Keyword CODE = Keyword.intern("code");
  static final Keyword CODE_NAME_FIELD = Keyword.intern("codeName");
  static final Keyword ERRMSG = Keyword.intern("errmsg");
  static final Keyword WRITE_ERRORS = Keyword.intern("writeErrors");
  static final Keyword WRITE_CONCERN_ERROR = Keyword.intern("writeConcernError");
  private static final Keyword K_CODE = Keyword.intern("code");
  private static final Keyword K_CODE_NAME = Keyword.intern("code-name");
  private static final Keyword K_MESSAGE = Keyword.intern("message");
  private static final Keyword K_WRITE_ERRORS = Keyword.intern("write-errors");
  private static final Keyword K_RESPONSE = Keyword.intern("response");

  private final int code;
  private final String codeName;
  private final String errorMessage;
  private final List<?> writeErrors;
  private final Map<?, ?> response;

  /**
   * An error with the given fields.
   *
   * @param code the server's error code, -1 when it gave none
   * @param codeName the server's name for the code, or null
   * @param message the server's message
   * @param writeErrors the reply's write errors, possibly empty
   * @param response the server's whole reply, or null
   */
  public MongoCommandException(int code, String codeName, String message, List<?> writeErrors,
      Map<?, ?> response) {
    super("command failed with error " + code + (codeName == null ? "" : " (" + codeName + ")") + ": " + message,
        data(code, codeName, message, writeErrors, response));
    this.code = code;
    this.codeName = codeName;
    this.errorMessage = message;
    this.writeErrors = writeErrors;
    this.response = response;
  }

  private static IPersistentMap data(int code, String codeName, String message, List<?> writeErrors,
      Map<?, ?> response) {
    return PersistentArrayMap.createAsIfByAssoc(new Object[] {K_CODE, (long) code, K_CODE_NAME, codeName,
        K_MESSAGE, message, K_WRITE_ERRORS, writeErrors, K_RESPONSE, response});
  }

  /**
   * The error in a reply body, or null when the reply reports success: {@code ok} not 1, else the
   * first write error, else a write concern error.
   *
   * @param body a decoded reply body (a Clojure map, or an {@code org.bson.Document} for the Java API)
   * @return the error, or null for a successful reply
   */
  public static MongoCommandException fromReply(Object body) {
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
   * The server's error code.
   *
   * @return e.g. 11000 for a duplicate key; -1 when the server gave none
   */
  public int code() {
    return code;
  }

  /**
   * The server's name for the code.
   *
   * @return e.g. {@code "DuplicateKey"}, or null
   */
  public String codeName() {
    return codeName;
  }

  /**
   * The server's message.
   *
   * @return the message, or null
   */
  public String errorMessage() {
    return errorMessage;
  }

  /**
   * The write errors of the reply: maps with {@code index}, {@code code} and {@code errmsg}
   * (keyword-keyed Clojure maps: writes read their replies the Clojure way).
   *
   * @return the write errors, possibly empty
   */
  public List<?> writeErrors() {
    return writeErrors;
  }

  /**
   * The server's whole reply: an {@code org.bson.Document} for a read of the Java API ({@link
   * MongoCollection}), else a keyword-keyed Clojure map.
   *
   * @return the reply, or null
   */
  public Map<?, ?> response() {
    return response;
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
}
