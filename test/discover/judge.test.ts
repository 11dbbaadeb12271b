import assert from "node:assert/strict";
import { test } from "node:test";
import {
  candidateKey,
  graceFromLag,
  judgeCandidates,
  type Candidate,
  type RegistryAnswer,
} from "../../src/discover/judge.ts";

const release = { version: "0.8.0", published_at: "2026-07-29T02:20:00Z" };
const c = (channel: Candidate["channel"], name: string, source: string): Candidate => ({ channel, name, source });

test("judgeCandidates: keeps holders, rejects missing and other versions with reasons, keeps could-not-tell", () => {
  const candidates = [
    c("crates", "plasmite", "Cargo.toml"),
    c("crates", "plasmite-core", "crates/core/Cargo.toml"),
    c("npm", "plasmite-ui", "web/package.json"),
    c("npm", "plasmite", "bindings/node/package.json"),
    c("pypi", "plasmite", "bindings/python/pyproject.toml"),
    c("homebrew", "sandover/homebrew-tap:Formula/plasmite.rb", "tap sandover/homebrew-tap"),
  ];
  const answers = new Map<string, RegistryAnswer>([
    ["crates:plasmite", { status: "holds", version: "0.8.0", published_at: "2026-07-29T02:26:00Z" }],
    ["crates:plasmite-core", { status: "holds", version: "0.8.0", published_at: null }],
    ["npm:plasmite-ui", { status: "missing", reason: "npm has no package plasmite-ui" }],
    ["npm:plasmite", { status: "holds", version: "0.7.2", published_at: null }],
    ["pypi:plasmite", { status: "unknown", reason: "pypi answered HTTP 503" }],
  ]);
  const got = judgeCandidates(candidates, answers, release);
  assert.deepEqual(
    got.kept.map((k) => [k.channel, k.name, k.could_not_verify]),
    [
      ["crates", "plasmite", null],
      ["pypi", "plasmite", "pypi answered HTTP 503"],
      ["homebrew", "sandover/homebrew-tap:Formula/plasmite.rb", "no answer"],
    ],
  );
  assert.deepEqual(
    got.rejected.map((r) => [r.channel, r.name, r.reason]),
    [
      ["crates", "plasmite-core", "another crates candidate was kept first"],
      ["npm", "plasmite-ui", "npm has no package plasmite-ui"],
      ["npm", "plasmite", "holds 0.7.2, not 0.8.0"],
    ],
  );
  // crates had the version 6 minutes after the release: twice that; pypi and homebrew could not be measured.
  assert.deepEqual(got.grace, {
    crates: { value: "12m", derived: true },
    pypi: { value: "20m", derived: false },
    homebrew: { value: "30m", derived: false },
  });
});

test("graceFromLag: twice the lag, whole minutes, clamped to 5m..30d", () => {
  const table: [number, string][] = [
    [0, "5m"],
    [-600_000, "5m"],
    [150_000, "5m"],
    [181_000, "7m"],
    [45 * 60_000, "90m"],
    [40 * 24 * 3_600_000, "43200m"],
  ];
  for (const [lag, want] of table) assert.equal(graceFromLag(lag), want, String(lag));
});

test("candidateKey", () => {
  assert.equal(candidateKey({ channel: "npm", name: "@scope/lib" }), "npm:@scope/lib");
});
