import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import {
  annotationsFor,
  escapeData,
  escapeProperty,
  formatAnnotation,
  formatOutputs,
} from "../../src/report/github-actions.ts";
import { REPORT_SCHEMA, type Report } from "../../src/report/types.ts";

function report(): Report {
  return {
    schema: REPORT_SCHEMA,
    project: "plasmite",
    repo: "sandover/plasmite",
    tag: "v0.8.0",
    version: "0.8.0",
    checked_at: "2026-01-01T00:00:00Z",
    status: "drift",
    published_at: null,
    duration_ms: 1,
    channels: [
      {
        channel: "homebrew",
        status: "drift",
        observed: null,
        evidence: [],
        duration_ms: 1,
        findings: [
          {
            code: "formula-version-mismatch",
            severity: "drift",
            message: "formula is 0.7.2, 100% stale\r\nsecond line",
            expected: "0.8.0",
            actual: "0.7.2",
          },
        ],
      },
      {
        channel: "npm",
        status: "pending",
        observed: null,
        evidence: [],
        duration_ms: 1,
        findings: [{ code: "version-missing", severity: "pending", message: "not yet", in_grace: true }],
      },
    ],
  };
}

describe("GitHub Actions workflow commands", () => {
  it("escapes %, CR and LF in data, and also : and , in properties", () => {
    assert.equal(escapeData("100%\r\nx"), "100%25%0D%0Ax");
    assert.equal(escapeProperty("a: b, c%\n"), "a%3A b%2C c%25%0A");
  });

  it("one annotation per finding, level by severity, with title and message", () => {
    const lines = annotationsFor([report()]).map(formatAnnotation);
    assert.deepEqual(lines, [
      "::error title=plasmite v0.8.0 homebrew%3A formula-version-mismatch::formula is 0.7.2, 100%25 stale%0D%0Asecond line%0Aexpected: 0.8.0%0Aactual: 0.7.2",
      "::warning title=plasmite v0.8.0 npm%3A version-missing::not yet",
    ]);
  });

  it("outputs: name=value, and a heredoc with a fresh delimiter for multi-line values", () => {
    assert.equal(formatOutputs({ status: "ok", report: "/tmp/r.json" }), "status=ok\nreport=/tmp/r.json\n");
    const text = formatOutputs({ x: "a\nb" });
    const m = /^x<<(ghadelimiter_[0-9a-f]+)\na\nb\n(.+)\n$/.exec(text);
    assert.ok(m, text);
    assert.equal(m[1], m[2]);
  });
});
