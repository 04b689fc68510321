package peloton.bench;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.util.Headers;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Hello-world HTTP server on Undertow: a plain HttpHandler run on the IO thread writing a
 * pre-built body, IO threads = cores. Usage: {@code java peloton.bench.UndertowHello PORT}
 * (binds 127.0.0.1).
 */
public final class UndertowHello {
    private static final ByteBuffer BODY;

    static {
        byte[] bytes = "<h1>Hello from Peloton</h1>".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocateDirect(bytes.length);
        b.put(bytes).flip();
        BODY = b;
    }

    private UndertowHello() {}

    /** Starts the server; its non-daemon IO threads keep the JVM alive. */
    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        int threads = Runtime.getRuntime().availableProcessors();
        Undertow server = Undertow.builder()
                .addHttpListener(port, "127.0.0.1")
                .setIoThreads(threads)
                // Undertow's own knob for answering pipelined requests in one write.
                .setServerOption(UndertowOptions.BUFFER_PIPELINED_DATA, true)
                .setHandler(exchange -> {
                    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/html");
                    exchange.getResponseSender().send(BODY.duplicate());
                })
                .build();
        server.start();
        System.out.println("undertow hello listening on 127.0.0.1:" + port + " with " + threads + " io threads");
    }
}
