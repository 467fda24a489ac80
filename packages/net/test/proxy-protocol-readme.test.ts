import * as core from "@tessera/core";
import { expect, it } from "vitest";
import { readmeExamples, runExample } from "../../../test-support/readme-examples.js";
import * as net from "../src/index.js";

// The README's PROXY protocol examples must run and print exactly what the README shows after them.
const examples = readmeExamples(new URL("../README.md", import.meta.url), "## HAProxy PROXY protocol");

it("the README's PROXY protocol section has its two examples", () => {
  expect(examples.length).toBe(2);
});

it.each(examples.map((e, i) => [i + 1, e] as const))(
  "PROXY protocol README example %i runs and prints what it shows",
  async (_i, e) => {
    expect(await runExample(e.code, { "@tessera/net": net, "@tessera/core": core })).toBe(e.printed);
  },
);
