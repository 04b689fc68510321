package peloton.http.server;

import clojure.lang.ArraySeq;
import clojure.lang.IFn;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Regex routing, as the original's route vectors {@code [:GET #"^/user/(\d+)$" handler & extra]}:
 * the first route whose method matches (null matches any; GET routes also take HEAD) and whose
 * pattern is found in the path handles the request; no match answers 404. An {@link HttpHandler}
 * is called with the exchange and reads the regex groups with {@link Exchange#pathParam(int)}; a
 * Clojure handler is called with the exchange, the extra arguments, then the groups.
 *
 * <pre>{@code
 * Router router = new Router()
 *     .get("^/$", ex -> ex.contentType("text/plain").body("hello").send())
 *     .get("^/users/(\\d+)$", ex -> ex.body("user " + ex.pathParam(1)).send())
 *     .post("^/users$", ex -> ex.status(201).body(ex.bodyString()).send());
 * HttpServer server = HttpServer.start(new HttpServer.Options().port(8080), router);
 * }</pre>
 */
public final class Router implements HttpHandler {
  private static final Object[] NONE = new Object[0];

  private static final class Route {
    final String method;
    final Pattern pattern;
    final Object handler;
    final Object[] extra;
    // A pattern that is only a literal (the usual "^/json$") is matched without the regex engine,
    // which would allocate a Matcher per request: kind says how, literal says against what.
    final int kind;
    final String literal;

    Route(String method, Pattern pattern, Object handler, Object[] extra) {
      this.method = method;
      this.pattern = pattern;
      this.handler = handler;
      this.extra = extra;
      String lit = null;
      int k = REGEX;
      if (pattern.flags() == 0) {
        String p = pattern.pattern();
        boolean start = p.startsWith("^");
        boolean end = p.endsWith("$") && !p.endsWith("\\$");
        lit = literal(p.substring(start ? 1 : 0, end ? p.length() - 1 : p.length()));
        if (lit != null) {
          k = start && end ? EXACT : start ? PREFIX : end ? SUFFIX : CONTAINS;
        }
      }
      this.kind = k;
      this.literal = lit;
    }

    boolean literalMatch(String path) {
      switch (kind) {
        case EXACT: return path.equals(literal);
        case PREFIX: return path.startsWith(literal);
        case SUFFIX: return path.endsWith(literal);
        default: return path.contains(literal);
      }
    }
  }

  private static final int REGEX = 0, EXACT = 1, PREFIX = 2, SUFFIX = 3, CONTAINS = 4;

  /**
   * The text a regex body matches when it has no regex meaning, or null. A backslash before a
   * character that is not a letter or digit makes it literal (as in {@code \.}); anything else
   * with a meaning (classes, groups, quantifiers, alternation, escapes like {@code \d}) leaves
   * the pattern to the regex engine. {@code $} in Java also matches before a final line
   * terminator, which a parsed path never holds, so equality is the same answer.
   */
  static String literal(String body) {
    StringBuilder sb = new StringBuilder(body.length());
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '\\') {
        if (i + 1 == body.length()) {
          return null;
        }
        char n = body.charAt(++i);
        if (Character.isLetterOrDigit(n) || n > 127) {
          return null; // \d, \Q, \1 ...: a meaning, not a character
        }
        sb.append(n);
      } else if (".[]{}()*+?^$|".indexOf(c) >= 0) {
        return null;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private final List<Route> building = new ArrayList<>();
  private volatile Route[] routes = new Route[0];
  private HttpHandler notFound = ex -> ex.contentType("text/html; charset=utf-8")
      .status(404).body("<html><h1>404 Not Found</h1></html>").send();

  /** A router without routes: everything answers 404 until routes are added. */
  public Router() {}

  /**
   * Adds a route for {@code method} requests whose path matches {@code regex} (found anywhere in
   * the path: anchor it with {@code ^...$}).
   *
   * @param method an upper-case method name, or null for any method
   * @param regex a {@link Pattern} regex
   * @param handler answers the matching requests
   * @return this router
   * @throws java.util.regex.PatternSyntaxException when {@code regex} is not a valid regex
   */
  public Router route(String method, String regex, HttpHandler handler) {
    return add(method, Pattern.compile(regex), handler);
  }

  /**
   * Adds a GET route (it serves HEAD too).
   *
   * @param regex a {@link Pattern} regex matched against the path
   * @param handler answers the matching requests
   * @return this router
   */
  public Router get(String regex, HttpHandler handler) {
    return route("GET", regex, handler);
  }

  /**
   * Adds a POST route.
   *
   * @param regex a {@link Pattern} regex matched against the path
   * @param handler answers the matching requests
   * @return this router
   */
  public Router post(String regex, HttpHandler handler) {
    return route("POST", regex, handler);
  }

  /**
   * Adds a PUT route.
   *
   * @param regex a {@link Pattern} regex matched against the path
   * @param handler answers the matching requests
   * @return this router
   */
  public Router put(String regex, HttpHandler handler) {
    return route("PUT", regex, handler);
  }

  /**
   * Adds a DELETE route.
   *
   * @param regex a {@link Pattern} regex matched against the path
   * @param handler answers the matching requests
   * @return this router
   */
  public Router delete(String regex, HttpHandler handler) {
    return route("DELETE", regex, handler);
  }

  /**
   * Adds a route for any method.
   *
   * @param regex a {@link Pattern} regex matched against the path
   * @param handler answers the matching requests
   * @return this router
   */
  public Router any(String regex, HttpHandler handler) {
    return route(null, regex, handler);
  }

  /**
   * Adds a route: the general form behind {@link #route}, which the Clojure API uses.
   *
   * @param method an upper-case method name, or null for any
   * @param pattern matched against the path with {@link Matcher#find()}
   * @param handler a Clojure function or an {@link HttpHandler}
   * @param extra arguments a Clojure handler gets before the groups
   * @return this router
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

  /**
   * Sets what answers when no route matches (default: a 404 page).
   *
   * @param h the handler of unmatched requests
   * @return this router
   */
  public Router notFound(HttpHandler h) {
    notFound = h;
    return this;
  }

  /**
   * Hands {@code ex} to the first matching route, or to the not-found handler.
   *
   * @param ex the exchange
   * @throws Exception what the route's handler throws
   */
  @Override
  public void handle(Exchange ex) throws Exception {
    String path = ex.path();
    String method = ex.method();
    for (Route r : routes) {
      if (r.method != null && !r.method.equals(method)
          && !(r.method.equals("GET") && method.equals("HEAD"))) {
        continue; // HEAD is served by GET routes: the server drops the body
      }
      Matcher m = null; // a literal route has no groups and needs no Matcher
      if (r.kind != REGEX) {
        if (!r.literalMatch(path)) {
          continue;
        }
      } else {
        m = r.pattern.matcher(path);
        if (!m.find()) {
          continue;
        }
      }
      call(r, ex, m);
      return;
    }
    notFound.handle(ex);
  }

  /** Calls {@code r}'s handler with the groups of {@code m} (none when {@code m} is null). */
  private static void call(Route r, Exchange ex, Matcher m) throws Exception {
    int groups = m == null ? 0 : m.groupCount();
    if (r.handler instanceof HttpHandler) {
      if (groups > 0) {
        String[] params = new String[groups];
        for (int g = 1; g <= groups; g++) {
          params[g - 1] = m.group(g);
        }
        ex.pathParams = params;
      }
      ((HttpHandler) r.handler).handle(ex);
      return;
    }
    IFn f = (IFn) r.handler;
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
  }
}
