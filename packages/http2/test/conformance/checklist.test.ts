// The suite against its checklist: every h2spec case has a test, and every tag names a real case.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { H2SPEC_CASES } from "./h2spec-cases.js";

const dir = new URL(".", import.meta.url);

/** Every h2spec case id written in the suite's test files (tags and the data of looped tests). */
function idsInTests(): Set<string> {
  const ids = new Set<string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".test.ts") || file === "checklist.test.ts") continue;
    const text = readFileSync(new URL(file, dir), "utf8");
    for (const m of text.matchAll(/\b(?:generic|http2|hpack)\/[0-9.]+\/[0-9]+\b/g)) ids.add(m[0]);
  }
  return ids;
}

describe("the conformance suite covers h2spec's case list", () => {
  it("every h2spec case (147) has a test", () => {
    expect(H2SPEC_CASES).toHaveLength(147);
    const ids = idsInTests();
    expect(H2SPEC_CASES.filter((id) => !ids.has(id))).toEqual([]);
  });

  it("every h2spec tag in the tests names a case of the list", () => {
    const known = new Set(H2SPEC_CASES);
    expect([...idsInTests()].filter((id) => !known.has(id))).toEqual([]);
  });
});
