import { describe, expect, expectTypeOf, it } from "vitest";
import {
  Extensions,
  type GenericLayer,
  genericLayer,
  identity,
  type Layer,
  type LayerKind,
  layer,
  type Same,
  type Service,
  sameLayer,
  service,
  stack,
} from "../src/index.js";

interface Req {
  readonly extensions: Extensions;
  readonly path: string;
}
interface Res {
  readonly status: number;
}

const handler = service((req: Req): Res => ({ status: req.path === "/" ? 200 : 404 }));

// A generic layer that needs inputs with extensions, and records the order in which layers ran.
function record(name: string, log: string[]): GenericLayer<Same<{ readonly extensions: Extensions }>> {
  return sameLayer(<I extends { readonly extensions: Extensions }, O>(inner: Service<I, O>) =>
    service(async (input: I) => {
      log.push(`${name}>`);
      const out = await inner.serve(input);
      log.push(`<${name}`);
      return out;
    }),
  );
}

// A fixed layer: string in, parsed into a Req.
const parse: Layer<Req, Res, string, number> = layer((inner: Service<Req, Res>) =>
  service(async (path: string) => (await inner.serve({ path, extensions: new Extensions() })).status),
);

// A kind of our own: maps the output of any service to a string.
interface Stringify extends LayerKind {
  readonly Ok: true;
  readonly Expected: "";
  readonly OuterIn: this["In"];
  readonly OuterOut: string;
}
const stringify = (): GenericLayer<Stringify> =>
  genericLayer<Stringify>((inner) => service(async (i: unknown) => JSON.stringify(await inner.serve(i))));

describe("stack", () => {
  it("runs layers outer-first and infers the outer types", async () => {
    const log: string[] = [];
    const svc = stack(record("a", log), record("b", log), record("c", log)).into(handler);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, Res>>();
    const res = await svc.serve({ path: "/", extensions: new Extensions() });
    expect(res).toEqual({ status: 200 });
    expect(log).toEqual(["a>", "b>", "c>", "<c", "<b", "<a"]);
  });

  it("infers through fixed and generic layers together (five layers)", async () => {
    const log: string[] = [];
    const svc = stack(stringify(), identity(), parse, record("x", log), record("y", log)).into(handler);
    expectTypeOf(svc).toEqualTypeOf<Service<string, string>>();
    expect(await svc.serve("/nope")).toBe("404");
    expect(log).toEqual(["x>", "y>", "<y", "<x"]);
  });

  it("nests a stack inside a stack and works as a layer", async () => {
    const log: string[] = [];
    const inner = stack(record("i1", log), record("i2", log));
    const svc = stack(record("o", log), inner).into(handler);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, Res>>();
    await svc.serve({ path: "/", extensions: new Extensions() });
    expect(log).toEqual(["o>", "i1>", "i2>", "<i2", "<i1", "<o"]);
    const direct = inner.layer(handler);
    expectTypeOf(direct).toEqualTypeOf<Service<Req, Res>>();
  });

  it("an empty stack is the service itself", () => {
    expect(stack().into(handler)).toBe(handler);
  });

  it("a generic layer is also a fixed Layer for the types it accepts", () => {
    const l: Layer<Req, Res> = record("z", []);
    expectTypeOf(l.layer(handler)).toEqualTypeOf<Service<Req, Res>>();
  });

  it("rejects mismatched stacks at compile time", () => {
    const numbers = service((n: number) => n * 2);
    // `record` needs inputs with extensions; numbers have none.
    // @ts-expect-error the inner service's input does not meet the layer's bound
    stack(record("r", [])).into(numbers);
    // `parse` calls its inner service with a Req; `numbers` takes a number.
    // @ts-expect-error the layer calls its inner service with an input it does not accept
    stack(parse).into(numbers);
    // A generic layer outside a fixed one sees the fixed layer's outer types (string in): no extensions.
    // @ts-expect-error the bound fails one level up
    stack(record("r", []), parse).into(handler);
    // @ts-expect-error a generic layer applied directly checks its bound too
    record("r", []).layer(numbers);
    expect(true).toBe(true);
  });
});

describe("stack accepts generic layers by their kind", () => {
  // A kind whose outer output does not mention the inner output, with a bound on the inner output.
  interface Length extends LayerKind {
    readonly Ok: [this["Out"]] extends [string] ? true : false;
    readonly Expected: "the inner service must return a string";
    readonly OuterIn: this["In"];
    readonly OuterOut: number;
  }
  const length = (): GenericLayer<Length> =>
    genericLayer<Length>((inner) => service(async (i: unknown) => ((await inner.serve(i)) as string).length));

  it("regression: a kind with a bound on the inner output is accepted by stack()", async () => {
    const svc = stack(length()).into(service((s: string) => s.repeat(2)));
    expectTypeOf(svc).toEqualTypeOf<Service<string, number>>();
    expect(await svc.serve("abc")).toBe(6);
    // @ts-expect-error the inner service returns a number, not a string
    stack(length()).into(service((n: number) => n));
  });
});
