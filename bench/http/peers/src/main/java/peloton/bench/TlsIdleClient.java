package peloton.bench;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Opens N TLS keep-alive connections to a hello server, sends one GET on each and reads its
 * answer, then holds them idle until stdin closes: for measuring a server's heap per idle TLS
 * connection (bench/http/tls.sh). Usage: {@code TlsIdleClient HOST PORT N}. Prints "ready N".
 */
public final class TlsIdleClient {
    private TlsIdleClient() {}

    /** Opens the connections, then waits for stdin to close. */
    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new X509TrustManager() {
            @Override public void checkClientTrusted(X509Certificate[] c, String a) {}
            @Override public void checkServerTrusted(X509Certificate[] c, String a) {}
            @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        }}, null);
        byte[] req = ("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        List<Socket> open = new ArrayList<>(n);
        byte[] buf = new byte[4096];
        for (int i = 0; i < n; i++) {
            SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(host, port);
            s.setSoTimeout(10_000);
            s.startHandshake();
            OutputStream out = s.getOutputStream();
            out.write(req);
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder got = new StringBuilder();
            while (got.indexOf("</h1>") < 0) {
                int r = in.read(buf);
                if (r < 0) {
                    throw new IllegalStateException("connection " + i + " closed early");
                }
                got.append(new String(buf, 0, r, StandardCharsets.ISO_8859_1));
            }
            open.add(s);
        }
        System.out.println("ready " + n);
        System.out.flush();
        while (System.in.read() >= 0) {
            // hold the connections
        }
        for (Socket s : open) {
            s.close();
        }
    }
}
