package peloton.http.server;

/**
 * Answers one request. It runs on the connection's reactor thread (or on the server's executor
 * when one is configured) and may answer at once or later, from any thread, through the {@link
 * Exchange}. A handler that throws before answering gets a 500 and a log line.
 */
@FunctionalInterface
public interface HttpHandler {
  /**
   * Handles the request held by {@code exchange}.
   *
   * @param exchange the request and its response
   * @throws Exception anything: before an answer it becomes a 500, after one it is logged
   */
  void handle(Exchange exchange) throws Exception;
}
