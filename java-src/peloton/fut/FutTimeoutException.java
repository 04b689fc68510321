package peloton.fut;

import java.util.concurrent.TimeoutException;

/** The error of a fut that was not complete within the time given to {@link Fut#withTimeout}. */
public class FutTimeoutException extends TimeoutException {
  private static final long serialVersionUID = 1L;

  /** The time limit that passed, in milliseconds. */
  private final long millis;

  /**
   * The timeout of {@code millis} milliseconds passed.
   *
   * @param millis the timeout that passed
   */
  public FutTimeoutException(long millis) {
    super("fut timed out after " + millis + " ms");
    this.millis = millis;
  }

  /** @return the timeout, in milliseconds */
  public long millis() {
    return millis;
  }
}
