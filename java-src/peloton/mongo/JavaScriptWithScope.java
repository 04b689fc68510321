package peloton.mongo;

import java.util.Map;
import java.util.Objects;

/**
 * The BSON type "JavaScript code with scope" (0x0F): code and the document of variables it sees.
 * {@link BsonCodec} decodes that type into this value and encodes this value as that type, so a
 * stored one survives a round trip (the type is deprecated, but old data has it). The scope is a
 * map (an {@link OrderedMap} when decoded).
 */
public final class JavaScriptWithScope {
  /** The JavaScript source. */
  public final String code;
  /** The variables in scope: a map, encoded as a document. */
  public final Map<?, ?> scope;

  /**
   * Code {@code code} with the variables {@code scope}.
   *
   * @param code the JavaScript source, not null
   * @param scope the variables in scope, not null
   */
  public JavaScriptWithScope(String code, Map<?, ?> scope) {
    this.code = Objects.requireNonNull(code, "code");
    this.scope = Objects.requireNonNull(scope, "scope");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JavaScriptWithScope && code.equals(((JavaScriptWithScope) o).code)
        && scope.equals(((JavaScriptWithScope) o).scope);
  }

  @Override
  public int hashCode() {
    return code.hashCode() * 31 + scope.hashCode();
  }

  @Override
  public String toString() {
    return "JavaScriptWithScope{code=" + code + ", scope=" + scope + "}";
  }
}
