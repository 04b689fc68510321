package peloton.mongo;

import clojure.lang.APersistentMap;
import clojure.lang.IFn;
import clojure.lang.IKVReduce;
import clojure.lang.IMapEntry;
import clojure.lang.IMapIterable;
import clojure.lang.IObj;
import clojure.lang.IPersistentCollection;
import clojure.lang.IPersistentMap;
import clojure.lang.Keyword;
import clojure.lang.ISeq;
import clojure.lang.MapEntry;
import clojure.lang.RT;
import clojure.lang.Reduced;
import clojure.lang.Util;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * An immutable Clojure map that keeps its keys in insertion order at every size: what {@link
 * BsonCodec} decodes documents into, so that a document read and written back keeps its field
 * order (a {@code PersistentArrayMap} turns into an unordered hash map at its 9th key).
 *
 * <p>It is an ordinary persistent map ({@code map?}, {@code =} and {@code hash} with any other
 * map, {@code assoc}, {@code dissoc}, {@code get}, keyword lookup, {@code reduce-kv}, metadata).
 * {@code assoc} of a new key appends it; of an existing key keeps its place. Like an array map it
 * stores its entries in one flat array, so {@code assoc} and {@code dissoc} copy it (O(n)); a
 * lookup scans the array up to 8 entries and uses a hash index built on first use beyond that.
 * Keys compare with Clojure's equality ({@code Util.equiv}, {@code Util.hasheq}).
 */
public final class OrderedMap extends APersistentMap implements IObj, IKVReduce, IMapIterable {
  private static final long serialVersionUID = 1L;
  private static final int SCAN_LIMIT = 8;

  /** The empty ordered map. */
  public static final OrderedMap EMPTY = new OrderedMap(null, new Object[0]);

  /** The map's Clojure metadata, or null. */
  private final IPersistentMap meta;
  /** key0, val0, key1, val1 ... (distinct keys) in its first {@code len} slots; the rest unused. */
  private final Object[] kvs;
  /** 2 × count. */
  private final int len;
  /** Open-addressing table of (entry index + 1), built on first lookup past SCAN_LIMIT; racy but idempotent. */
  private transient int[] index;

  private OrderedMap(IPersistentMap meta, Object[] kvs) {
    this(meta, kvs, kvs.length);
  }

  private OrderedMap(IPersistentMap meta, Object[] kvs, int len) {
    this.meta = meta;
    this.kvs = kvs;
    this.len = len;
  }

  /**
   * A map of the first {@code n} key/value pairs of {@code kvs} (which it takes over: the caller
   * must not change it afterwards), as if assoc'ed in order: a repeated key keeps its first place
   * and takes its last value.
   *
   * @param kvs keys and values, alternating; taken over, not copied
   * @param n how many pairs of {@code kvs} to use
   * @return the map
   */
  public static OrderedMap ofPairs(Object[] kvs, int n) {
    return ofPairs(kvs, n, false);
  }

  /**
   * {@link #ofPairs(Object[], int)}; with {@code interned} the caller promises every key is a
   * keyword (interned, so equal keys are identical), which makes the check for repeats cheaper.
   */
  static OrderedMap ofPairs(Object[] kvs, int n, boolean interned) {
    if (n == 0) {
      return EMPTY;
    }
    int len = 2 * n;
    if (n <= SCAN_LIMIT) {
      for (int i = 2; i < len; i += 2) {
        Object k = kvs[i];
        for (int j = 0; j < i; j += 2) {
          if (kvs[j] == k || !interned && Util.equiv(kvs[j], k)) {
            return new OrderedMap(null, dedupe(kvs, len));
          }
        }
      }
      return new OrderedMap(null, kvs, len);
    }
    int[] table = new int[tableSize(n)];
    int mask = table.length - 1;
    int out = 0;
    for (int i = 0; i < len; i += 2) {
      Object k = kvs[i];
      int slot = (interned ? ((Keyword) k).hasheq() : Util.hasheq(k)) & mask;
      int found = -1;
      for (int e; (e = table[slot]) != 0; slot = (slot + 1) & mask) {
        Object key = kvs[2 * (e - 1)];
        if (key == k || !interned && Util.equiv(key, k)) {
          found = 2 * (e - 1);
          break;
        }
      }
      if (found >= 0) {
        kvs[found + 1] = kvs[i + 1];
      } else {
        kvs[out] = k;
        kvs[out + 1] = kvs[i + 1];
        table[slot] = out / 2 + 1;
        out += 2;
      }
    }
    OrderedMap m = new OrderedMap(null, kvs, out);
    m.index = table; // it holds the kept entries' final positions
    return m;
  }

  /** The first {@code len} slots of {@code kvs} as if assoc'ed in order, compacted to exact size. */
  private static Object[] dedupe(Object[] kvs, int len) {
    int out = 0;
    for (int i = 0; i < len; i += 2) {
      int at = scan(kvs, out, kvs[i]);
      if (at >= 0) {
        kvs[at + 1] = kvs[i + 1];
      } else {
        kvs[out] = kvs[i];
        kvs[out + 1] = kvs[i + 1];
        out += 2;
      }
    }
    return Arrays.copyOf(kvs, out);
  }

  /**
   * A map of alternating keys and values, in that order (a repeated key keeps its first place).
   *
   * @param kvs keys and values, alternating; copied
   * @return the map
   */
  public static OrderedMap of(Object... kvs) {
    if ((kvs.length & 1) != 0) {
      throw new IllegalArgumentException("an ordered map needs alternating keys and values");
    }
    return ofPairs(kvs.clone(), kvs.length / 2);
  }

  /**
   * A map of {@code m}'s entries in its iteration order.
   *
   * @param m any map
   * @return the map, {@code m} itself when it is an OrderedMap
   */
  public static OrderedMap from(Map<?, ?> m) {
    if (m instanceof OrderedMap) {
      return (OrderedMap) m;
    }
    Object[] a = new Object[2 * m.size()];
    int i = 0;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      a[i++] = e.getKey();
      a[i++] = e.getValue();
    }
    return ofPairs(a, i / 2);
  }

  private static int tableSize(int n) {
    return Integer.highestOneBit(Math.max(4, n) * 2 - 1) << 1;
  }

  private static int scan(Object[] a, int len, Object k) {
    for (int i = 0; i < len; i += 2) {
      if (a[i] == k || Util.equiv(a[i], k)) {
        return i;
      }
    }
    return -1;
  }

  /** The position in {@code kvs} of key {@code k}, or -1. */
  private int indexOf(Object k) {
    if (len <= 2 * SCAN_LIMIT) {
      return scan(kvs, len, k);
    }
    int[] t = index;
    if (t == null) {
      t = new int[tableSize(len / 2)];
      int mask = t.length - 1;
      for (int i = 0; i < len; i += 2) {
        int slot = Util.hasheq(kvs[i]) & mask;
        while (t[slot] != 0) {
          slot = (slot + 1) & mask;
        }
        t[slot] = i / 2 + 1;
      }
      index = t;
    }
    int mask = t.length - 1;
    for (int slot = Util.hasheq(k) & mask, e; (e = t[slot]) != 0; slot = (slot + 1) & mask) {
      Object key = kvs[2 * (e - 1)];
      if (key == k || Util.equiv(key, k)) {
        return 2 * (e - 1);
      }
    }
    return -1;
  }

  @Override
  public int count() {
    return len / 2;
  }

  @Override
  public boolean containsKey(Object key) {
    return indexOf(key) >= 0;
  }

  @Override
  public IMapEntry entryAt(Object key) {
    int i = indexOf(key);
    return i < 0 ? null : MapEntry.create(kvs[i], kvs[i + 1]);
  }

  @Override
  public Object valAt(Object key) {
    int i = indexOf(key);
    return i < 0 ? null : kvs[i + 1];
  }

  @Override
  public Object valAt(Object key, Object notFound) {
    int i = indexOf(key);
    return i < 0 ? notFound : kvs[i + 1];
  }

  @Override
  public IPersistentMap assoc(Object key, Object val) {
    int i = indexOf(key);
    if (i >= 0) {
      if (kvs[i + 1] == val) {
        return this;
      }
      Object[] a = Arrays.copyOf(kvs, len);
      a[i + 1] = val;
      OrderedMap m = new OrderedMap(meta, a);
      m.index = index; // same keys at the same places
      return m;
    }
    Object[] a = Arrays.copyOf(kvs, len + 2);
    a[len] = key;
    a[len + 1] = val;
    return new OrderedMap(meta, a);
  }

  @Override
  public IPersistentMap assocEx(Object key, Object val) {
    if (containsKey(key)) {
      throw Util.runtimeException("Key already present");
    }
    return assoc(key, val);
  }

  @Override
  public IPersistentMap without(Object key) {
    int i = indexOf(key);
    if (i < 0) {
      return this;
    }
    Object[] a = new Object[len - 2];
    System.arraycopy(kvs, 0, a, 0, i);
    System.arraycopy(kvs, i + 2, a, i, len - i - 2);
    return new OrderedMap(meta, a);
  }

  @Override
  public IPersistentCollection empty() {
    return EMPTY.withMeta(meta);
  }

  @Override
  public ISeq seq() {
    return len == 0 ? null : RT.chunkIteratorSeq(iterator());
  }

  @Override
  public Iterator iterator() {
    return new Iter(0);
  }

  @Override
  public Iterator keyIterator() {
    return new Iter(1);
  }

  @Override
  public Iterator valIterator() {
    return new Iter(2);
  }

  /** Walks the entries (mode 0), keys (1) or values (2). */
  private final class Iter implements Iterator<Object> {
    private final int mode;
    private int i;

    Iter(int mode) {
      this.mode = mode;
    }

    @Override
    public boolean hasNext() {
      return i < len;
    }

    @Override
    public Object next() {
      if (i >= len) {
        throw new NoSuchElementException();
      }
      int at = i;
      i += 2;
      return mode == 1 ? kvs[at] : mode == 2 ? kvs[at + 1] : MapEntry.create(kvs[at], kvs[at + 1]);
    }
  }

  @Override
  public Object kvreduce(IFn f, Object init) {
    Object acc = init;
    for (int i = 0; i < len; i += 2) {
      acc = f.invoke(acc, kvs[i], kvs[i + 1]);
      if (RT.isReduced(acc)) {
        return ((Reduced) acc).deref();
      }
    }
    return acc;
  }

  @Override
  public IPersistentMap meta() {
    return meta;
  }

  @Override
  public OrderedMap withMeta(IPersistentMap m) {
    if (m == meta) {
      return this;
    }
    OrderedMap o = new OrderedMap(m, kvs, len);
    o.index = index;
    return o;
  }
}
