import { expect, it } from "vitest";
import { readmeExamples, runExample } from "../../../test-support/readme-examples.js";
import * as http2 from "../src/index.js";

// Every example in the README must run and print exactly what the README shows after it.
const examples = readmeExamples(new URL("../README.md", import.meta.url));

it("the README has its three examples", () => {
  expect(examples.length).toBe(3);
});

it.each(examples.map((e, i) => [i + 1, e] as const))(
  "README example %i runs and prints what it shows",
  async (_i, e) => {
    expect(await runExample(e.code, { "@tessera/http2": http2 })).toBe(e.printed);
  },
);
