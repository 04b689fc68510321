package peloton.bench.ws;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.GlobalEventExecutor;

/**
 * Netty's WebSocket server for bench/ws, written as Netty's own WebSocket examples are:
 * HttpServerCodec, HttpObjectAggregator and WebSocketServerProtocolHandler on the native epoll
 * transport, one event loop per core, no compression. {@code /echo} writes each text frame back
 * (flushed once per read batch); on {@code /fanout} every text frame is written to all
 * {@code /fanout} channels through a {@link ChannelGroup} (one frame, a retained duplicate per
 * channel). Usage: {@code java peloton.bench.ws.NettyWs PORT} (binds 127.0.0.1).
 */
public final class NettyWs {
  private NettyWs() {}

  static final ChannelGroup FANOUT = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  /** Starts the server and blocks until it is closed. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    if (!Epoll.isAvailable()) {
      throw new IllegalStateException("native epoll unavailable", Epoll.unavailabilityCause());
    }
    int threads = Runtime.getRuntime().availableProcessors();
    EpollEventLoopGroup group = new EpollEventLoopGroup(threads);
    Echo echo = new Echo();
    Broadcast broadcast = new Broadcast();
    WebSocketServerProtocolConfig echoCfg = WebSocketServerProtocolConfig.newBuilder()
        .websocketPath("/echo").checkStartsWith(false).build();
    WebSocketServerProtocolConfig fanCfg = WebSocketServerProtocolConfig.newBuilder()
        .websocketPath("/fanout").checkStartsWith(false).build();
    try {
      ServerBootstrap b = new ServerBootstrap()
          .group(group)
          .channel(EpollServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .option(ChannelOption.SO_REUSEADDR, true)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ChannelPipeline p = ch.pipeline();
              p.addLast(new HttpServerCodec(), new HttpObjectAggregator(65536));
              // The path picks the pipeline, as two servers would; the handshake needs the
              // request, so the choice is made on the first one.
              p.addLast(new PathSwitch(echoCfg, fanCfg, echo, broadcast));
            }
          });
      System.out.println("netty ws listening on 127.0.0.1:" + port + " with " + threads + " event loops");
      b.bind("127.0.0.1", port).sync().channel().closeFuture().sync();
    } finally {
      group.shutdownGracefully();
    }
  }

  /** Installs the protocol handler and the application handler for the request's path. */
  static final class PathSwitch extends SimpleChannelInboundHandler<io.netty.handler.codec.http.FullHttpRequest> {
    private final WebSocketServerProtocolConfig echoCfg;
    private final WebSocketServerProtocolConfig fanCfg;
    private final Echo echo;
    private final Broadcast broadcast;

    PathSwitch(WebSocketServerProtocolConfig echoCfg, WebSocketServerProtocolConfig fanCfg, Echo echo,
        Broadcast broadcast) {
      super(false);
      this.echoCfg = echoCfg;
      this.fanCfg = fanCfg;
      this.echo = echo;
      this.broadcast = broadcast;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, io.netty.handler.codec.http.FullHttpRequest req) {
      boolean fan = req.uri().startsWith("/fanout");
      ChannelPipeline p = ctx.pipeline();
      p.addAfter(ctx.name(), "ws", new WebSocketServerProtocolHandler(fan ? fanCfg : echoCfg));
      p.addAfter("ws", "app", fan ? broadcast : echo);
      p.remove(this);
      if (fan) {
        FANOUT.add(ctx.channel());
      }
      ctx.fireChannelRead(req);
    }
  }

  /** Writes each text frame back; one flush per read batch. */
  @Sharable
  static final class Echo extends SimpleChannelInboundHandler<TextWebSocketFrame> {
    Echo() {
      super(false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
      ctx.write(frame, ctx.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** Writes each text frame to every /fanout channel. */
  @Sharable
  static final class Broadcast extends SimpleChannelInboundHandler<TextWebSocketFrame> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
      // The group releases the frame after writing a retained duplicate to each member.
      FANOUT.writeAndFlush(frame.retain());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

}
