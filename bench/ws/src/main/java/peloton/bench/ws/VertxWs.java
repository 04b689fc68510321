package peloton.bench.ws;

import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Vert.x's WebSocket server for bench/ws: one HTTP server verticle per core (Vert.x then spreads
 * the connections over that many event loops), native epoll preferred, no compression.
 * {@code /echo} writes each text message back; every text message on a {@code /fanout} socket is
 * written to all {@code /fanout} sockets. Usage: {@code java peloton.bench.ws.VertxWs PORT}.
 */
public final class VertxWs extends AbstractVerticle {
  static final Set<ServerWebSocket> FANOUT = ConcurrentHashMap.newKeySet();
  static int port;

  @Override
  public void start(Promise<Void> started) {
    HttpServerOptions o = new HttpServerOptions().setHost("127.0.0.1").setPort(port)
        .setTcpNoDelay(true).setAcceptBacklog(1024)
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false);
    vertx.createHttpServer(o).webSocketHandler(ws -> {
      if ("/fanout".equals(ws.path())) {
        FANOUT.add(ws);
        ws.closeHandler(v -> FANOUT.remove(ws));
        ws.textMessageHandler(text -> {
          for (ServerWebSocket member : FANOUT) {
            member.writeTextMessage(text);
          }
        });
      } else if ("/echo".equals(ws.path())) {
        ws.textMessageHandler(ws::writeTextMessage);
      } else {
        ws.reject(404);
      }
    }).listen().onSuccess(s -> started.complete()).onFailure(started::fail);
  }

  /** Starts the server; it runs until the process is stopped. */
  public static void main(String[] args) throws Exception {
    port = Integer.parseInt(args[0]);
    int threads = Runtime.getRuntime().availableProcessors();
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(threads));
    vertx.deployVerticle(VertxWs::new, new DeploymentOptions().setInstances(threads))
        .toCompletionStage().toCompletableFuture().get();
    System.out.println("vertx ws listening on 127.0.0.1:" + port + " with " + threads
        + " event loops, native transport " + vertx.isNativeTransportEnabled());
  }
}
