/**
 * Peloton's HTTP/1.1 server on the reactors. A request goes: {@link
 * peloton.http.server.HttpServer} accepts, one {@link peloton.http.server.Connection} per socket
 * reads and parses with {@link peloton.http.server.RequestParser} (head and body, on the
 * shared codec in {@link peloton.http}), the {@link peloton.http.server.Router} picks a
 * {@link peloton.http.server.HttpHandler}, and the handler answers through its {@link
 * peloton.http.server.Exchange} (whole, chunked, streamed, a file via {@link
 * peloton.http.server.FileHandler}, or an upgrade handed over to {@link peloton.websocket}).
 */
package peloton.http.server;
