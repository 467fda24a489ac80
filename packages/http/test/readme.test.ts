import * as core from "@tessera/core";
import { expect, it } from "vitest";
import { readmeExamples, runExample } from "../../../test-support/readme-examples.js";
import * as http from "../src/index.js";

// Every ```js example of the README must run and print what the ```text block after it shows.
const examples = readmeExamples(new URL("../README.md", import.meta.url));

it("the README has examples", () => {
  expect(examples.length).toBeGreaterThanOrEqual(4);
});

for (const [index, example] of examples.entries()) {
  it(`README example ${index + 1} runs and prints what the README shows`, async () => {
    expect(await runExample(example.code, { "@tessera/core": core, "@tessera/http": http })).toBe(
      example.printed,
    );
  });
}
