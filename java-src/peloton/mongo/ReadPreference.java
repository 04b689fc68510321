package peloton.mongo;

/**
 * Which members of a replica set a read may go to. {@link #PRIMARY} (the default) reads from the
 * primary only; {@link #PRIMARY_PREFERRED} from the primary, else a secondary; {@link #SECONDARY}
 * from a secondary only; {@link #SECONDARY_PREFERRED} from a secondary, else the primary; {@link
 * #NEAREST} from the member (primary or secondary) whose {@code hello} answered fastest, or any
 * within 15 ms of it. Tag sets and {@code maxStalenessSeconds} are not supported. A standalone
 * server serves every preference.
 */
public enum ReadPreference {
  /** The primary only. */
  PRIMARY("primary"),
  /** The primary, else a secondary. */
  PRIMARY_PREFERRED("primaryPreferred"),
  /** A secondary only. */
  SECONDARY("secondary"),
  /** A secondary, else the primary. */
  SECONDARY_PREFERRED("secondaryPreferred"),
  /** The nearest member, primary or secondary. */
  NEAREST("nearest");

  private final String mode;
  private final Object document;

  ReadPreference(String mode) {
    this.mode = mode;
    this.document = BsonCodec.command(MongoClient.k("mode"), mode);
  }

  /**
   * The mode as the server names it.
   *
   * @return e.g. {@code "secondaryPreferred"}
   */
  public String mode() {
    return mode;
  }

  /** The {@code $readPreference} document: {@code {:mode "..."}}. */
  Object document() {
    return document;
  }

  /**
   * The preference named {@code name}: the server's spelling ({@code "secondaryPreferred"}) or
   * Clojure's ({@code "secondary-preferred"}), any case.
   *
   * @param name the name
   * @return the preference
   * @throws IllegalArgumentException for any other name
   */
  public static ReadPreference parse(String name) {
    String n = name.replace("-", "").replace("_", "");
    for (ReadPreference p : values()) {
      if (p.mode.equalsIgnoreCase(n)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown read preference \"" + name
        + "\": use primary, primaryPreferred, secondary, secondaryPreferred or nearest");
  }
}
