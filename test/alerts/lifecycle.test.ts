import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import {
  advanceIncidents,
  channelHealth,
  evaluateDegraded,
  reportHealth,
  isSilenced,
  type LifecyclePolicy,
  type WatchedProject,
} from "../../src/alerts/lifecycle.ts";
import type { Incident } from "../../src/alerts/types.ts";
import type { ChannelId } from "../../src/channels.ts";
import type { Finding, Status } from "../../src/drift/types.ts";
import { REPORT_SCHEMA, type ChannelReport, type Report } from "../../src/report/types.ts";
import type { Silence } from "../../src/state/types.ts";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
const POLICY: LifecyclePolicy = { flap_cycles: 2, remind_every_ms: 4 * HOUR };

const missing = (v = "0.8.0"): Finding => ({
  code: "version-missing",
  severity: "drift",
  message: `npm has no version ${v}`,
  expected: v,
});
const missingInGrace: Finding = { ...missing(), severity: "pending", in_grace: true };
const probeFailed: Finding = {
  code: "probe-failed",
  severity: "unknown",
  message: "HTTP 503",
  actual: "E_HTTP_STATUS",
};

type ChannelSpec = Status | { status: Status; findings: Finding[] };

/** A report whose channels are given as status (ok/unknown/skipped with canonical findings) or explicitly. */
function report(tag: string, channels: Partial<Record<ChannelId, ChannelSpec>>, project = "plasmite"): Report {
  const chs: ChannelReport[] = Object.entries(channels).map(([channel, spec]) => {
    const s: { status: Status; findings: Finding[] } =
      typeof spec === "string"
        ? { status: spec, findings: spec === "unknown" ? [probeFailed] : spec === "drift" ? [missing()] : [] }
        : spec;
    return {
      channel: channel as ChannelId,
      status: s.status,
      observed: null,
      findings: s.findings,
      evidence: [{ url: `https://${channel}.example/${project}`, status: 200, method: "GET", at: "x", duration_ms: 1 }],
      duration_ms: 1,
    };
  });
  return {
    schema: REPORT_SCHEMA,
    project,
    repo: `acme/${project}`,
    tag,
    version: tag.slice(1),
    checked_at: new Date(T0).toISOString(),
    status: "ok",
    published_at: null,
    channels: chs,
    duration_ms: 1,
  };
}

const silence = (over: Partial<Silence> = {}): Silence => ({
  id: 1,
  project: "plasmite",
  channel: null,
  until: new Date(T0 + 10 * HOUR).toISOString(),
  reason: null,
  created_at: new Date(T0).toISOString(),
  ...over,
});

interface Step {
  /** Minutes after T0. */
  at: number;
  report: Report;
  silences?: Silence[];
  /** Messages expected from this step, as "kind code" (code of the incident), in order. */
  expect: string[];
}

/** Threads incidents through the steps; returns the final incident set. */
function play(steps: Step[], policy: LifecyclePolicy = POLICY): Incident[] {
  let incidents: Incident[] = [];
  steps.forEach((s, i) => {
    const out = advanceIncidents({
      previous: incidents,
      report: s.report,
      silences: s.silences ?? [],
      policy,
      now: new Date(T0 + s.at * MIN),
    });
    assert.deepEqual(
      out.messages.map((m) => `${m.kind} ${m.incident.code}`),
      s.expect,
      `step ${i} (t+${s.at}m)`,
    );
    for (const m of out.messages) {
      const stored = out.incidents.find((x) => x.id === m.incident.id);
      assert.deepEqual(m.incident, stored, "a message carries the incident as stored");
    }
    incidents = out.incidents;
  });
  return incidents;
}

const drift = (tag = "v0.8.0") => report(tag, { github: "ok", npm: "drift" });
const ok = (tag = "v0.8.0") => report(tag, { github: "ok", npm: "ok" });

describe("advanceIncidents", () => {
  const cases: { name: string; steps: Step[]; policy?: LifecyclePolicy; final: Partial<Incident>[] }[] = [
    {
      name: "opens after flap_cycles consecutive sightings, once",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        { at: 2, report: drift(), expect: [] },
        { at: 3, report: drift(), expect: [] },
      ],
      final: [{ state: "open", consecutive: 4, channel: "npm", tag: "v0.8.0", subject: "" }],
    },
    {
      name: "flap_cycles 1 opens at first sight",
      policy: { ...POLICY, flap_cycles: 1 },
      steps: [{ at: 0, report: drift(), expect: ["open version-missing"] }],
      final: [{ state: "open" }],
    },
    {
      name: "a flapping channel never alerts and leaves nothing behind",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: ok(), expect: [] },
        { at: 2, report: drift(), expect: [] },
        { at: 3, report: ok(), expect: [] },
        { at: 4, report: drift(), expect: [] },
        { at: 5, report: ok(), expect: [] },
      ],
      final: [],
    },
    {
      name: "pending findings (inside grace) never count",
      steps: [
        { at: 0, report: report("v0.8.0", { npm: { status: "pending", findings: [missingInGrace] } }), expect: [] },
        { at: 1, report: report("v0.8.0", { npm: { status: "pending", findings: [missingInGrace] } }), expect: [] },
        { at: 2, report: report("v0.8.0", { npm: { status: "pending", findings: [missingInGrace] } }), expect: [] },
      ],
      final: [],
    },
    {
      name: "reminds every remind_every while open, never once per cycle",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        { at: 60, report: drift(), expect: [] },
        { at: 240, report: drift(), expect: [] },
        { at: 241, report: drift(), expect: ["remind version-missing"] },
        { at: 300, report: drift(), expect: [] },
        { at: 480, report: drift(), expect: [] },
        { at: 481, report: drift(), expect: ["remind version-missing"] },
      ],
      final: [{ state: "open", last_notified_at: new Date(T0 + 481 * MIN).toISOString() }],
    },
    {
      name: "resolves when the finding is gone from a known channel",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        { at: 2, report: ok(), expect: ["resolve version-missing"] },
        { at: 3, report: ok(), expect: [] },
      ],
      final: [{ state: "resolved", resolved_at: new Date(T0 + 2 * MIN).toISOString(), consecutive: 0 }],
    },
    {
      name: "a pending channel (finding back inside grace) counts as known: resolves",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        {
          at: 2,
          report: report("v0.8.0", { npm: { status: "pending", findings: [missingInGrace] } }),
          expect: ["resolve version-missing"],
        },
      ],
      final: [{ state: "resolved" }],
    },
    {
      name: "re-appearance after resolve re-opens (after flap_cycles again)",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        { at: 2, report: ok(), expect: ["resolve version-missing"] },
        { at: 3, report: drift(), expect: [] },
        { at: 4, report: drift(), expect: ["reopen version-missing"] },
      ],
      final: [{ state: "open", reopen_count: 1, resolved_at: null }],
    },
    {
      name: "a re-open candidate that clears falls back to resolved without a message",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        { at: 2, report: ok(), expect: ["resolve version-missing"] },
        { at: 3, report: drift(), expect: [] },
        { at: 4, report: ok(), expect: [] },
      ],
      final: [{ state: "resolved", reopen_count: 0 }],
    },
    {
      name: "an unknown channel keeps its incidents exactly as they are (no resolve, no reminder)",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        { at: 2, report: report("v0.8.0", { github: "ok", npm: "unknown" }), expect: [] },
        { at: 600, report: report("v0.8.0", { github: "ok", npm: "unknown" }), expect: [] },
        { at: 601, report: drift(), expect: ["remind version-missing"] },
      ],
      final: [{ state: "open", consecutive: 3 }],
    },
    {
      name: "a candidate on an unknown channel stays a candidate",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: report("v0.8.0", { npm: "unknown" }), expect: [] },
        { at: 2, report: drift(), expect: ["open version-missing"] },
      ],
      final: [{ state: "open" }],
    },
    {
      name: "a newer latest tag resolves the old tag's incidents as superseded",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        { at: 2, report: ok("v0.9.0"), expect: ["resolve version-missing"] },
      ],
      final: [{ state: "resolved", tag: "v0.8.0" }],
    },
    {
      name: "a channel no longer checked resolves its incidents",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        { at: 2, report: report("v0.8.0", { github: "ok", npm: "skipped" }), expect: ["resolve version-missing"] },
      ],
      final: [{ state: "resolved" }],
    },
    {
      name: "silences suppress messages, not state; the opening is announced when the silence ends",
      steps: [
        { at: 0, report: drift(), silences: [silence({ until: new Date(T0 + 30 * MIN).toISOString() })], expect: [] },
        { at: 1, report: drift(), silences: [silence({ until: new Date(T0 + 30 * MIN).toISOString() })], expect: [] },
        { at: 20, report: drift(), silences: [silence({ until: new Date(T0 + 30 * MIN).toISOString() })], expect: [] },
        {
          at: 31,
          report: drift(),
          silences: [silence({ until: new Date(T0 + 30 * MIN).toISOString() })],
          expect: ["open version-missing"],
        },
        { at: 32, report: drift(), expect: [] },
      ],
      final: [
        {
          state: "open",
          opened_at: new Date(T0 + MIN).toISOString(),
          last_notified_at: new Date(T0 + 31 * MIN).toISOString(),
        },
      ],
    },
    {
      name: "an incident opened and resolved inside a silence is never announced",
      steps: [
        { at: 0, report: drift(), silences: [silence()], expect: [] },
        { at: 1, report: drift(), silences: [silence()], expect: [] },
        { at: 2, report: ok(), silences: [silence()], expect: [] },
        { at: 3, report: ok(), expect: [] },
      ],
      final: [{ state: "resolved", last_notified_at: null }],
    },
    {
      name: "a silence on another channel does not mute this one",
      steps: [
        { at: 0, report: drift(), silences: [silence({ channel: "pypi" })], expect: [] },
        { at: 1, report: drift(), silences: [silence({ channel: "pypi" })], expect: ["open version-missing"] },
      ],
      final: [{ state: "open" }],
    },
    {
      name: "reminders are held while silenced and resume after",
      steps: [
        { at: 0, report: drift(), expect: [] },
        { at: 1, report: drift(), expect: ["open version-missing"] },
        { at: 300, report: drift(), silences: [silence({ channel: "npm" })], expect: [] },
        { at: 601, report: drift(), expect: ["remind version-missing"] },
      ],
      final: [{ state: "open" }],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const final = play(c.steps, c.policy);
      assert.equal(final.length, c.final.length, JSON.stringify(final, null, 1));
      c.final.forEach((want, i) => {
        const got = final[i] as unknown as Record<string, unknown>;
        for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `incident ${i}.${k}`);
      });
    });
  }

  it("one incident per (channel, code, subject); evidence and message follow the latest sighting", () => {
    const r = report("v0.8.0", {
      github: {
        status: "drift",
        findings: [
          { code: "asset-missing", severity: "drift", message: "a missing", subject: "a.tar.gz" },
          { code: "asset-missing", severity: "drift", message: "b missing", subject: "b.tar.gz" },
          { code: "asset-missing", severity: "drift", message: "b missing (dup)", subject: "b.tar.gz" },
          { code: "cross-check-skipped", severity: "info", message: "info only" },
        ],
      },
    });
    const out = advanceIncidents({
      previous: [],
      report: r,
      silences: [],
      policy: { ...POLICY, flap_cycles: 1 },
      now: new Date(T0),
    });
    assert.deepEqual(
      out.incidents.map((i) => i.id),
      ["plasmite|v0.8.0|github|asset-missing|a.tar.gz", "plasmite|v0.8.0|github|asset-missing|b.tar.gz"],
    );
    assert.equal(out.messages.length, 2);
    assert.deepEqual(out.incidents[0]?.evidence, ["https://github.example/plasmite"]);
    assert.equal(out.messages[0]?.summary, "plasmite v0.8.0: a missing");
  });

  it("resolutions say why", () => {
    const open = play([
      { at: 0, report: drift(), expect: [] },
      { at: 1, report: drift(), expect: ["open version-missing"] },
    ]);
    const fixed = advanceIncidents({
      previous: open,
      report: ok(),
      silences: [],
      policy: POLICY,
      now: new Date(T0 + 2 * MIN),
    });
    assert.equal(fixed.messages[0]?.resolution, "fixed: npm is now ok");
    const superseded = advanceIncidents({
      previous: open,
      report: ok("v0.9.0"),
      silences: [],
      policy: POLICY,
      now: new Date(T0 + 2 * MIN),
    });
    assert.equal(superseded.messages[0]?.resolution, "superseded by v0.9.0");
  });

  it("is pure: the inputs are not modified", () => {
    const open = play([
      { at: 0, report: drift(), expect: [] },
      { at: 1, report: drift(), expect: ["open version-missing"] },
    ]);
    const before = JSON.stringify(open);
    advanceIncidents({ previous: open, report: ok(), silences: [], policy: POLICY, now: new Date(T0 + 2 * MIN) });
    assert.equal(JSON.stringify(open), before);
  });
});

describe("isSilenced", () => {
  const now = new Date(T0);
  const table: { s: Partial<Silence>; project: string; channel: ChannelId; want: boolean }[] = [
    { s: {}, project: "plasmite", channel: "npm", want: true },
    { s: { channel: "npm" }, project: "plasmite", channel: "npm", want: true },
    { s: { channel: "pypi" }, project: "plasmite", channel: "npm", want: false },
    { s: { project: "other" }, project: "plasmite", channel: "npm", want: false },
    { s: { project: "*" }, project: "plasmite", channel: "npm", want: true },
    { s: { until: new Date(T0).toISOString() }, project: "plasmite", channel: "npm", want: false },
    { s: { until: new Date(T0 - 1).toISOString() }, project: "plasmite", channel: "npm", want: false },
  ];
  for (const t of table) {
    it(`${JSON.stringify(t.s)} on ${t.project}/${t.channel} -> ${t.want}`, () => {
      assert.equal(isSilenced([silence(t.s)], t.project, t.channel, now), t.want);
    });
  }
});

describe("registry degraded", () => {
  const two: WatchedProject[] = [
    { project: "alpha", channels: ["github", "npm"] },
    { project: "beta", channels: ["github", "npm"] },
  ];
  const latestOf = (reports: Report[]) => new Map(reports.map((r) => [r.project, r]));
  const npmDown = (project: string) => report("v1.0.0", { github: "ok", npm: "unknown" }, project);
  const npmUp = (project: string) => report("v1.0.0", { github: "ok", npm: "ok" }, project);

  it("channelHealth: every watched project (>= 2, or the only one) must fail", () => {
    const table: { name: string; watched: WatchedProject[]; reports: Report[]; want: string }[] = [
      { name: "both fail", watched: two, reports: [npmDown("alpha"), npmDown("beta")], want: "degraded" },
      { name: "one of two fails", watched: two, reports: [npmDown("alpha"), npmUp("beta")], want: "clear" },
      { name: "one report missing", watched: two, reports: [npmDown("alpha")], want: "undetermined" },
      { name: "one report missing, other ok", watched: two, reports: [npmUp("alpha")], want: "clear" },
      { name: "the only watched project", watched: [two[0]!], reports: [npmDown("alpha")], want: "degraded" },
      {
        name: "only one of three has the channel",
        watched: [
          { project: "alpha", channels: ["npm"] },
          { project: "beta", channels: ["crates"] },
          { project: "gamma", channels: ["crates"] },
        ],
        reports: [npmDown("alpha")],
        want: "clear",
      },
      {
        name: "drift is not a probe failure",
        watched: two,
        reports: [report("v1.0.0", { npm: "drift" }, "alpha"), npmDown("beta")],
        want: "clear",
      },
    ];
    for (const t of table) {
      assert.equal(channelHealth("npm", t.watched, latestOf(t.reports)).state, t.want, t.name);
      // The daemon keeps only reportHealth of each report: the same answers, failures included.
      const slim = new Map(t.reports.map((r) => [r.project, reportHealth(r)]));
      assert.deepEqual(channelHealth("npm", t.watched, slim), channelHealth("npm", t.watched, latestOf(t.reports)));
    }
  });

  it("reportHealth keeps each channel's verdict and probe failure, and nothing else of the report", () => {
    const r = npmDown("alpha");
    const health = reportHealth(r);
    assert.deepEqual(
      health.channels.map((c) => ({ ...c })),
      r.channels.map((c) => ({
        channel: c.channel,
        status: c.status,
        findings: c.findings
          .filter((f) => f.code === "probe-failed")
          .map((f) => (f.actual === undefined ? { code: f.code } : { code: f.code, actual: f.actual })),
      })),
    );
    assert.ok(
      health.channels.some((c) => c.findings.length === 1),
      "the probe failure is kept",
    );
    assert.deepEqual(Object.keys(health), ["channels"]);
    for (const c of health.channels) assert.deepEqual(Object.keys(c), ["channel", "status", "findings"]);
  });

  it("channelHealth reads only up to the first project whose probe succeeded (asked at every cycle commit)", () => {
    const many: WatchedProject[] = Array.from({ length: 1000 }, (_, i) => ({ project: `p${i}`, channels: ["npm"] }));
    const latest = latestOf(many.map((w) => npmUp(w.project)));
    let read = 0;
    const counted = new Proxy(many, {
      get(target, key, receiver) {
        if (typeof key === "string" && /^\d+$/.test(key)) read++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    assert.equal(channelHealth("npm", counted, latest).state, "clear");
    assert.ok(read <= 2, `${read} of ${many.length} watched projects read`);
  });

  it("gives ONE degraded notice for all projects (after flap_cycles), then ONE recovered", () => {
    let incidents: Incident[] = [];
    const step = (minutes: number, reports: Report[]) => {
      const out = evaluateDegraded({
        previous: incidents,
        watched: two,
        latest: latestOf(reports),
        silences: [],
        policy: POLICY,
        now: new Date(T0 + minutes * MIN),
      });
      incidents = out.incidents;
      return out.messages.map((m) => `${m.kind} ${m.incident.channel}`);
    };
    assert.deepEqual(step(0, [npmDown("alpha"), npmUp("beta")]), []);
    assert.deepEqual(step(1, [npmDown("alpha"), npmDown("beta")]), []);
    assert.deepEqual(step(2, [npmDown("alpha"), npmDown("beta")]), ["degraded npm"]);
    for (let m = 3; m < 600; m += 60)
      assert.deepEqual(step(m, [npmDown("alpha"), npmDown("beta")]), [], "no reminders");
    const open = incidents.find((i) => i.state === "open");
    assert.equal(open?.id, "*|*|npm|registry-degraded|");
    assert.match(open?.message ?? "", /npm probe failed for all 2 watched projects \(E_HTTP_STATUS\)/);
    assert.deepEqual(step(700, [npmUp("alpha"), npmDown("beta")]), ["recovered npm"]);
    assert.deepEqual(step(701, [npmUp("alpha"), npmUp("beta")]), []);
    assert.equal(incidents[0]?.state, "resolved");
  });

  it("a single failing cycle (flap) gives nothing, and an undetermined state keeps the incident", () => {
    let incidents: Incident[] = [];
    const step = (minutes: number, reports: Report[]) => {
      const out = evaluateDegraded({
        previous: incidents,
        watched: two,
        latest: latestOf(reports),
        silences: [],
        policy: POLICY,
        now: new Date(T0 + minutes * MIN),
      });
      incidents = out.incidents;
      return out.messages.map((m) => m.kind);
    };
    assert.deepEqual(step(0, [npmDown("alpha"), npmDown("beta")]), []);
    assert.deepEqual(step(1, [npmUp("alpha"), npmDown("beta")]), []);
    assert.equal(incidents.length, 0, "a cleared candidate is forgotten");
    step(2, [npmDown("alpha"), npmDown("beta")]);
    assert.deepEqual(step(3, [npmDown("alpha"), npmDown("beta")]), ["degraded"]);
    assert.deepEqual(step(4, [npmDown("alpha")]), [], "beta has no report: cannot tell");
    assert.equal(incidents[0]?.state, "open");
  });

  it("a silence on * mutes the notice", () => {
    const s = [silence({ project: "*" })];
    let incidents: Incident[] = [];
    for (let m = 0; m < 3; m++) {
      const out = evaluateDegraded({
        previous: incidents,
        watched: two,
        latest: latestOf([npmDown("alpha"), npmDown("beta")]),
        silences: s,
        policy: POLICY,
        now: new Date(T0 + m * MIN),
      });
      assert.deepEqual(out.messages, []);
      incidents = out.incidents;
    }
    assert.equal(incidents[0]?.state, "open");
  });
});

describe("provenance findings", () => {
  const downgrade: Finding = {
    code: "provenance-downgrade",
    severity: "warning",
    message: "npm 0.8.0 lost provenance and trusted publisher that 0.7.2 had",
    subject: "0.8.0",
  };
  const missingWarn: Finding = {
    code: "provenance-missing",
    severity: "warning",
    message: "no attestation for plasmite@0.8.0",
    subject: "plasmite@0.8.0",
  };
  const workflowDrift: Finding = {
    code: "provenance-workflow-mismatch",
    severity: "drift",
    message: "built by nightly.yml",
    subject: "plasmite_0.8.0_linux_amd64.tar.gz",
  };
  const once: LifecyclePolicy = { flap_cycles: 1, remind_every_ms: 4 * HOUR };

  it("a provenance-downgrade under warn opens an incident (severity in the summary); other warnings do not", () => {
    const r = report("v0.8.0", { npm: { status: "ok", findings: [missingWarn, downgrade] } });
    const out = advanceIncidents({ previous: [], report: r, silences: [], policy: once, now: new Date(T0) });
    assert.deepEqual(
      out.incidents.map((i) => [i.code, i.state, i.severity]),
      [["provenance-downgrade", "open", "warning"]],
    );
    assert.equal(out.messages.length, 1);
    assert.equal(out.messages[0]?.kind, "open");
    assert.match(out.messages[0]?.summary ?? "", /lost provenance .* \(severity: warning\)$/);
  });

  it("under required, provenance findings are drift and open incidents like any finding, without a severity note", () => {
    const r = report("v0.8.0", { github: { status: "drift", findings: [workflowDrift] } });
    const out = advanceIncidents({ previous: [], report: r, silences: [], policy: once, now: new Date(T0) });
    assert.deepEqual(
      out.incidents.map((i) => [i.code, i.state, i.severity]),
      [["provenance-workflow-mismatch", "open", undefined]],
    );
    assert.doesNotMatch(out.messages[0]?.summary ?? "", /severity/);
  });

  it("the downgrade incident resolves once the finding is gone from a checked channel", () => {
    const first = advanceIncidents({
      previous: [],
      report: report("v0.8.0", { npm: { status: "ok", findings: [downgrade] } }),
      silences: [],
      policy: once,
      now: new Date(T0),
    });
    const second = advanceIncidents({
      previous: first.incidents,
      report: report("v0.8.0", { npm: "ok" }),
      silences: [],
      policy: once,
      now: new Date(T0 + MIN),
    });
    assert.deepEqual(
      second.messages.map((m) => m.kind),
      ["resolve"],
    );
    assert.equal(second.incidents[0]?.state, "resolved");
  });
});
