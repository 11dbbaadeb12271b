/**
 * A channel's attestation lookups go out together: GitHub asks for every asset's (and the checksum file's)
 * attestations at once, PyPI for every file's provenance at once, so the provenance phase costs one round trip
 * after the probes, not one per artefact (issue 16: a three-asset release paid four in sequence).
 *
 * The fake server holds every request and answers only once no new one has arrived for several event-loop turns;
 * a gatherer that waits for one answer before asking the next has one request in flight at a time.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { githubProvenance } from "../../src/channels/github/provenance.ts";
import { pypiProvenance } from "../../src/channels/pypi/provenance.ts";
import type { GatherContext } from "../../src/provenance/gather.ts";
import type { ProvenanceHttp } from "../../src/provenance/index.ts";

const QUIET_TURNS = 20;

/** Answers 404 to everything, but only when the gatherer has stopped asking; records the peak in flight. */
function holdingServer(): { http: ProvenanceHttp; peak: () => number; urls: string[] } {
  const waiting: (() => void)[] = [];
  const urls: string[] = [];
  let peak = 0;
  let armed = 0;
  const releaseWhenQuiet = (generation: number, turns: number) => {
    if (generation !== armed) return; // a newer request re-armed the release
    if (turns > 0) {
      setImmediate(() => releaseWhenQuiet(generation, turns - 1));
      return;
    }
    for (const answer of waiting.splice(0)) answer();
  };
  const http: ProvenanceHttp = (req) =>
    new Promise((resolve) => {
      urls.push(req.url);
      waiting.push(() => resolve({ status: 404, body: Buffer.from('{"message":"Not Found"}') }));
      peak = Math.max(peak, waiting.length);
      armed++;
      releaseWhenQuiet(armed, QUIET_TURNS);
    });
  return { http, peak: () => peak, urls };
}

const sha = (c: string) => c.repeat(64);

function context(http: ProvenanceHttp, over: Partial<GatherContext>): GatherContext {
  return {
    http,
    verifier: undefined,
    cache: undefined,
    endpoints: {
      githubApi: "http://api.github.test",
      githubHeaders: {},
      bundleHosts: [],
      cratesApi: "http://crates.test",
      pypi: "http://pypi.test",
      npmDefaultRegistry: () => Promise.resolve("http://npm.test"),
      npmHeadersFor: () => Promise.resolve({}),
    },
    expected: { repository: "acme/tool", commit: "c".repeat(40), workflows: ["release.yml"], refs: [] },
    absenceFinal: true,
    ...over,
  } as unknown as GatherContext;
}

describe("provenance lookups of one channel go out together", () => {
  it("GitHub: three assets and the checksum file, four lookups in flight at once, items in the plan's order", async () => {
    const server = holdingServer();
    const names = ["tool-linux.tar.gz", "tool-macos.tar.gz", "tool-windows.zip"];
    const assets = [...names, "sha256sums.txt"].map((name, i) => ({
      name,
      digest: `sha256:${sha(String(i + 1))}`,
      state: "uploaded",
    }));
    const ctx = context(server.http, {
      plan: {
        github: { repo: "acme/tool", assets: names.map((name) => ({ name })), checksum_file: "sha256sums.txt" },
      } as unknown as GatherContext["plan"],
      observations: {
        github: { release: { tag_name: "v1.0.0", immutable: false, assets }, checksums: null, sidecars: null },
      } as unknown as GatherContext["observations"],
    });
    const gathered = await githubProvenance.gather(ctx, new Map());
    assert.equal(server.urls.length, 4, server.urls.join("\n"));
    assert.equal(server.peak(), 4, "every lookup was in flight before the first answer");
    assert.deepEqual(
      gathered.items.map((i) => i.subject),
      names,
      "one item per asset, in the plan's order (an unattested checksum file adds none)",
    );
    assert.ok(gathered.items.every((i) => i.compared.result.signature === "absent"));
  });

  it("PyPI: every file's provenance in flight at once", async () => {
    const server = holdingServer();
    const files = ["tool-1.0.0.tar.gz", "tool-1.0.0-py3-none-any.whl"].map((filename, i) => ({
      filename,
      sha256: sha(String(i + 5)),
    }));
    const ctx = context(server.http, {
      plan: { pypi: { package: "tool" } } as unknown as GatherContext["plan"],
      observations: {
        pypi: { project: "tool", normalized_name: "tool", release: { version: "1.0.0", files }, versions: [] },
      } as unknown as GatherContext["observations"],
    });
    const gathered = await pypiProvenance.gather(ctx, new Map());
    assert.equal(server.peak(), 2, server.urls.join("\n"));
    assert.deepEqual(
      gathered.items.map((i) => i.subject),
      files.map((f) => f.filename),
    );
  });
});
