package peloton.mongo;

/**
 * Options of a find: which fields, in what order, how many, and the size of each batch the server
 * sends. Null or zero means "server default". Chaining setters.
 */
public final class FindOptions {
  /** Fields to return, e.g. {@code {:name 1}}, or null for whole documents. */
  public Object projection;
  /** Sort order, an ordered map such as {@code (array-map :age -1 :name 1)}, or null. */
  public Object sort;
  /** Documents to skip. */
  public int skip;
  /** Most documents to answer (0: all). */
  public int limit;
  /** Documents per batch from the server (0: server default). */
  public int batchSize;
  /** Where to read, or null for the client's default. */
  public ReadPreference readPreference;

  /**
   * Sets the projection.
   *
   * @param p the fields to return (a map), or null
   * @return these options
   */
  public FindOptions projection(Object p) {
    this.projection = p;
    return this;
  }

  /**
   * Sets the sort order.
   *
   * @param s an ordered map, or null
   * @return these options
   */
  public FindOptions sort(Object s) {
    this.sort = s;
    return this;
  }

  /**
   * Sets how many to skip.
   *
   * @param n documents to skip
   * @return these options
   */
  public FindOptions skip(int n) {
    this.skip = n;
    return this;
  }

  /**
   * Sets the most to answer.
   *
   * @param n the limit (0: all)
   * @return these options
   */
  public FindOptions limit(int n) {
    this.limit = n;
    return this;
  }

  /**
   * Sets the read preference.
   *
   * @param p where to read (null: the client's default)
   * @return these options
   */
  public FindOptions readPreference(ReadPreference p) {
    this.readPreference = p;
    return this;
  }

  /**
   * Sets the batch size.
   *
   * @param n documents per batch (0: the server's default)
   * @return these options
   */
  public FindOptions batchSize(int n) {
    this.batchSize = n;
    return this;
  }
}
