import { describe, expect, expectTypeOf, it } from "vitest";
import { type Extensible, Extensions, forkInput, key, MissingExtensionError } from "../src/index.js";

const Peer = key<string>("test.core.Peer");
const Count = key<number>("test.core.Count");

describe("key", () => {
  it("two keys with the same name are the same key (global symbol registry)", () => {
    const a = key<string>("test.core.Shared");
    const b = key<string>("test.core.Shared");
    expect(a).not.toBe(b);
    expect(a.symbol).toBe(b.symbol);
    const ext = new Extensions().insert(a, "x");
    expect(ext.get(b)).toBe("x");
  });

  it("different names do not collide", () => {
    const ext = new Extensions().insert(key<string>("test.core.A"), "a");
    expect(ext.get(key<string>("test.core.B"))).toBeUndefined();
  });
});

describe("Extensions", () => {
  it("get returns the newest value, getAll the whole history oldest first", () => {
    const ext = new Extensions().insert(Count, 1).insert(Count, 2).insert(Count, 3);
    expect(ext.get(Count)).toBe(3);
    expect(ext.getAll(Count)).toEqual([1, 2, 3]);
    expectTypeOf(ext.get(Count)).toEqualTypeOf<number | undefined>();
    expectTypeOf(ext.getAll(Count)).toEqualTypeOf<number[]>();
  });

  it("has no delete: the API is append-only", () => {
    const ext = new Extensions();
    expect("delete" in ext).toBe(false);
    expect("remove" in ext).toBe(false);
  });

  it("has and require", () => {
    const ext = new Extensions().insert(Peer, "1.2.3.4");
    expect(ext.has(Peer)).toBe(true);
    expect(ext.has(Count)).toBe(false);
    expect(ext.require(Peer)).toBe("1.2.3.4");
    expectTypeOf(ext.require(Peer)).toEqualTypeOf<string>();
  });

  it("require throws a typed error naming the key", () => {
    const ext = new Extensions();
    let caught: unknown;
    try {
      ext.require(Count);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MissingExtensionError);
    expect((caught as MissingExtensionError).code).toBe("ERR_EXTENSION_MISSING");
    expect((caught as MissingExtensionError).key).toBe("test.core.Count");
    expect((caught as Error).message).toContain("test.core.Count");
  });

  it("a fork sees its parent, now and later; the parent never sees the fork", () => {
    const conn = new Extensions().insert(Peer, "a");
    const req = conn.fork().insert(Count, 1);
    expect(req.get(Peer)).toBe("a");
    expect(conn.get(Count)).toBeUndefined();
    conn.insert(Peer, "b");
    expect(req.get(Peer)).toBe("b");
    expect(req.parent).toBe(conn);
  });

  it("sibling forks do not see each other", () => {
    const conn = new Extensions();
    const r1 = conn.fork().insert(Count, 1);
    const r2 = conn.fork().insert(Count, 2);
    expect(r1.get(Count)).toBe(1);
    expect(r2.get(Count)).toBe(2);
  });

  it("a fork's own value shadows its parent's; getAll concatenates parent then own", () => {
    const parent = new Extensions().insert(Count, 1);
    const child = parent.fork().insert(Count, 2);
    parent.insert(Count, 3);
    expect(child.get(Count)).toBe(2);
    expect(child.getAll(Count)).toEqual([1, 3, 2]);
    expect(child.has(Count)).toBe(true);
  });

  it("what an inner layer appends to shared extensions is visible to the outer layer afterwards", async () => {
    const ext = new Extensions();
    const inner = async (e: Extensions) => {
      e.insert(Peer, "seen-by-inner");
    };
    await inner(ext);
    expect(ext.get(Peer)).toBe("seen-by-inner");
  });
});

describe("forkInput", () => {
  it("copies an input with forked extensions so the copy's inserts stay out of the original", () => {
    interface Msg extends Extensible {
      readonly body: string;
    }
    const make = (body: string, extensions: Extensions): Msg => ({
      body,
      extensions,
      withExtensions(ext) {
        return make(body, ext) as any;
      },
    });
    const original = make("hello", new Extensions().insert(Peer, "p"));
    const attempt = forkInput(original);
    attempt.extensions.insert(Count, 7);
    expect(attempt.body).toBe("hello");
    expect(attempt.extensions.get(Peer)).toBe("p");
    expect(original.extensions.get(Count)).toBeUndefined();
  });
});

describe("insertLazy", () => {
  it("computes the value on first read, once, and only if read", () => {
    let made = 0;
    const ext = new Extensions().insertLazy(Peer, () => {
      made++;
      return "computed";
    });
    expect(made).toBe(0);
    expect(ext.has(Peer)).toBe(true);
    expect(made).toBe(0);
    expect(ext.get(Peer)).toBe("computed");
    expect(ext.require(Peer)).toBe("computed");
    expect(ext.fork().get(Peer)).toBe("computed");
    expect(made).toBe(1);
  });

  it("keeps its place in the history: newer values win, getAll materializes in order", () => {
    let made = 0;
    const ext = new Extensions()
      .insert(Count, 1)
      .insertLazy(Count, () => {
        made++;
        return 2;
      })
      .insert(Count, 3);
    expect(ext.get(Count)).toBe(3);
    expect(made).toBe(0);
    expect(ext.getAll(Count)).toEqual([1, 2, 3]);
    expect(ext.getAll(Count)).toEqual([1, 2, 3]);
    expect(made).toBe(1);
  });

  it("lazyArg gives the argument of an unmade lazy value of that factory, and makes nothing", () => {
    const lengthOf = (s: { text: string }) => s.text.length;
    const state = { text: "abc" };
    const ext = new Extensions().insertLazy(Count, lengthOf, state);
    const child = ext.fork();
    expect(child.lazyArg(Count, lengthOf)).toBe(state);
    expect(child.lazyArg(Count, (s: { text: string }) => s.text.length)).toBeUndefined();
    expect(child.lazyArg(Peer, lengthOf)).toBeUndefined();
    // A newer value in a fork hides the lazy one, as it would for get().
    expect(ext.fork().insert(Count, 7).lazyArg(Count, lengthOf)).toBeUndefined();
    expect(ext.fork().insert(Count, 7).insertLazy(Count, lengthOf, state).lazyArg(Count, lengthOf)).toBe(
      state,
    );
    // Once made (by a read), the value is what it made: no argument any more.
    expect(ext.get(Count)).toBe(3);
    expect(child.lazyArg(Count, lengthOf)).toBeUndefined();
  });

  it("calls make with the argument given, so one shared function serves every input", () => {
    const lengthOf = (s: { text: string }) => s.text.length;
    const a = new Extensions().insertLazy(Count, lengthOf, { text: "abc" });
    const b = new Extensions().insertLazy(Count, lengthOf, { text: "hello" });
    expect([a.get(Count), b.get(Count)]).toEqual([3, 5]);
  });
});

describe("Extensions storage", () => {
  it("an inserted undefined is a value: has is true and a later insert keeps it in the history", () => {
    const Maybe = key<string | undefined>("test.core.Maybe");
    const ext = new Extensions().insert(Maybe, undefined);
    expect(ext.has(Maybe)).toBe(true);
    expect(ext.get(Maybe)).toBeUndefined();
    expect(ext.getAll(Maybe)).toEqual([undefined]);
    ext.insert(Maybe, "x");
    expect(ext.get(Maybe)).toBe("x");
    expect(ext.getAll(Maybe)).toEqual([undefined, "x"]);
  });

  it("a single lazy value is built once whichever read comes first", () => {
    let made = 0;
    const ext = new Extensions().insertLazy(Count, () => ++made);
    expect(ext.getAll(Count)).toEqual([1]);
    expect(ext.get(Count)).toBe(1);
    expect(ext.require(Count)).toBe(1);
    expect(made).toBe(1);
  });

  it("getAll returns a fresh array the caller may change", () => {
    const parent = new Extensions().insert(Count, 1);
    const child = parent.fork().insert(Count, 2);
    const all = child.getAll(Count);
    all.push(99);
    expect(child.getAll(Count)).toEqual([1, 2]);
    expect(parent.getAll(Count)).toEqual([1]);
  });
});
