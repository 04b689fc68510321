package peloton.http.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real peer (curl, openssl) with a bounded wait. */
final class Cmd {
  private Cmd() {}

  /** Exit status and output (stdout and stderr, ISO-8859-1) of a command. */
  record Run(int exit, String out) {}

  /** Runs {@code cmd} with {@code stdin} (or none); fails the test when it takes over 30 s. */
  static Run run(List<String> cmd, byte[] stdin) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    if (stdin != null) {
      p.getOutputStream().write(stdin);
    }
    p.getOutputStream().close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread t = new Thread(() -> {
      try {
        p.getInputStream().transferTo(out);
      } catch (IOException e) {
        // ended
      }
    });
    t.start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(cmd + " hung; output: " + out);
    }
    t.join(5000);
    return new Run(p.exitValue(), out.toString(StandardCharsets.ISO_8859_1));
  }
}
