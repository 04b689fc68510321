package peloton.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The test certificates, made once per build by {@code test/certs/make-test-certs.sh} (openssl)
 * into {@code target/test-certs}: no key material is committed.
 */
public final class TestCerts {
  private static Path dir;

  private TestCerts() {}

  /** The directory holding the certificates, made on first use. */
  public static synchronized Path dir() {
    if (dir != null) {
      return dir;
    }
    Path d = Path.of("target", "test-certs").toAbsolutePath();
    if (!Files.exists(d.resolve("client-combined.pem")) || !Files.exists(d.resolve("server-enc.key"))
        || !Files.exists(d.resolve("stranger.pem"))) {
      try {
        Process p = new ProcessBuilder("bash", "test/certs/make-test-certs.sh", d.toString())
            .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
          throw new IllegalStateException("make-test-certs.sh failed: " + out);
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot run openssl to make test certificates", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    dir = d;
    return d;
  }

  /** The absolute path of certificate file {@code name} (e.g. "server.pem"). */
  public static String file(String name) {
    return dir().resolve(name).toString();
  }
}
