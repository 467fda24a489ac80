import * as core from "@tessera/core";
import * as net from "@tessera/net";
import { expect, it } from "vitest";
import { readmeExamples, runExample } from "../../../test-support/readme-examples.js";
import * as socks5 from "../src/index.js";

// The README's example must run and print exactly what the README shows after it.
const examples = readmeExamples(new URL("../README.md", import.meta.url));

it("README example runs and prints what it shows", async () => {
  expect(examples).toHaveLength(1);
  const modules = { "@tessera/core": core, "@tessera/net": net, "@tessera/socks5": socks5 };
  expect(await runExample(examples[0]!.code, modules)).toBe(examples[0]!.printed);
});
