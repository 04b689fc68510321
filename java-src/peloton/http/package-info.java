/**
 * Peloton's HTTP/1.1 server pieces. The pure (no IO) parts here are {@link
 * peloton.http.RequestParser} (incremental request head and body decoding, producing
 * {@link peloton.http.Request}) and small helpers: {@link peloton.http.HttpStatus},
 * {@link peloton.http.HttpDate}, {@link peloton.http.MimeTypes}, {@link peloton.http.ByteRanges},
 * {@link peloton.http.Forms} and {@link peloton.http.Headers}. The client side is {@link
 * peloton.http.HttpClient} (pooled keep-alive connections on the reactors), with {@link
 * peloton.http.ResponseParser}, {@link peloton.http.ClientRequest}, {@link
 * peloton.http.ClientResponse} and {@link peloton.http.HttpClientException}.
 */
package peloton.http;
