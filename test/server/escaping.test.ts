import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { DEFAULT_REGISTRY } from "../../src/channels/registry.ts";
import { badgeContent, renderBadge, textWidth } from "../../src/server/badge.ts";
import { formatSpan } from "../../src/server/format.ts";
import { escapeHtml, markup, safeHref } from "../../src/server/html.ts";
import { parseListen, parsePath } from "../../src/server/index.ts";
import { projectPage, statusPage } from "../../src/server/pages.ts";
import { projectDetail, statusSnapshot, type ViewDeps } from "../../src/server/view.ts";
import { get, serve, type Served } from "./fixture.ts";

const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;

interface Tag {
  name: string;
  attrs: [string, string][];
}

/** The tags of a generated page, with their attributes (quoted values read whole, so escaped text stays text). */
function tagsOf(markup: string): Tag[] {
  const tags: Tag[] = [];
  const re = /<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*\/?>/g;
  for (const m of markup.matchAll(re)) {
    const attrs: [string, string][] = [];
    for (const a of (m[2] ?? "").matchAll(/([^\s=>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?/g)) {
      attrs.push([(a[1] ?? "").toLowerCase(), (a[2] ?? "").replace(/^["']|["']$/g, "")]);
    }
    tags.push({ name: (m[1] ?? "").toLowerCase(), attrs });
  }
  return tags;
}

/** Nothing a hostile string could have injected: no script or embedding element, no handler, no javascript: link. */
function assertInert(page: string, what: string): void {
  assert.ok(!page.includes(HOSTILE), `${what}: the raw hostile string`);
  const tags = tagsOf(page);
  assert.ok(tags.length > 5, `${what}: the scanner found the page's tags`);
  for (const t of tags) {
    assert.ok(
      !["script", "img", "iframe", "object", "embed", "link", "base", "form"].includes(t.name),
      `${what}: <${t.name}>`,
    );
    for (const [name, value] of t.attrs) {
      assert.ok(!name.startsWith("on"), `${what}: <${t.name} ${name}=…>`);
      if (name === "href" || name === "src") assert.match(value, /^(https?:\/\/|\/)/, `${what}: ${name}="${value}"`);
    }
  }
}

describe("escaping: upstream strings never become markup", () => {
  let s: Served;
  before(async () => {
    // A crates.io yank message is upstream text that flows into a finding, an incident and the page.
    s = await serve({ scenario: "partial", prepare: (sim) => sim.world.yank("crates", "plasmite", "0.8.0", HOSTILE) });
    await s.daemon.runCycleNow("plasmite");
  });
  after(async () => {
    await s?.close();
  });

  it("a hostile yank message is shown as text on the status page and the project page", async () => {
    const incident = (await s.store.openIncidents()).find((i) => i.code === "yanked");
    assert.ok(incident?.message.includes(HOSTILE), "the hostile text reached the incident");
    for (const path of ["/", "/projects/plasmite"]) {
      const page = (await get(`${s.url}${path}`)).text;
      assertInert(page, path);
      assert.ok(page.includes(escapeHtml(HOSTILE)), `${path}: shown escaped`);
    }
    const api = await get(`${s.url}/api/v1/status`);
    assert.match(api.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(api.headers.get("x-content-type-options"), "nosniff");
  });

  it("every upstream field of a snapshot, made hostile, renders inert", async () => {
    const deps: ViewDeps = {
      daemon: s.daemon,
      store: s.store,
      loaded: s.loaded,
      now: () => new Date(),
      registry: DEFAULT_REGISTRY,
    };
    const snap = structuredClone(await statusSnapshot(deps));
    const p = snap.projects[0]!;
    p.repo = HOSTILE;
    p.last_error = HOSTILE;
    const report = p.report!;
    report.tag = HOSTILE;
    report.repo = HOSTILE;
    for (const ch of report.channels) {
      ch.observed = { note: HOSTILE };
      ch.evidence = [
        { url: "javascript:alert(1)", status: 200, method: "GET", at: report.checked_at, duration_ms: 1 },
        {
          url: `http://h.example/a"onmouseover="alert(3)`,
          status: null,
          method: HOSTILE,
          at: report.checked_at,
          duration_ms: 1,
          error: HOSTILE,
        },
      ];
      ch.findings = [
        {
          code: "version-missing",
          severity: "drift",
          message: HOSTILE,
          subject: HOSTILE,
          expected: HOSTILE,
          actual: HOSTILE,
        },
      ];
    }
    for (const i of p.open_incidents) {
      i.message = HOSTILE;
      i.tag = HOSTILE;
      i.subject = HOSTILE;
      i.expected = HOSTILE;
      i.actual = HOSTILE;
      i.evidence = ["javascript:alert(1)", `data:text/html,${HOSTILE}`, `http://h.example/x?q=${HOSTILE}`];
    }
    for (const r of p.releases) r.tag = HOSTILE;
    const page = statusPage(snap);
    assertInert(page, "status page");
    assert.match(page, /<span>javascript:alert\(1\)<\/span>/, "a javascript: URL is text, not a link");
    assert.match(page, /<a href="http:\/\/h\.example\/x" rel=/, "query strings are dropped from links");

    const detail = structuredClone((await projectDetail(deps, "plasmite"))!);
    detail.project = p;
    for (const i of detail.incidents) {
      i.message = HOSTILE;
      i.evidence = ["javascript:alert(1)"];
    }
    for (const h of detail.channel_history) h.at = HOSTILE;
    for (const c of detail.cycles) c.error = HOSTILE;
    const project = projectPage(detail);
    assertInert(project, "project page");
    assert.ok(project.includes(`&quot;note&quot;: &quot;\\&quot;&gt;&lt;script&gt;`), "observed JSON escaped");
  });
});

describe("server helpers", () => {
  it("markup`` escapes values and nests fragments", () => {
    assert.equal(markup`<p>${"<b>&'\""}</p>`.value, "<p>&lt;b&gt;&amp;&#39;&quot;</p>");
    assert.equal(markup`<ul>${["a<", markup`<li>x</li>`]}</ul>`.value, "<ul>a&lt;<li>x</li></ul>");
    assert.equal(markup`${null}${undefined}${false}${3}`.value, "3");
  });

  it("safeHref keeps plain web URLs only, without credentials or query", () => {
    assert.equal(safeHref("https://u:p@h.example/a?token=x#f"), "https://h.example/a");
    assert.equal(safeHref("javascript:alert(1)"), null);
    assert.equal(safeHref("data:text/html,x"), null);
    assert.equal(safeHref("not a url"), null);
  });

  it("badges: colour and text per status, escaped, widths that grow with the text", () => {
    const base = {
      schema: "release-monitor/report@1",
      project: "p",
      repo: "o/p",
      tag: "v0.8.0",
      version: "0.8.0",
      checked_at: "2026-01-01T00:00:00Z",
      published_at: null,
      duration_ms: 1,
    } as const;
    const ch = (channel: "npm" | "pypi" | "github", status: "ok" | "drift" | "pending" | "unknown") => ({
      channel,
      status,
      observed: null,
      findings: [],
      evidence: [],
      duration_ms: 1,
    });
    assert.deepEqual(badgeContent({ ...base, status: "ok", channels: [ch("github", "ok")] }), {
      label: "release v0.8.0",
      message: "in sync",
      color: "#4c1",
    });
    assert.deepEqual(
      badgeContent({
        ...base,
        status: "drift",
        channels: [ch("github", "ok"), ch("npm", "drift"), ch("pypi", "drift")],
      }),
      { label: "release v0.8.0", message: "drift: npm, pypi", color: "#e05d44" },
    );
    assert.equal(badgeContent({ ...base, status: "pending", channels: [ch("npm", "pending")] }).color, "#dfb317");
    assert.deepEqual(badgeContent({ ...base, status: "unknown", channels: [ch("npm", "unknown")] }), {
      label: "release v0.8.0",
      message: "unknown",
      color: "#9f9f9f",
    });
    assert.deepEqual(badgeContent(null), { label: "release", message: "unknown", color: "#9f9f9f" });
    const svg = renderBadge({ label: `release ${HOSTILE}`, message: "in sync", color: "#4c1" });
    assertInert(svg, "badge");
    assert.ok(textWidth("drift: npm, pypi, homebrew") > textWidth("in sync"));
    assert.ok(textWidth("mmmm") > textWidth("iiii"));
  });

  it("parsePath decodes segments and refuses malformed escapes; parseListen reads host:port", () => {
    assert.deepEqual(parsePath("/"), []);
    assert.deepEqual(parsePath("/projects/a%2Fb/?x=1"), ["projects", "a/b"]);
    assert.equal(parsePath("/%E0%A4%A"), null);
    assert.equal(parsePath("http://evil/"), null);
    assert.deepEqual(parseListen("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080 });
    assert.deepEqual(parseListen("[::1]:0"), { host: "::1", port: 0 });
    assert.deepEqual(parseListen(":9000"), { host: undefined, port: 9000 });
    assert.throws(() => parseListen("localhost"), /host:port/);
    assert.throws(() => parseListen("h:70000"), /host:port/);
  });

  it("formatSpan", () => {
    assert.deepEqual([0, 59_000, 60_000, 3_600_000, 3_660_000, 49 * 3_600_000, -5].map(formatSpan), [
      "0s",
      "59s",
      "1m",
      "1h 00m",
      "1h 01m",
      "2d 1h",
      "0s",
    ]);
  });
});
