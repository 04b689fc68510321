package peloton.websocket;

/** Limits and timeouts of WebSocket connections, server and client side; setters chain. */
public final class WebSocketOptions {
  /** The largest frame payload accepted, bytes; a larger one fails the connection with 1009. */
  public int maxFrameSize = 1 << 20;
  /** The largest message accepted (after inflating), bytes; larger fails it with 1009. */
  public int maxMessageSize = 1 << 20;
  /** Time without any frame from the peer after which we close with 1001, ms; 0 for none. */
  public long idleTimeoutMillis = 300_000;
  /**
   * Interval of automatic pings, ms; 0 (default) for none. A peer that has not answered a ping
   * when the next one is due is cut off (close code 1006).
   */
  public long pingIntervalMillis = 0;
  /** Time the peer has to answer our close frame before the TCP connection is cut, ms. */
  public long closeTimeoutMillis = 5_000;
  /** Time the opening handshake may take (client side), ms. */
  public long handshakeTimeoutMillis = 10_000;
  /** Offer (client) or accept (server) permessage-deflate. */
  public boolean compression = true;
  /** Messages shorter than this go out uncompressed even with permessage-deflate, bytes. */
  public int compressionThreshold = 64;
  /** The deflate level, 0-9. */
  public int compressionLevel = 6;
  /** Queued output above which reads stop until it drains to {@link #lowWaterMark}, bytes. */
  public long highWaterMark = 256 * 1024;
  /** Queued output below which reads resume, bytes. */
  public long lowWaterMark = 64 * 1024;

  /**
   * Sets {@link #maxFrameSize}.
   *
   * @param n the largest frame payload accepted, in bytes (at least 125)
   * @return these options
   */
  public WebSocketOptions maxFrameSize(int n) {
    maxFrameSize = n;
    return this;
  }

  /**
   * Sets {@link #maxMessageSize}.
   *
   * @param n the largest message accepted, in bytes, after decompression
   * @return these options
   */
  public WebSocketOptions maxMessageSize(int n) {
    maxMessageSize = n;
    return this;
  }

  /**
   * Sets {@link #idleTimeoutMillis}.
   *
   * @param ms milliseconds without a frame from the peer before closing with 1001, 0 for no limit
   * @return these options
   */
  public WebSocketOptions idleTimeoutMillis(long ms) {
    idleTimeoutMillis = ms;
    return this;
  }

  /**
   * Sets {@link #pingIntervalMillis}.
   *
   * @param ms milliseconds between automatic pings, 0 for none
   * @return these options
   */
  public WebSocketOptions pingIntervalMillis(long ms) {
    pingIntervalMillis = ms;
    return this;
  }

  /**
   * Sets {@link #closeTimeoutMillis}.
   *
   * @param ms milliseconds to wait for the peer's close frame before closing the TCP connection
   * @return these options
   */
  public WebSocketOptions closeTimeoutMillis(long ms) {
    closeTimeoutMillis = ms;
    return this;
  }

  /**
   * Sets {@link #compression}.
   *
   * @param on whether to offer (client) or accept (server) permessage-deflate
   * @return these options
   */
  public WebSocketOptions compression(boolean on) {
    compression = on;
    return this;
  }

  /**
   * Checks the values.
   *
   * @return these options
   * @throws IllegalArgumentException naming the first bad value
   */
  public WebSocketOptions validate() {
    if (maxFrameSize < 125) {
      throw new IllegalArgumentException("maxFrameSize must be at least 125, got " + maxFrameSize);
    }
    if (maxMessageSize < 1) {
      throw new IllegalArgumentException("maxMessageSize must be positive, got " + maxMessageSize);
    }
    if (idleTimeoutMillis < 0 || pingIntervalMillis < 0 || closeTimeoutMillis < 0
        || handshakeTimeoutMillis < 0) {
      throw new IllegalArgumentException("timeouts must not be negative");
    }
    if (compressionLevel < 0 || compressionLevel > 9) {
      throw new IllegalArgumentException("compressionLevel must be 0-9, got " + compressionLevel);
    }
    if (lowWaterMark > highWaterMark) {
      throw new IllegalArgumentException("lowWaterMark must not exceed highWaterMark");
    }
    return this;
  }
}
