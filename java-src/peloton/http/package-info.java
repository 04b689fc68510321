/**
 * The HTTP/1.1 codec shared by Peloton's server ({@link peloton.http.server}) and client
 * ({@link peloton.http.client}): no IO, no sockets. Public helpers for users: {@link
 * peloton.http.HttpStatus}, {@link peloton.http.HttpDate}, {@link peloton.http.MimeTypes},
 * {@link peloton.http.Forms}, {@link peloton.http.Headers}, {@link peloton.http.HttpLimits} and
 * {@link peloton.http.BodySink}. {@link peloton.http.HeadScanner} (the message-head scanner),
 * {@link peloton.http.BodyDecoder} (Content-Length and chunked bodies), {@link
 * peloton.http.HttpBytes} (byte classes and header-value helpers) and {@link
 * peloton.http.ChunkInputStream} are public only so that the server and client packages can
 * share one copy of each; they are internal and may change between releases.
 */
package peloton.http;
