import { describe, it } from "node:test";
import assert from "node:assert/strict";
import ts from "typescript";
import { DEFAULT_REGISTRY } from "../../src/channels/registry.ts";
import { parse, tsFiles, walk } from "../helpers/source-files.ts";

/**
 * Channel-id string literals select channel behaviour; they belong in the channel's own folder
 * (src/channels/<id>/), the registry and the sim. Everything else iterates the registry. The exemptions below are
 * genuine uses of the same word for something that is not the channel: GitHub as a platform, and the `homebrew`
 * release step. Each entry names the file, the literals it may hold, and why.
 */
const GITHUB_PLATFORM = "GitHub as a platform, not the channel";
const HOMEBREW_STEP = "the `homebrew` release step (drive), not the channel";
const ALLOWED: Readonly<Record<string, { ids: readonly string[]; reason: string }>> = {
  "src/config/npmrc.ts": { ids: ["npm"], reason: "the npm CLI executable's file name (npm's own configuration)" },
  "src/config/release-schema.ts": { ids: ["homebrew"], reason: `${HOMEBREW_STEP}: the step list` },
  "src/daemon/create.ts": { ids: ["github"], reason: `${GITHUB_PLATFORM}: the runtime's Octokit factory for sinks` },
  "src/drive/evidence.ts": { ids: ["homebrew"], reason: `${HOMEBREW_STEP}: its evidence line` },
  "src/drive/paths.ts": { ids: ["homebrew"], reason: `${HOMEBREW_STEP}: the unaligned-tap refusal` },
  "src/drive/steps/homebrew/index.ts": { ids: ["homebrew"], reason: `${HOMEBREW_STEP}: its name` },
  "src/drive/steps/preconditions/index.ts": { ids: ["homebrew"], reason: `${HOMEBREW_STEP}: the tap precondition` },
  "src/provenance/schemas.ts": {
    ids: ["github"],
    reason: `${GITHUB_PLATFORM}: crates.io trusted publishing's provider value`,
  },
};

const IDS = new Set(DEFAULT_REGISTRY.ids);
/** The registry (registry.ts, and ids.ts: its id list for code that must not load the channels) and the sim. */
const isHome = (path: string): boolean =>
  path === "src/channels/registry.ts" ||
  path === "src/channels/ids.ts" ||
  path.startsWith("src/sim/") ||
  DEFAULT_REGISTRY.ids.some((id) => path.startsWith(`src/channels/${id}/`));

interface Hit {
  file: string;
  line: number;
  id: string;
}

function channelLiterals(file: string): Hit[] {
  const sf = parse(file);
  const hits: Hit[] = [];
  walk(sf, (n) => {
    if (!ts.isStringLiteral(n) && !ts.isNoSubstitutionTemplateLiteral(n)) return;
    if (!IDS.has(n.text)) return;
    // Module specifiers name files, not channels.
    if (ts.isImportDeclaration(n.parent) || ts.isExportDeclaration(n.parent)) return;
    hits.push({ file, line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1, id: n.text });
  });
  return hits;
}

const hits = tsFiles("src")
  .filter((f) => !isHome(f))
  .flatMap(channelLiterals);

describe("channel-id literals", () => {
  it("appear outside src/channels/<id>/, the registry and the sim only where allowed", () => {
    const stray = hits.filter((h) => !ALLOWED[h.file]?.ids.includes(h.id));
    assert.deepEqual(
      stray.map((h) => `${h.file}:${h.line} ${JSON.stringify(h.id)}`),
      [],
      "move these into the channel's folder (or iterate the registry)",
    );
  });

  it("has no stale exemption", () => {
    const used = new Set(hits.map((h) => `${h.file} ${h.id}`));
    const stale = Object.entries(ALLOWED).flatMap(([file, a]) =>
      a.ids.filter((id) => !used.has(`${file} ${id}`)).map((id) => `${file} ${id}`),
    );
    assert.deepEqual(stale, []);
  });

  it("the scan finds literals (a scan that sees nothing proves nothing)", () => {
    const inHome = tsFiles("src/channels/crates").flatMap(channelLiterals);
    assert.ok(
      inHome.some((h) => h.id === "crates"),
      "the crates channel names itself",
    );
  });
});
