package peloton.http;

import java.nio.ByteBuffer;

/**
 * Receives decoded request body bytes from {@link peloton.http.server.RequestParser#parseBody}.
 */
@FunctionalInterface
public interface BodySink {
    /**
     * Called with body bytes between {@code data.position()} and {@code data.limit()}.
     * The buffer is a view into the caller's input buffer, valid only during this call:
     * copy what must be kept. The sink may move the position; the parser restores position
     * and limit afterwards.
     *
     * @param data the bytes, between its position and its limit
     */
    void onData(ByteBuffer data);
}
