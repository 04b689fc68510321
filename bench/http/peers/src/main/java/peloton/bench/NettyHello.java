package peloton.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.CharsetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.File;
import java.util.Date;
import java.util.concurrent.TimeUnit;

/**
 * Hello-world HTTP server on Netty's native epoll transport, written the way Netty's own
 * hello examples are: HttpServerCodec, a pre-built body buffer, one flush per read batch
 * (so pipelined requests are answered with one write), one event loop per core.
 * Usage: {@code java peloton.bench.NettyHello PORT [CERT.pem KEY.pem]} (binds 127.0.0.1); with
 * a certificate and a PKCS#8 key it speaks TLS through Netty's SslHandler with the JDK's
 * provider (the same SSLEngine Peloton uses), for bench/http/tls.sh.
 */
public final class NettyHello {
    private static final ByteBuf BODY = Unpooled.unreleasableBuffer(Unpooled.directBuffer()
            .writeBytes("<h1>Hello from Peloton</h1>".getBytes(CharsetUtil.US_ASCII)));
    private static final AsciiString BODY_LENGTH = AsciiString.of(Integer.toString(BODY.readableBytes()));
    private static final AsciiString TEXT_HTML = AsciiString.cached("text/html");
    private static final AsciiString SERVER = AsciiString.cached("netty");

    /** Refreshed once a second by the event loop: nginx and Undertow send Date too. */
    private static volatile AsciiString date = AsciiString.of(DateFormatter.format(new Date()));

    private NettyHello() {}

    /** Starts the server and blocks until it is closed. */
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        SslContext ssl = args.length >= 3
                ? SslContextBuilder.forServer(new File(args[1]), new File(args[2]))
                        .sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2").build()
                : null;
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("native epoll unavailable", Epoll.unavailabilityCause());
        }
        int threads = Runtime.getRuntime().availableProcessors();
        EpollEventLoopGroup group = new EpollEventLoopGroup(threads);
        try {
            group.scheduleAtFixedRate(
                    () -> date = AsciiString.of(DateFormatter.format(new Date())), 1, 1, TimeUnit.SECONDS);
            Handler handler = new Handler();
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(EpollServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (ssl != null) {
                                ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                            }
                            ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192, false), handler);
                        }
                    });
            System.out.println("netty hello listening on 127.0.0.1:" + port + " with " + threads + " event loops");
            b.bind("127.0.0.1", port).sync().channel().closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }

    /** Answers each request as it is decoded; flushes once per socket read. */
    @Sharable
    static final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest) {
                    boolean keepAlive = HttpUtil.isKeepAlive((HttpRequest) msg);
                    FullHttpResponse res = new DefaultFullHttpResponse(
                            HttpVersion.HTTP_1_1, HttpResponseStatus.OK, BODY.duplicate(), false);
                    HttpHeaders h = res.headers();
                    h.set(HttpHeaderNames.SERVER, SERVER);
                    h.set(HttpHeaderNames.DATE, date);
                    h.set(HttpHeaderNames.CONTENT_TYPE, TEXT_HTML);
                    h.set(HttpHeaderNames.CONTENT_LENGTH, BODY_LENGTH);
                    if (keepAlive) {
                        ctx.write(res, ctx.voidPromise());
                    } else {
                        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
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
}
