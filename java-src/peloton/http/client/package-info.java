/**
 * Peloton's HTTP/1.1 client on the reactors: {@link peloton.http.client.HttpClient} sends a
 * {@link peloton.http.client.ClientRequest} over a pooled keep-alive {@link
 * peloton.http.client.ClientConnection} (plain or TLS) and answers a typed fut of a {@link
 * peloton.http.client.ClientResponse}, parsed by {@link peloton.http.client.ResponseParser} on
 * the shared codec in {@link peloton.http}. Failures are {@link
 * peloton.http.client.HttpClientException}s.
 */
package peloton.http.client;
