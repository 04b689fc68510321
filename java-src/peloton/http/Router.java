package peloton.http;

import clojure.lang.ArraySeq;
import clojure.lang.IFn;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Regex routing, as the original's route vectors {@code [:GET #"^/user/(\d+)$" handler & extra]}:
 * the first route whose method matches (null matches any; GET routes also take HEAD) and whose pattern is found in the path
 * handles the request; no match answers 404. A Clojure handler is called with the exchange, the
 * extra arguments, then the regex groups; an {@link HttpHandler} just with the exchange.
 */
public final class Router implements HttpHandler {
  private static final Object[] NONE = new Object[0];

  private static final class Route {
    final String method;
    final Pattern pattern;
    final Object handler;
    final Object[] extra;

    Route(String method, Pattern pattern, Object handler, Object[] extra) {
      this.method = method;
      this.pattern = pattern;
      this.handler = handler;
      this.extra = extra;
    }
  }

  private final List<Route> building = new ArrayList<>();
  private volatile Route[] routes = new Route[0];
  private HttpHandler notFound = ex -> ex.contentType("text/html; charset=utf-8")
      .status(404).body("<html><h1>404 Not Found</h1></html>").send();

  /**
   * Adds a route. {@code method}: an upper-case method name, or null for any; {@code handler}: a
   * Clojure function or an {@link HttpHandler}; {@code extra}: arguments passed before the groups.
   */
  public synchronized Router add(String method, Pattern pattern, Object handler, Object... extra) {
    if (!(handler instanceof IFn) && !(handler instanceof HttpHandler)) {
      throw new IllegalArgumentException("a route handler must be a function or an HttpHandler: "
          + handler);
    }
    building.add(new Route(method, pattern, handler, extra == null ? NONE : extra));
    routes = building.toArray(new Route[0]);
    return this;
  }

  /** Sets what answers when no route matches (default: a 404 page). */
  public Router notFound(HttpHandler h) {
    notFound = h;
    return this;
  }

  @Override
  public void handle(Exchange ex) throws Exception {
    String path = ex.path();
    String method = ex.method();
    for (Route r : routes) {
      if (r.method != null && !r.method.equals(method)
          && !(r.method.equals("GET") && method.equals("HEAD"))) {
        continue; // HEAD is served by GET routes: the server drops the body
      }
      Matcher m = r.pattern.matcher(path);
      if (!m.find()) {
        continue;
      }
      if (r.handler instanceof HttpHandler) {
        ((HttpHandler) r.handler).handle(ex);
        return;
      }
      IFn f = (IFn) r.handler;
      int groups = m.groupCount();
      if (groups == 0 && r.extra.length == 0) {
        f.invoke(ex);
        return;
      }
      Object[] args = new Object[1 + r.extra.length + groups];
      args[0] = ex;
      System.arraycopy(r.extra, 0, args, 1, r.extra.length);
      for (int g = 1; g <= groups; g++) {
        args[r.extra.length + g] = m.group(g);
      }
      f.applyTo(ArraySeq.create(args));
      return;
    }
    notFound.handle(ex);
  }
}
