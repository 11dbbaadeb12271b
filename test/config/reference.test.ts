import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { renderConfigReference } from "../../src/config/reference.ts";
import { betweenMarkers } from "../../scripts/markers.ts";

it("README's configuration reference is the one generated from the schema (run node scripts/gen-config-reference.ts)", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  assert.equal(betweenMarkers(readme, "config-reference"), renderConfigReference().trim());
});
