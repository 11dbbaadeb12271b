// Rewrites the configuration reference in README.md from the zod schema. Run: node scripts/gen-config-reference.ts
import { readFileSync, writeFileSync } from "node:fs";
import { renderConfigReference } from "../src/config/reference.ts";
import { replaceBetweenMarkers } from "./markers.ts";

const readme = readFileSync("README.md", "utf8");
writeFileSync("README.md", replaceBetweenMarkers(readme, "config-reference", renderConfigReference()));
console.log("README.md: configuration reference regenerated");
