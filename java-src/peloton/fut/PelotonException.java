package peloton.fut;

import clojure.lang.IExceptionInfo;
import clojure.lang.IPersistentMap;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import java.util.Locale;

/**
 * The base of Peloton's typed errors (an HTTP client failure, a MongoDB server error, a failed
 * WebSocket handshake...): an unchecked exception whose subclasses answer their fields with typed
 * getters, so Java code catches {@code PelotonException} or a subclass and never meets a Clojure
 * type.
 *
 * <p>For Clojure it is also an {@code ex-info}: {@code (ex-data e)} answers a keyword map of the
 * same fields, built on first use (Java callers, who use the getters, never pay for it). That is
 * the one Clojure-facing member, {@link #getData()}; the subclasses say which fields it holds
 * through {@link #exData()}.
 *
 * <pre>{@code
 * Fut<ClientResponse> r = client.get(url).recoverWith(e ->
 *     e instanceof HttpClientException && ((HttpClientException) e).kind() == Kind.TIMEOUT
 *         ? client.get(mirrorUrl)
 *         : Fut.failed(e));
 * }</pre>
 */
public abstract class PelotonException extends RuntimeException implements IExceptionInfo {
  private static final long serialVersionUID = 1L;

  /** The ex-data map once built; rebuilt after deserialization. */
  private transient volatile IPersistentMap data;

  /**
   * An error with {@code message} and {@code cause}.
   *
   * @param message what went wrong, for {@link #getMessage()}
   * @param cause the underlying error, or null
   */
  protected PelotonException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * The fields of the error for Clojure's {@code ex-data}, as alternating names and values:
   * {@code new Object[] {"kind", Kind.REFUSED, "url", url}}. A name becomes the keyword of that
   * name ({@code :kind}); an enum value becomes the keyword of its constant's name in lower case
   * with {@code _} as {@code -} ({@code TOO_LARGE} is {@code :too-large}); any other value,
   * null included, is kept as it is. A pair whose value is null is left out.
   *
   * @return the names and values; called once, the first time {@link #getData()} is
   */
  protected abstract Object[] exData();

  /**
   * The keyword map Clojure's {@code ex-data} answers, built from {@link #exData()} on first use.
   * Java callers have the subclass's typed getters instead.
   *
   * @return the error's fields as a Clojure map with keyword keys
   */
  @Override
  public final IPersistentMap getData() {
    IPersistentMap d = data;
    if (d == null) {
      d = build(exData());
      data = d;
    }
    return d;
  }

  private static IPersistentMap build(Object[] pairs) {
    Object[] kvs = new Object[pairs.length];
    int n = 0;
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      Object v = pairs[i + 1];
      if (v == null) {
        continue;
      }
      kvs[n++] = Keyword.intern((String) pairs[i]);
      kvs[n++] = v instanceof Enum
          ? Keyword.intern(((Enum<?>) v).name().toLowerCase(Locale.ROOT).replace('_', '-'))
          : v;
    }
    Object[] exact = new Object[n];
    System.arraycopy(kvs, 0, exact, 0, n);
    return PersistentArrayMap.createAsIfByAssoc(exact);
  }
}
