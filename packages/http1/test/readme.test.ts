import { expect, it } from "vitest";
import { readmeExamples, runExample } from "../../../test-support/readme-examples.js";
import * as http1 from "../src/index.js";

// The README's parser example must run and print what the README says it prints.
const examples = readmeExamples(new URL("../README.md", import.meta.url));

it("README example runs and prints what the README shows", async () => {
  expect(examples).toHaveLength(1);
  expect(await runExample(examples[0]!.code, { "@tessera/http1": http1 })).toBe(examples[0]!.printed);
});
