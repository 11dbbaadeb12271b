import type { Incident } from "../alerts/types.ts";
import { DEFAULT_REGISTRY, type ChannelId, type ChannelRegistry } from "../channels/registry.ts";
import type { Finding, Status } from "../drift/types.ts";
import type { Evidence } from "../http/evidence.ts";
import { provenanceLine } from "../report/provenance.ts";
import { channelSummary } from "../report/text.ts";
import type { ChannelReport, ProvenanceChannelReport, Report } from "../report/types.ts";
import type { ChannelState, ChannelTransition, CycleRecord } from "../state/types.ts";
import { formatSpan, relative, spanMs, utc } from "./format.ts";
import { externalLink, markup, trusted, type SafeHtml } from "./html.ts";
import type { ProjectDetail, ProjectSummary, StatusSnapshot, TimelineRelease } from "./view.ts";

/**
 * Server-rendered pages: no JavaScript, no external resources (inline CSS only), readable on a phone (tables turn
 * into stacked cards below 640 px). Every status has a colour and a text label.
 */

export const REFRESH_SECONDS = 30;

const CSS = `
:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--card:#f6f8fa;--line:#d1d9e0;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#151b23;--line:#3d444d;--link:#4493f8}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:16px}
a{color:var(--link)}
h1{font-size:1.5rem;margin:0 0 4px}
h2{font-size:1.15rem;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:1rem;margin:0 0 6px}
.meta,.sub{color:var(--muted);font-size:.85rem}
.sub{display:block}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--card);border:1px solid var(--line);padding:8px;overflow:auto;max-height:420px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
.st{display:inline-block;min-width:4.6em;text-align:center;padding:1px 8px;border-radius:10px;font-weight:600;font-size:.8rem;border:1px solid transparent}
.st-ok{background:#1f883d;color:#fff}
.st-pending{background:#eac54f;color:#1f2328}
.st-drift{background:#cf222e;color:#fff}
.st-unknown{background:#6e7781;color:#fff}
.st-skipped{background:transparent;color:var(--muted);border-color:var(--line)}
.st-open{background:#cf222e;color:#fff}
.st-candidate{background:#eac54f;color:#1f2328}
.st-resolved{background:#1f883d;color:#fff}
.st-warning{background:#bc4c00;color:#fff}
ul.prov{list-style:none;margin:4px 0 0;padding:0}
ul.prov li{margin:2px 0;font-size:.85rem;overflow-wrap:anywhere}
ul.prov code{font-size:.75rem}
.na{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:10px 0}
.incident{border-left:4px solid #cf222e}
.msg{margin:6px 0;font-weight:500;overflow-wrap:anywhere}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;overflow-wrap:anywhere}
.evidence a,.evidence span{overflow-wrap:anywhere}
.evidence ul{margin:2px 0 0;padding-left:18px}
.evidence li{margin:1px 0;font-size:.9rem}
details{margin:4px 0}
summary{cursor:pointer;color:var(--muted)}
.bar{display:block;height:4px;background:#1f883d;border-radius:2px;margin-top:3px}
.bar.ub{background:repeating-linear-gradient(90deg,#1f883d 0 4px,transparent 4px 6px)}
footer{max-width:1200px;margin:24px auto;padding:0 16px;color:var(--muted);font-size:.85rem}
@media (max-width:640px){
 main{padding:10px}
 table.stack thead{display:none}
 table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
 table.stack tr{background:var(--card);border:1px solid var(--line);border-radius:6px;margin:0 0 10px;padding:4px 8px}
 table.stack td{border:0;border-bottom:1px dashed var(--line);padding:6px 0;display:flex;gap:10px;justify-content:space-between;align-items:flex-start}
 table.stack td:last-child{border-bottom:0}
 table.stack td::before{content:attr(data-label);font-weight:600;color:var(--muted);flex:0 0 6.5em}
 table.stack td>div{text-align:right}
 table.stack td>div.msg{text-align:left}
}
`;

export function page(title: string, body: SafeHtml, options: { refresh?: boolean } = {}): string {
  const refresh = options.refresh ? trusted(`<meta http-equiv="refresh" content="${REFRESH_SECONDS}">\n`) : "";
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh}<title>${title}</title>
<style>${trusted(CSS)}</style>
</head>
<body>
<main>
${body}
</main>
<footer>release-monitor · <a href="/">status</a> · <a href="/api/v1/status">JSON</a> · <a href="/metrics">metrics</a></footer>
</body>
</html>
`.value;
}

export function pill(status: Status | null, label?: string): SafeHtml {
  const s = status ?? "unknown";
  return markup`<span class="st st-${s}">${label ?? s}</span>`;
}

function projectHref(name: string): string {
  return `/projects/${encodeURIComponent(name)}`;
}

function when(iso: string | null | undefined, now: Date, never = "never"): SafeHtml {
  if (!iso) return markup`<span class="na">${never}</span>`;
  return markup`<time datetime="${iso}" title="${utc(iso)}">${relative(iso, now, never)}</time>`;
}

function sub(content: unknown): SafeHtml {
  return markup`<span class="sub">${content}</span>`;
}

/** A table cell that becomes a labelled row of a card on narrow screens. */
function cell(label: string, content: unknown, className?: string): SafeHtml {
  const cls = className ? markup` class="${className}"` : "";
  return markup`<td data-label="${label}"${cls}><div>${content}</div></td>`;
}

// ------------------------------------------------------------------ status page

export function statusPage(s: StatusSnapshot, registry: ChannelRegistry = DEFAULT_REGISTRY): string {
  const now = new Date(s.generated_at);
  const columns = unionChannels(s.projects, registry);
  const head = (c: ChannelId): string => columnLabel(c, registry);
  const open = s.projects.flatMap((p) => p.open_incidents.map((i) => ({ p, i })));
  const count = open.length + s.degraded.length;
  const plural = s.projects.length === 1 ? "" : "s";
  const header = markup`<header>
<h1>Release status</h1>
<p class="meta">${s.projects.length} project${plural} · updated ${utc(s.generated_at)} · last successful cycle ${when(s.daemon.last_successful_cycle_at, now)} · refreshes every ${REFRESH_SECONDS}s${s.daemon.running ? "" : markup` · <strong>scheduler not running</strong>`}</p>
</header>`;
  const matrix = markup`<section aria-labelledby="matrix">
<h2 id="matrix">Latest releases</h2>
<table class="stack matrix">
<thead><tr><th>Project</th><th>Release</th><th>Overall</th>${columns.map((c) => markup`<th>${head(c)}</th>`)}<th>Provenance</th><th>Checks</th></tr></thead>
<tbody>
${s.projects.map((p) => matrixRow(p, columns, now, registry))}
</tbody>
</table>
</section>`;
  const incidents = markup`<section aria-labelledby="incidents">
<h2 id="incidents">Open incidents (${count})</h2>
${count === 0 ? markup`<p class="na">No open incidents.</p>` : ""}
${s.degraded.map((i) => incidentCard(i, null, now))}
${open.map(({ p, i }) => incidentCard(i, p, now))}
</section>`;
  const timelines = s.projects.map(
    (p) =>
      markup`<h3><a href="${projectHref(p.project)}">${p.project}</a></h3>
${timelineTable(p.releases, p.channels_configured, now, registry)}`,
  );
  const timeline = markup`<section aria-labelledby="timeline">
<h2 id="timeline">Recent releases: propagation</h2>
<p class="meta">Delay from the GitHub release's publication to the first check that saw each channel live. “≤” marks channels already live at their first check (an upper bound).</p>
${timelines}
</section>`;
  return page("Release status", markup`${header}\n${matrix}\n${incidents}\n${timeline}`, { refresh: true });
}

/** The channels any project configures, in registry order: one column each. */
function unionChannels(projects: readonly ProjectSummary[], registry: ChannelRegistry): ChannelId[] {
  const used = new Set<string>(projects.flatMap((p) => p.channels_configured));
  return registry.ids.filter((c) => used.has(c)) as ChannelId[];
}

/** The channel's column header (its own piece); an id the registry does not know shows as itself. */
function columnLabel(channel: string, registry: ChannelRegistry): string {
  return registry.get(channel)?.statusColumn ?? channel;
}

function matrixRow(p: ProjectSummary, columns: readonly ChannelId[], now: Date, registry: ChannelRegistry): SafeHtml {
  const report = p.report;
  const project = markup`<a href="${projectHref(p.project)}"><strong>${p.project}</strong></a>${sub(p.repo)}`;
  const release = report
    ? markup`<strong>${report.tag}</strong>${sub(markup`published ${when(report.published_at, now, "unknown")}`)}`
    : markup`<span class="na">no release checked yet</span>`;
  const overall = markup`${pill(report ? report.status : "unknown")}${p.running ? sub("checking…") : ""}`;
  const checks = markup`<span>last ${when(p.last_check_at, now)}</span>${sub(markup`next ${when(p.next_check_at, now, "not scheduled")}`)}${p.last_error ? sub(`last error: ${p.last_error}`) : ""}`;
  return markup`<tr>
${cell("Project", project)}
${cell("Release", release)}
${cell("Overall", overall)}
${columns.map((c) => cell(columnLabel(c, registry), channelCell(p, c, now), `cell-${c}`))}
${cell("Provenance", provenanceCell(p), "cell-provenance")}
${cell("Checks", checks)}
</tr>`;
}

function channelCell(p: ProjectSummary, channel: ChannelId, now: Date): SafeHtml {
  if (!p.channels_configured.includes(channel)) return markup`<span class="na" title="not configured">—</span>`;
  const ch = p.report?.channels.find((c) => c.channel === channel);
  if (!ch) return markup`${pill("unknown")}${sub("not checked yet")}`;
  const state = p.channel_states.find((s) => s.channel === channel);
  return markup`${pill(ch.status)}${stateNote(ch, state, now)}`;
}

/**
 * The provenance column: the block's verdict, then one line per channel (who built it, from which commit, whether
 * the signature verified) with the codes of its provenance findings. Statuses are the provenance verdict whatever
 * the policy; findings under `warn` are marked as warnings.
 */
function provenanceCell(p: ProjectSummary): SafeHtml {
  const block = p.provenance;
  if (!p.report) return markup`<span class="na">not checked yet</span>`;
  if (!block) return markup`<span class="na" title="no provenance checks in this report">—</span>`;
  const rows = block.channels.map((c) => provenanceItem(c));
  return markup`${pill(block.status)}<ul class="prov">${rows}</ul>`;
}

function provenanceItem(c: ProvenanceChannelReport): SafeHtml {
  const codes = c.findings.map(
    (f) =>
      markup` <code title="${f.severity}: ${f.message}">${f.code}${f.severity === "warning" ? " (warning)" : ""}</code>`,
  );
  return markup`<li data-channel="${c.channel}" data-status="${c.status}"><strong>${c.channel}</strong> <span class="prov-line">${provenanceLine(c)}</span>${codes}</li>`;
}

function stateNote(ch: ChannelReport, state: ChannelState | undefined, now: Date): SafeHtml {
  const notes: SafeHtml[] = [];
  if (ch.status === "ok" && state?.live_at) {
    const live = formatSpan(spanMs(state.live_at, now) ?? 0);
    notes.push(markup`<span class="sub" title="live since ${utc(state.live_at)}">live for ${live}</span>`);
  } else if (ch.status !== "ok" && state) {
    const since = formatSpan(spanMs(state.since, now) ?? 0);
    notes.push(markup`<span class="sub" title="${ch.status} since ${utc(state.since)}">for ${since}</span>`);
  }
  if (ch.grace_until) notes.push(sub(`grace until ${utc(ch.grace_until)}`));
  return markup`${notes}`;
}

function incidentPill(i: Incident, p: ProjectSummary | null): SafeHtml {
  return i.severity === "warning" ? markup`<span class="st st-warning">warning</span>` : pill(incidentStatus(i, p));
}

function incidentStatus(i: Incident, p: ProjectSummary | null): Status {
  const current = p?.report?.channels.find((c) => c.channel === i.channel)?.status;
  if (current && current !== "ok") return current;
  return i.code === "probe-failed" || i.code === "registry-degraded" ? "unknown" : "drift";
}

function incidentTitle(i: Incident, lead: SafeHtml): SafeHtml {
  const subject = i.subject ? markup` · <code>${i.subject}</code>` : "";
  return markup`${lead} ${i.tag} · <strong>${i.channel}</strong> · <code>${i.code}</code>${subject}`;
}

function incidentCard(i: Incident, p: ProjectSummary | null, now: Date): SafeHtml {
  const who =
    i.project === "*"
      ? markup`<strong>all projects</strong>`
      : markup`<a href="${projectHref(i.project)}">${i.project}</a>`;
  const reopened = i.reopen_count > 0 ? ` · reopened ${i.reopen_count}×` : "";
  return markup`<article class="card incident">
<div>${incidentTitle(i, markup`${incidentPill(i, p)} ${who}`)}
${sub(markup`opened ${when(i.opened_at ?? i.first_seen, now)} · last seen ${when(i.last_seen, now)}${reopened}`)}</div>
<p class="msg">${i.message}</p>
${expectedActual(i.expected, i.actual)}
${evidenceList(i.evidence)}
</article>`;
}

function expectedActual(expected: string | null | undefined, actual: string | null | undefined): SafeHtml {
  if (expected == null && actual == null) return markup``;
  const e = expected != null ? markup`<dt>expected</dt><dd><code>${expected}</code></dd>` : "";
  const a = actual != null ? markup`<dt>actual</dt><dd><code>${actual}</code></dd>` : "";
  return markup`<dl class="kv">${e}${a}</dl>`;
}

function evidenceList(urls: readonly string[]): SafeHtml {
  if (urls.length === 0) return markup``;
  const items = urls.map((u) => markup`<li>${externalLink(u)}</li>`);
  return markup`<div class="evidence"><span class="meta">evidence:</span><ul>${items}</ul></div>`;
}

function timelineTable(
  releases: readonly TimelineRelease[],
  channels: readonly ChannelId[],
  now: Date,
  registry: ChannelRegistry,
): SafeHtml {
  if (releases.length === 0) return markup`<p class="na">No release checked yet.</p>`;
  const max = Math.max(1, ...releases.flatMap((r) => r.channels.map((c) => c.delay_seconds ?? 0)));
  const rows = releases.map((r) => {
    const release = markup`<strong>${r.tag}</strong>${sub(markup`published ${when(r.published_at, now, "unknown")}`)}`;
    const cells = channels.map((c) => cell(columnLabel(c, registry), timelineCell(r, c, max)));
    return markup`<tr>${cell("Release", release)}${cells}</tr>`;
  });
  return markup`<table class="stack timeline">
<thead><tr><th>Release</th>${channels.map((c) => markup`<th>${columnLabel(c, registry)}</th>`)}</tr></thead>
<tbody>
${rows.map((r) => markup`${r}\n`)}</tbody>
</table>`;
}

function timelineCell(r: TimelineRelease, channel: ChannelId, max: number): SafeHtml {
  const ch = r.channels.find((x) => x.channel === channel);
  if (!ch || ch.status === null) return markup`<span class="na">not checked</span>`;
  if (ch.live_at === null) return markup`${pill(ch.status)}${sub("not live yet")}`;
  if (ch.delay_seconds === null) return markup`${pill(ch.status)}${sub(`live ${utc(ch.live_at)}`)}`;
  const width = Math.max(2, Math.round((ch.delay_seconds / max) * 100));
  const label = `${ch.delay_is_upper_bound ? "≤ " : ""}+${formatSpan(ch.delay_seconds * 1000)}`;
  const bar = trusted(`<span class="bar${ch.delay_is_upper_bound ? " ub" : ""}" style="width:${width}%"></span>`);
  return markup`${ch.status === "ok" ? "" : pill(ch.status)}<span title="live at ${utc(ch.live_at)}">${label}</span>${bar}`;
}

// ------------------------------------------------------------------ project page

export function projectPage(d: ProjectDetail, registry: ChannelRegistry = DEFAULT_REGISTRY): string {
  const p = d.project;
  const now = new Date(d.generated_at);
  const report = p.report;
  const published = report
    ? markup`<dt>published</dt><dd>${when(report.published_at, now, "unknown")} <span class="meta">${utc(report.published_at)}</span></dd>
<dt>checked</dt><dd>${when(report.checked_at, now)} <span class="meta">${utc(report.checked_at)}, took ${report.duration_ms} ms</span></dd>`
    : "";
  const header = markup`<nav class="meta"><a href="/">← all projects</a></nav>
<header>
<h1>${p.project} ${report ? pill(report.status) : pill("unknown", "no report yet")}</h1>
<dl class="kv">
<dt>repository</dt><dd>${p.repo}</dd>
<dt>release</dt><dd>${report ? markup`<strong>${report.tag}</strong> (version ${report.version})` : markup`<span class="na">none checked yet</span>`}</dd>
${published}
<dt>last check</dt><dd>${when(p.last_check_at, now)}</dd>
<dt>next check</dt><dd>${when(p.next_check_at, now, "not scheduled")} <span class="meta">schedule <code>${p.schedule}</code>${p.hot ? ", hot polling" : ""}</span></dd>
${p.last_error ? markup`<dt>last error</dt><dd>${p.last_error}</dd>` : ""}
</dl>
</header>`;
  const channels = report
    ? report.channels.map((ch) =>
        channelCard(
          report,
          ch,
          p.channel_states.find((s) => s.channel === ch.channel),
          now,
          registry,
        ),
      )
    : markup`<p class="na">No report yet.</p>`;
  const openCount = d.incidents.filter((i) => i.state === "open").length;
  const resolvedCount = d.incidents.filter((i) => i.state === "resolved").length;
  const body = markup`${header}
<section aria-labelledby="channels">
<h2 id="channels">Channels</h2>
${channels}
</section>
<section aria-labelledby="history">
<h2 id="history">Status changes${report ? markup` of ${report.tag}` : ""}</h2>
${historyTable(d.channel_history)}
</section>
<section aria-labelledby="incidents">
<h2 id="incidents">Incidents (${openCount} open, ${resolvedCount} resolved)</h2>
${d.incidents.length === 0 ? markup`<p class="na">No incidents.</p>` : d.incidents.map((i) => incidentHistoryCard(i, now))}
</section>
<section aria-labelledby="timeline">
<h2 id="timeline">Releases: propagation</h2>
${timelineTable(p.releases, p.channels_configured, now, registry)}
</section>
<section aria-labelledby="cycles">
<h2 id="cycles">Recent checks</h2>
${cyclesTable(d.cycles, now)}
</section>`;
  return page(`${p.project}: release status`, body, { refresh: true });
}

function channelCard(
  report: Report,
  ch: ChannelReport,
  state: ChannelState | undefined,
  now: Date,
  registry: ChannelRegistry,
): SafeHtml {
  const since = state
    ? markup`<dt>${ch.status} since</dt><dd>${when(state.since, now)} <span class="meta">${utc(state.since)}</span></dd>`
    : "";
  const live = state?.live_at
    ? markup`<dt>live since</dt><dd>${when(state.live_at, now)} <span class="meta">${utc(state.live_at)}</span></dd>`
    : "";
  const grace = ch.grace_until ? markup`<dt>grace until</dt><dd>${utc(ch.grace_until)}</dd>` : "";
  const prov = report.provenance?.channels.find((c) => c.channel === ch.channel);
  const provenance = prov ? markup`<dt>provenance</dt><dd>${pill(prov.status)} ${provenanceLine(prov)}</dd>` : "";
  return markup`<article class="card" id="channel-${ch.channel}">
<h3>${ch.channel} ${pill(ch.status)}</h3>
<p>${channelSummary(report, ch, registry)}</p>
<dl class="kv">${since}${live}${grace}${provenance}<dt>probe time</dt><dd>${ch.duration_ms} ms</dd></dl>
${ch.findings.length === 0 ? markup`<p class="meta">No findings.</p>` : findingsTable(ch.findings)}
${evidenceTable(ch.evidence, ch.findings.length > 0)}
<details><summary>observed</summary><pre>${JSON.stringify(ch.observed, null, 2)}</pre></details>
</article>`;
}

function findingsTable(findings: readonly Finding[]): SafeHtml {
  const dash = markup`<span class="na">—</span>`;
  const rows = findings.map((f) => {
    const subject = f.subject !== undefined ? markup` · <code>${f.subject}</code>` : "";
    const finding = markup`<code>${f.code}</code>${sub(markup`${f.severity}${f.in_grace ? ", in grace" : ""}${subject}`)}`;
    return markup`<tr>
${cell("Finding", finding)}
<td data-label="Message"><div class="msg">${f.message}</div></td>
${cell("Expected", f.expected !== undefined ? markup`<code>${f.expected}</code>` : dash)}
${cell("Actual", f.actual !== undefined ? markup`<code>${f.actual}</code>` : dash)}
</tr>`;
  });
  return markup`<table class="stack findings">
<thead><tr><th>Finding</th><th>Message</th><th>Expected</th><th>Actual</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

function evidenceTable(evidence: readonly Evidence[], open: boolean): SafeHtml {
  if (evidence.length === 0) return markup``;
  const rows = evidence.map((e) => {
    const result = markup`${e.status ?? "no response"}${e.revalidated ? " (304, cached)" : ""}${e.error ? markup` <code>${e.error}</code>` : ""}`;
    return markup`<tr>
${cell("Request", markup`<code>${e.method}</code> ${externalLink(e.url)}`)}
${cell("Result", result)}
${cell("Time", markup`${e.duration_ms} ms${sub(utc(e.at))}`)}
</tr>`;
  });
  const plural = evidence.length === 1 ? "" : "s";
  return markup`<details class="evidence"${open ? trusted(" open") : ""}><summary>evidence (${evidence.length} request${plural})</summary>
<table class="stack">
<thead><tr><th>Request</th><th>Result</th><th>Time</th></tr></thead>
<tbody>${rows}</tbody>
</table>
</details>`;
}

function historyTable(history: readonly ChannelTransition[]): SafeHtml {
  if (history.length === 0) return markup`<p class="na">No status changes recorded.</p>`;
  const rows = [...history].reverse().map((h) => {
    const change = markup`${h.from ? markup`${pill(h.from)} → ` : "first seen "}${pill(h.to)}`;
    return markup`<tr>${cell("When", utc(h.at))}${cell("Channel", h.channel)}${cell("Change", change)}</tr>`;
  });
  return markup`<table class="stack">
<thead><tr><th>When</th><th>Channel</th><th>Change</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

function incidentHistoryCard(i: Incident, now: Date): SafeHtml {
  const times = [
    `first seen ${relative(i.first_seen, now)}`,
    i.opened_at ? `opened ${relative(i.opened_at, now)}` : "not alerted yet (waiting for consecutive cycles)",
    i.resolved_at ? `resolved ${relative(i.resolved_at, now)}` : `last seen ${relative(i.last_seen, now)}`,
  ];
  const reopened = i.reopen_count > 0 ? ` · reopened ${i.reopen_count}×` : "";
  return markup`<article class="card${i.state === "open" ? " incident" : ""}">
<div>${incidentTitle(i, markup`<span class="st st-${i.state}">${i.state}</span>`)}
${sub(`${times.join(" · ")}${reopened}`)}</div>
<p class="msg">${i.message}</p>
${expectedActual(i.expected, i.actual)}
${evidenceList(i.evidence)}
</article>`;
}

function cyclesTable(cycles: readonly CycleRecord[], now: Date): SafeHtml {
  if (cycles.length === 0) return markup`<p class="na">No checks recorded.</p>`;
  const rows = cycles.map((c) => {
    const outcome = markup`${c.outcome}${c.status ? markup` ${pill(c.status)}` : ""}${c.error ? sub(c.error) : ""}`;
    return markup`<tr>
${cell("Started", markup`${when(c.started_at, now)}${sub(utc(c.started_at))}`)}
${cell("Trigger", markup`${c.trigger}${c.tag ? ` · ${c.tag}` : ""}`)}
${cell("Outcome", outcome)}
${cell("Duration", `${c.duration_ms} ms`)}
</tr>`;
  });
  return markup`<table class="stack">
<thead><tr><th>Started</th><th>Trigger</th><th>Outcome</th><th>Duration</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

// ------------------------------------------------------------------ errors

export function errorPage(status: number, title: string, message: string): string {
  return page(
    title,
    markup`<nav class="meta"><a href="/">← status</a></nav><h1>${status} ${title}</h1><p>${message}</p>`,
  );
}
