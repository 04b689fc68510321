package peloton.http.server;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peloton behind a real nginx that denies {@code /admin} on its normalized path and forwards
 * the raw target: whatever spelling nginx lets through, Peloton must not route to its admin
 * route (the split-view bypass of RFC 3986 normalization). Skipped where nginx is not
 * installed (CI installs Debian's nginx-light).
 */
class NginxProxyTest {
  @TempDir Path dir;
  private HttpServer server;
  private Process nginx;

  @AfterEach
  void stop() throws Exception {
    if (nginx != null) {
      nginx.destroy();
      if (!nginx.waitFor(10, TimeUnit.SECONDS)) {
        nginx.destroyForcibly();
      }
    }
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).join();
    }
  }

  private static String nginxBinary() {
    for (String p : new String[] {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"}) {
      if (new File(p).canExecute()) {
        return p;
      }
    }
    return null;
  }

  private int startNginx(int upstream) throws Exception {
    String bin = nginxBinary();
    Assumptions.assumeTrue(bin != null, "nginx is not installed");
    IOException last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      int port;
      try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = probe.getLocalPort(); // nginx cannot report a port it chose itself
      }
      String conf = "daemon off;\nmaster_process off;\nworker_processes 1;\npid " + dir + "/nginx.pid;\n"
          + "error_log " + dir + "/error.log warn;\nevents { worker_connections 64; }\n"
          + "http {\n access_log off;\n"
          + " client_body_temp_path " + dir + "/cb;\n proxy_temp_path " + dir + "/px;\n"
          + " fastcgi_temp_path " + dir + "/fc;\n uwsgi_temp_path " + dir + "/uw;\n scgi_temp_path " + dir + "/sc;\n"
          + " server {\n  listen 127.0.0.1:" + port + ";\n"
          + "  location /admin { deny all; }\n"
          + "  location / { proxy_pass http://127.0.0.1:" + upstream + "; proxy_http_version 1.1; }\n"
          + " }\n}\n";
      Path file = dir.resolve("nginx.conf");
      Files.writeString(file, conf);
      nginx = new ProcessBuilder(bin, "-p", dir.toString(), "-c", file.toString(), "-e", dir + "/error.log")
          .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline && nginx.isAlive()) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", port), 200);
          return port;
        } catch (IOException e) {
          last = e;
          nginx.waitFor(50, TimeUnit.MILLISECONDS); // not yet listening
        }
      }
      nginx.destroyForcibly();
      nginx = null;
    }
    throw new IOException("nginx did not start: " + Files.readString(dir.resolve("error.log")), last);
  }

  @Test
  void whatNginxLetsThroughNeverReachesTheAdminRoute() throws Exception {
    Router r = new Router()
        .add("GET", Pattern.compile("^/admin"), (HttpHandler) ex -> ex.body("ADMIN " + ex.path()).send())
        .add("GET", Pattern.compile("^/"), (HttpHandler) ex -> ex.body("public " + ex.path()).send());
    HttpServer.Options o = new HttpServer.Options();
    o.port = 0;
    o.reactors = 1;
    server = HttpServer.start(o, r);
    int port = startNginx(server.port());

    String[] targets = {
      "/admin", "/admin/x", "/public", "/admin/../public", "/admin/%2e%2e/public", "/admin/.%2E/public",
      "/%61dmin", "/%61dmin/x", "/public/../admin", "/public/%2e%2e/admin", "/./admin", "//admin",
      "/admin%2F..%2Fpublic", "/public%2F..%2Fadmin", "/adm%69n", "/ADMIN", "/admin;x", "/x/../../admin",
      "/admin?../public", "/admin/./", "/pub/..%2fadmin",
    };
    int allowed = 0;
    StringBuilder report = new StringBuilder();
    for (String t : targets) {
      try (RawHttp c = new RawHttp(port)) {
        c.send("GET " + t + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        RawHttp.Response resp = c.read();
        report.append(t).append(" -> ").append(resp.status).append(' ').append(resp.body().strip()).append('\n');
        // 403 from nginx, 400 from Peloton (an ambiguous path), or served as public
        assertTrue(resp.status == 200 || resp.status == 403 || resp.status == 400, report.toString());
        if (resp.status == 200) {
          allowed++;
          assertFalse(resp.body().startsWith("ADMIN"), "nginx allowed " + t + " and Peloton served admin:\n" + report);
        }
      }
    }
    assertTrue(allowed >= 3, "some spellings were let through and served as public:\n" + report);
  }

  @Test
  void asSentThroughNginxThePublicSpellingsAreServedAsPublic() throws Exception {
    Router r = new Router()
        .add("GET", Pattern.compile(""), (HttpHandler) ex -> ex.body(ex.path() + " " + ex.rawPath()).send());
    HttpServer.Options o = new HttpServer.Options();
    o.port = 0;
    o.reactors = 1;
    server = HttpServer.start(o, r);
    int port = startNginx(server.port());
    try (RawHttp c = new RawHttp(port)) {
      c.send("GET /admin/../public HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response resp = c.read();
      assertEquals(200, resp.status);
      // nginx forwards the raw target; Peloton routes the normalized path and keeps the raw one
      assertEquals("/public /admin/../public", resp.body());
      c.send("GET /admin HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(403, c.read().status);
    }
    assertTrue(new String(Files.readAllBytes(dir.resolve("nginx.conf")), StandardCharsets.UTF_8).contains("deny all"));
  }
}
