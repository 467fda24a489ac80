import * as net from "@tessera/net";
import { expect, it } from "vitest";
import { readmeExamples, runExample } from "../../../test-support/readme-examples.js";
import * as tls from "../src/index.js";

// Every js example in the README must run and print exactly what the README shows after it.
const examples = readmeExamples(new URL("../README.md", import.meta.url));

it("the README has its two examples", () => {
  expect(examples.length).toBe(2);
});

it.each(examples.map((e, i) => [i + 1, e] as const))(
  "README example %i runs and prints what it shows",
  async (_i, e) => {
    expect(await runExample(e.code, { "@tessera/tls": tls, "@tessera/net": net })).toBe(e.printed);
  },
);
