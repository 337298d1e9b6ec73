// The generated client must describe the API document as it is: this
// fails when docs/api/openapi.yaml changed and `npm run gen` was not run.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";

const doc = new URL("../../../../docs/api/openapi.yaml", import.meta.url);
const generated = fileURLToPath(new URL("./schema.d.ts", import.meta.url));

describe("schema.d.ts", () => {
  it("is generated from docs/api/openapi.yaml (run `npm run gen`)", async () => {
    const fresh = astToString(await openapiTS(doc));
    const committed = readFileSync(generated, "utf8");
    // The CLI puts a header above what astToString gives.
    expect(committed.endsWith(fresh), "src/api/schema.d.ts is stale: run `npm run gen` in desktop/frontend").toBe(true);
  }, 30_000);
});
