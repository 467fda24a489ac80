import { describe, expect, it } from "vitest";
import {
  assertHeaderName,
  HeaderMap,
  type HeaderSource,
  InvalidHeaderNameError,
  InvalidHeaderValueError,
  isFieldValue,
  isToken,
} from "../src/index.js";

/** A source that counts how many strings it was asked to build. */
class CountingSource implements HeaderSource {
  names = 0;
  values = 0;
  nameIsCalls = 0;
  constructor(private readonly fields: [string, string][]) {}
  get count(): number {
    return this.fields.length;
  }
  name(i: number): string {
    this.names++;
    return this.fields[i]![0];
  }
  value(i: number): string {
    this.values++;
    return this.fields[i]![1];
  }
  nameIs?(i: number, name: string): boolean;
  static make(fields: [string, string][], withNameIs = true): CountingSource {
    const source = new CountingSource(fields);
    if (withNameIs) {
      source.nameIs = (i, name) => {
        source.nameIsCalls++;
        return fields[i]![0].toLowerCase() === name.toLowerCase();
      };
    }
    return source;
  }
}

const WIRE: [string, string][] = [
  ["Host", "example.com"],
  ["User-Agent", "test"],
  ["Accept", "text/html"],
  ["accept", "*/*"],
  ["Set-Cookie", "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"],
  ["Set-Cookie", "b=2"],
  ["X-Custom", ""],
];

describe("HeaderMap keeps wire order and casing with case-insensitive lookups", () => {
  const h = HeaderMap.fromPairs(WIRE);

  it("iterates fields in wire order with their original casing", () => {
    expect([...h]).toEqual(WIRE);
    expect(h.toJSON()).toEqual(WIRE);
    expect(JSON.parse(JSON.stringify(h))).toEqual(WIRE);
    expect(h.size).toBe(7);
    expect(h.name(3)).toBe("accept");
    expect(h.value(3)).toBe("*/*");
  });

  it("looks up names in any case", () => {
    expect(h.get("HOST")).toBe("example.com");
    expect(h.get("host")).toBe("example.com");
    expect(h.has("user-agent")).toBe(true);
    expect(h.has("missing")).toBe(false);
    expect(h.get("missing")).toBeUndefined();
    expect(h.get("x-custom")).toBe("");
  });

  it("joins repeated fields with a comma, Cookie with a semicolon", () => {
    expect(h.get("Accept")).toBe("text/html, */*");
    expect(HeaderMap.fromFlat(["Cookie", "a=1", "cookie", "b=2"]).get("COOKIE")).toBe("a=1; b=2");
  });

  it("keeps Set-Cookie fields apart in getAll and getSetCookie", () => {
    expect(h.getAll("set-cookie")).toEqual(["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2"]);
    expect(h.getSetCookie()).toEqual(h.getAll("Set-Cookie"));
    expect(h.getAll("nope")).toEqual([]);
  });

  it("does not fold non-letters when comparing names (^ is not ~)", () => {
    const m = HeaderMap.fromPairs([["a^b", "1"]]);
    expect(m.get("a~b")).toBeUndefined();
    expect(m.get("A^B")).toBe("1");
  });

  it("gives toObject lower-case keys with joined values, and a field named __proto__ stays a field", () => {
    const m = HeaderMap.fromFlat(["Via", "a", "VIA", "b", "__proto__", "x"]);
    const o = m.toObject();
    expect(o.via).toBe("a, b");
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(["via", "__proto__"]);
  });

  it("throws RangeError on an index out of range", () => {
    expect(() => h.name(7)).toThrow(RangeError);
    expect(() => h.value(-1)).toThrow(RangeError);
  });
});

describe("HeaderMap mutation", () => {
  it("set replaces every field of the name at the position of the first", () => {
    const m = HeaderMap.fromPairs([
      ["A", "1"],
      ["B", "2"],
      ["a", "3"],
      ["C", "4"],
    ]);
    m.set("a", "x");
    expect([...m]).toEqual([
      ["a", "x"],
      ["B", "2"],
      ["C", "4"],
    ]);
    m.set("D", "5");
    expect(m.name(3)).toBe("D");
  });

  it("append adds at the end and keeps existing fields", () => {
    const m = new HeaderMap();
    m.append("Set-Cookie", "a=1").append("set-cookie", "b=2");
    expect([...m]).toEqual([
      ["Set-Cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]);
  });

  it("delete removes every field of the name and says whether it did", () => {
    const m = HeaderMap.fromFlat(["A", "1", "B", "2", "a", "3"]);
    expect(m.delete("A")).toBe(true);
    expect([...m]).toEqual([["B", "2"]]);
    expect(m.delete("A")).toBe(false);
  });

  it("clone is independent in both directions (copy on write)", () => {
    const m = HeaderMap.fromFlat(["A", "1"]);
    const c = m.clone();
    c.append("B", "2");
    m.set("A", "changed");
    expect([...m]).toEqual([["A", "changed"]]);
    expect([...c]).toEqual([
      ["A", "1"],
      ["B", "2"],
    ]);
  });

  it("fromObject takes arrays, numbers and skips undefined", () => {
    const m = HeaderMap.fromObject({ "Content-Length": 2, "Set-Cookie": ["a=1", "b=2"], "X-No": undefined });
    expect([...m]).toEqual([
      ["Content-Length", "2"],
      ["Set-Cookie", "a=1"],
      ["Set-Cookie", "b=2"],
    ]);
  });

  it("from returns a HeaderMap as is", () => {
    const m = new HeaderMap();
    expect(HeaderMap.from(m)).toBe(m);
    expect(HeaderMap.from(undefined).size).toBe(0);
  });
});

describe("HeaderMap validation refuses injection and invalid names on every mutating call", () => {
  const badNames = ["", "Bad Name", "X:Y", "X\r\nY", "Ünicode", "a\u0000", "(x)", "a/b", "a@b", "a\tb"];
  const badValues = [
    "a\r\nX-Injected: 1",
    "a\nb",
    "a\rb",
    "nul\u0000",
    "bell\u0007",
    "del\u007f",
    "wide\u0100",
    "emoji 😀",
  ];

  for (const name of badNames) {
    it(`rejects the name ${JSON.stringify(name)}`, () => {
      const m = new HeaderMap();
      expect(() => m.set(name, "v")).toThrow(InvalidHeaderNameError);
      expect(() => m.append(name, "v")).toThrow(InvalidHeaderNameError);
      expect(() => HeaderMap.fromPairs([[name, "v"]])).toThrow(InvalidHeaderNameError);
      expect(() => HeaderMap.fromFlat([name, "v"])).toThrow(InvalidHeaderNameError);
      expect(() => HeaderMap.fromObject({ [name]: "v" })).toThrow(InvalidHeaderNameError);
      expect(m.size).toBe(0);
      expect(isToken(name)).toBe(false);
    });
  }

  for (const value of badValues) {
    it(`rejects the value ${JSON.stringify(value)}`, () => {
      const m = HeaderMap.fromFlat(["A", "1"]);
      expect(() => m.set("X", value)).toThrow(InvalidHeaderValueError);
      expect(() => m.append("X", value)).toThrow(InvalidHeaderValueError);
      expect(() => HeaderMap.fromPairs([["X", value]])).toThrow(InvalidHeaderValueError);
      expect(() => new HeaderMap({ X: [value] })).toThrow(InvalidHeaderValueError);
      expect([...m]).toEqual([["A", "1"]]);
      expect(isFieldValue(value)).toBe(false);
    });
  }

  it("accepts HTAB, spaces, obs-text and every tchar", () => {
    const m = new HeaderMap();
    m.append("!#$%&'*+-.^_`|~09azAZ", "a\tb c caf\u00e9 \u00ff");
    expect(m.get("!#$%&'*+-.^_`|~09AZaz")).toBe("a\tb c caf\u00e9 \u00ff");
  });

  it("errors carry a stable code and the name", () => {
    try {
      assertHeaderName("bad name");
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidHeaderNameError).code).toBe("ERR_HTTP_INVALID_HEADER_NAME");
      expect((error as InvalidHeaderNameError).headerName).toBe("bad name");
    }
    try {
      new HeaderMap().set("X-A", "1\r\n2");
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidHeaderValueError).code).toBe("ERR_HTTP_INVALID_HEADER_VALUE");
    }
  });
});

describe("HeaderMap over a source is lazy", () => {
  it("builds no string at construction, and only the value asked for with nameIs", () => {
    const source = CountingSource.make(WIRE);
    const h = HeaderMap.fromSource(source);
    expect(source.names + source.values).toBe(0);
    expect(h.size).toBe(7);
    expect(source.names + source.values).toBe(0);
    expect(h.get("user-agent")).toBe("test");
    expect(source.names).toBe(0);
    expect(source.values).toBe(1);
    expect(h.has("x-custom")).toBe(true);
    expect(source.values).toBe(1);
    expect(h.source).toBe(source);
  });

  it("without nameIs, builds the names once and values only on access", () => {
    const source = CountingSource.make(WIRE, false);
    const h = HeaderMap.fromSource(source);
    expect(h.get("host")).toBe("example.com");
    expect(h.get("accept")).toBe("text/html, */*");
    expect(source.names).toBe(WIRE.length);
    expect(source.values).toBe(3);
  });

  it("materializes into its own arrays on first mutation, then stops reading the source", () => {
    const source = CountingSource.make(WIRE);
    const h = HeaderMap.fromSource(source);
    h.append("X-New", "1");
    expect(source.names).toBe(WIRE.length);
    expect(source.values).toBe(WIRE.length);
    expect(h.source).toBeUndefined();
    const before = source.names + source.values + source.nameIsCalls;
    expect(h.get("host")).toBe("example.com");
    expect([...h].slice(-1)).toEqual([["X-New", "1"]]);
    expect(source.names + source.values + source.nameIsCalls).toBe(before);
  });

  it("deleting a missing name does not materialize", () => {
    const source = CountingSource.make(WIRE);
    const h = HeaderMap.fromSource(source);
    expect(h.delete("nope")).toBe(false);
    expect(source.values).toBe(0);
    expect(h.source).toBe(source);
  });

  it("clones share the source until one mutates", () => {
    const source = CountingSource.make(WIRE);
    const h = HeaderMap.fromSource(source);
    const c = h.clone();
    c.set("Host", "other");
    expect(h.get("host")).toBe("example.com");
    expect(c.get("host")).toBe("other");
    expect(h.source).toBe(source);
  });

  it("a HeaderMap is itself a source", () => {
    const h = HeaderMap.fromPairs(WIRE);
    const view = HeaderMap.fromSource(h.clone());
    expect([...view]).toEqual(WIRE);
    expect(view.get("ACCEPT")).toBe("text/html, */*");
  });
});

describe("HeaderMap lookups stay right across mutations (lower-case index kept in step)", () => {
  it("lookup, mutate, lookup; and clones after the index exists", () => {
    const m = HeaderMap.fromFlat(["Content-Type", "a", "X-A", "1", "x-a", "2"]);
    expect(m.get("x-a")).toBe("1, 2");
    m.set("X-A", "3");
    expect(m.getAll("X-A")).toEqual(["3"]);
    m.append("CONTENT-type", "b");
    expect(m.get("content-type")).toBe("a, b");
    const c = m.clone();
    c.delete("content-type");
    expect(c.has("content-type")).toBe(false);
    expect(m.getAll("content-type")).toEqual(["a", "b"]);
    m.append("New", "n");
    expect(c.has("new")).toBe(false);
    expect(m.get("NEW")).toBe("n");
    expect([...m].map(([n]) => n)).toEqual(["Content-Type", "X-A", "CONTENT-type", "New"]);
  });

  it("uses a source's indexOf (one call per lookup) when it has one", () => {
    let indexOfCalls = 0;
    let values = 0;
    const fields: [string, string][] = [
      ["Host", "h"],
      ["Accept", "a"],
      ["accept", "b"],
    ];
    const source: HeaderSource = {
      count: fields.length,
      name: (i) => fields[i]![0],
      value: (i) => {
        values++;
        return fields[i]![1];
      },
      indexOf: (name, from) => {
        indexOfCalls++;
        for (let i = from; i < fields.length; i++)
          if (fields[i]![0].toLowerCase() === name.toLowerCase()) return i;
        return -1;
      },
    };
    const h = HeaderMap.fromSource(source);
    expect(h.get("ACCEPT")).toBe("a, b");
    expect(indexOfCalls).toBe(2); // the third search would start past the end
    expect(values).toBe(2);
    expect(h.get("host")).toBe("h");
  });
});

describe("HeaderMap in logs", () => {
  it("util.inspect shows the fields", async () => {
    const { inspect } = await import("node:util");
    expect(inspect(HeaderMap.fromFlat(["Host", "h"]))).toBe("HeaderMap [ [ 'Host', 'h' ] ]");
  });
});
