import { describe, expect, it } from "vitest";
import {
  AbortedError,
  errorCode,
  isTesseraError,
  MissingExtensionError,
  TesseraError,
  TimeoutError,
} from "../src/index.js";

class PoolClosedError extends TesseraError {
  static override readonly code = "ERR_TEST_POOL_CLOSED";
  constructor() {
    super(PoolClosedError.code, "the pool is closed");
  }
}

describe("TesseraError", () => {
  it("carries a stable code, a message, a cause and the subclass name", () => {
    const cause = new Error("root");
    const error = new TimeoutError("slow", 50, { cause });
    expect(error.code).toBe("ERR_TIMEOUT");
    expect(error.message).toBe("slow");
    expect(error.cause).toBe(cause);
    expect(error.name).toBe("TimeoutError");
    expect(error.timeoutMs).toBe(50);
    expect(error).toBeInstanceOf(Error);
    expect(error.stack).toContain("TimeoutError");
  });

  it("instanceof works for subclasses and does not confuse codes", () => {
    const error = new PoolClosedError();
    expect(error instanceof PoolClosedError).toBe(true);
    expect(error instanceof TesseraError).toBe(true);
    expect(error instanceof TimeoutError).toBe(false);
    expect(new TimeoutError() instanceof PoolClosedError).toBe(false);
  });

  it("instanceof works across duplicate copies of a package (same brand and code, other class)", () => {
    // A second copy of the package defines its own classes; only the global brand and the code are shared.
    const brand = Symbol.for("tessera.error");
    const foreign = Object.assign(new Error("from another copy"), { code: "ERR_TIMEOUT" });
    Object.defineProperty(foreign, brand, { value: true });
    expect(foreign instanceof TimeoutError).toBe(true);
    expect(foreign instanceof TesseraError).toBe(true);
    expect(foreign instanceof AbortedError).toBe(false);
    expect(isTesseraError(foreign, "ERR_TIMEOUT")).toBe(true);
  });

  it("an unbranded error with a Tessera code is not a Tessera error", () => {
    const plain = Object.assign(new Error("x"), { code: "ERR_TIMEOUT" });
    expect(plain instanceof TimeoutError).toBe(false);
    expect(isTesseraError(plain)).toBe(false);
  });

  it("isTesseraError checks the code when given", () => {
    const error = new MissingExtensionError("k");
    expect(isTesseraError(error)).toBe(true);
    expect(isTesseraError(error, "ERR_EXTENSION_MISSING")).toBe(true);
    expect(isTesseraError(error, "ERR_TIMEOUT")).toBe(false);
    expect(isTesseraError(null)).toBe(false);
    expect(isTesseraError("ERR_TIMEOUT")).toBe(false);
  });

  it("errorCode reads Tessera and Node codes", () => {
    expect(errorCode(new AbortedError())).toBe("ERR_ABORTED");
    expect(errorCode(Object.assign(new Error(), { code: "ECONNREFUSED" }))).toBe("ECONNREFUSED");
    expect(errorCode(new Error())).toBeUndefined();
    expect(errorCode(undefined)).toBeUndefined();
  });
});
