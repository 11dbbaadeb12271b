import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CHANNELS } from "../../src/channels.ts";
import { jsonReporter } from "../../src/report/json.ts";
import { REPORTERS } from "../../src/report/registry.ts";
import { REPORT_SCHEMA, type Report } from "../../src/report/types.ts";
import { at, cleanResults, evidence, failed, npm, ok, report } from "../drift/builders.ts";

describe("json reporter", () => {
  const r = report(
    cleanResults({
      npm: ok<"npm">(
        npm((o) => {
          o.version_doc = null;
          o.versions = [];
        }),
        [evidence("https://npm-registry.example/plasmite/0.8.0", 404)],
      ),
      crates: failed("crates"),
    }),
    at(3),
  );

  it("one report renders as one report@1 object", () => {
    const out = jsonReporter.render([r], { color: true });
    assert.equal(out, JSON.stringify(r, null, 2));
    const parsed = JSON.parse(out) as Report;
    assert.equal(parsed.schema, REPORT_SCHEMA);
    assert.equal(parsed.project, "plasmite");
    assert.equal(parsed.tag, "v0.8.0");
    assert.equal(parsed.version, "0.8.0");
    assert.equal(parsed.checked_at, "2026-07-29T02:23:00.000Z");
    assert.equal(parsed.status, "unknown");
    assert.equal(parsed.published_at, "2026-07-29T02:20:00Z");
    assert.deepEqual(
      parsed.channels.map((c) => c.channel),
      [...CHANNELS],
    );
    for (const c of parsed.channels) {
      assert.ok("status" in c && "observed" in c && Array.isArray(c.findings) && Array.isArray(c.evidence));
    }
    const npmChannel = parsed.channels.find((c) => c.channel === "npm")!;
    assert.equal(npmChannel.status, "pending");
    assert.equal(npmChannel.grace_until, "2026-07-29T02:35:00.000Z");
    assert.equal(npmChannel.findings[0]!.code, "version-missing");
    assert.equal(npmChannel.findings[0]!.in_grace, true);
    assert.equal(npmChannel.evidence[0]!.status, 404);
    assert.equal((npmChannel.observed as { version_present: boolean }).version_present, false);
    const cratesChannel = parsed.channels.find((c) => c.channel === "crates")!;
    assert.equal(cratesChannel.observed, null);
    assert.equal(cratesChannel.findings[0]!.code, "probe-failed");
  });

  it("several reports render as an array", () => {
    const parsed = JSON.parse(jsonReporter.render([r, r], { color: false })) as Report[];
    assert.ok(Array.isArray(parsed));
    assert.equal(parsed.length, 2);
  });
});

describe("reporter registry", () => {
  it("maps each id to its reporter", () => {
    assert.deepEqual(Object.keys(REPORTERS).sort(), ["json", "markdown", "text"]);
    for (const [id, reporter] of Object.entries(REPORTERS)) assert.equal(reporter.id, id);
  });
});
