package peloton.fut;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.java.api.Clojure;
import clojure.lang.ArityException;
import clojure.lang.ExceptionInfo;
import clojure.lang.IDeref;
import clojure.lang.IFn;
import clojure.lang.PersistentArrayMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Clojure-facing side of futs and streams: what Clojure code sees through IFn and IDeref. */
class FnFutTest {

  /** Clojure's runtime must load before its Compiler (which ArityException touches). */
  @BeforeAll
  static void loadClojure() {
    Clojure.var("clojure.core", "+");
  }

  @Test
  void invokeDeliversAndThrowsWhenAlreadyDelivered() {
    FnFut<Object> f = new FnFut<>();
    f.invoke("x");
    assertEquals("x", f.deref());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.invoke("y"));
    assertTrue(e.getMessage().startsWith("fut already delivered"), e.getMessage());
    assertSame(f, f.invoke());
    assertThrows(ArityException.class, () -> f.invoke(1, 2));
    assertThrows(ArityException.class, () -> ((IFn) f).applyTo(clojure.lang.RT.seq(List.of(1, 2, 3))));
  }

  @Test
  void plainFutsAreReferencesButNotFunctions() {
    Fut<String> f = Fut.of("v");
    assertFalse(((Object) f) instanceof IFn);
    assertEquals("v", ((IDeref) f).deref());
  }

  @Test
  void derefKeepsExInfo() {
    ExceptionInfo ei = new ExceptionInfo("info", PersistentArrayMap.EMPTY);
    assertSame(ei, assertThrows(ExceptionInfo.class, () -> Fut.failed(ei).deref()));
  }

  @Test
  void untypedAllTakesPlainValuesAndStages() {
    Fut<Object> a = new Fut<>();
    CompletableFuture<Object> cf = new CompletableFuture<>();
    Fut<List<Object>> all = Dofut.all(new Object[] {a, cf, "plain"});
    cf.complete("C");
    a.deliver("A");
    assertEquals(List.of("A", "C", "plain"), all.value());
    assertTrue(all.value() instanceof clojure.lang.IPersistentVector);
  }

  @Test
  void fnStreamPutsWhenCalled() {
    FnStream<Object> s = new FnStream<>(1);
    Object put = s.invoke("x");
    assertTrue(put instanceof Fut);
    assertEquals("x", s.take().value());
    assertThrows(ArityException.class, s::invoke);
  }
}
