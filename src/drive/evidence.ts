import { DEFAULT_REGISTRY, type ChannelRegistry } from "../channels/registry.ts";
import { RELEASE_STEP_NAMES } from "../config/release-schema.ts";
import type { Checkpoint, RunFacts } from "./types.ts";

/**
 * The evidence report (`.scratch/release/evidence-<tag>.md`), in the layout of plasmite's
 * init_release_evidence.sh (plasmite-release.md §9): Release Context, Resume Checkpoint, QA Gate Evidence,
 * Release Mechanics, Delivery Verification, Blockers and Decisions. Pure: rendered from the checkpoint after every
 * step and written atomically.
 */

const PENDING = "_pending_";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function runLink(r: RunFacts | undefined): string {
  if (!r) return PENDING;
  return `run ${r.id} (${r.status}${r.conclusion ? `/${r.conclusion}` : ""}) ${r.url}`;
}

/** `registry`: the channels of the Delivery Verification lines and table (each channel's own evidence label). */
export function renderEvidence(cp: Checkpoint, registry: ChannelRegistry = DEFAULT_REGISTRY): string {
  const f = cp.facts;
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  const stepOf = (name: (typeof RELEASE_STEP_NAMES)[number]) => cp.steps[name];

  const result = cp.outcome === "running" ? `running (${cp.current_step ?? "starting"})` : cp.outcome;
  push(`# Release Evidence Report: ${cp.tag}`, "");
  push(`**Mode: ${cp.mode} · Path: ${cp.path ?? "normal"} · Result: ${result}**`, "");
  const blockerIn = (section: string): void => {
    for (const b of f.blockers ?? []) {
      if (SECTION_OF_STEP[b.step] !== section) continue;
      push(
        b.task_id
          ? `- Blocker filed: [ergo ${b.task_id}](#${anchor(b)}) — ${cell(b.title)}`
          : `- Blocker NOT filed: ${cell(b.title)} ([details](#${anchor(b)}))`,
      );
    }
  };
  push("## Release Context", "");
  push(
    `- Release target: ${cp.tag}`,
    `- Base tag: ${f.base_tag === undefined ? PENDING : (f.base_tag ?? "_none (first release)_")}`,
    `- Mode: ${cp.mode}`,
    `- Agent: ${cp.agent}`,
    `- Initialized (UTC): ${cp.initialized_at}`,
    `- Project: ${cp.project} (${cp.repo}), version ${cp.version}`,
    `- Release source: ${f.branch && f.head_sha ? `${f.branch} @ ${f.head_sha}` : PENDING}`,
    `- Outcome: ${result}`,
    `- Path: ${cp.path ?? "normal"} — ${cp.path_reason ?? "routine release"}`,
  );
  if (cp.bypass) {
    push(
      `- Bypassed channels: ${cp.bypass.channels.join(", ")} (${Object.entries(cp.bypass.inputs)
        .map(([k, v]) => `${k}=${v}`)
        .join(
          ", ",
        )}); silence ${cp.bypass.silence_ids.length > 0 ? cp.bypass.silence_ids.join(", ") : "not recorded (dry-run)"} until ${cp.bypass.until}`,
    );
  }
  blockerIn("Release Context");
  push("");

  push("## Resume Checkpoint", "");
  const last = f.last_run;
  const tagState =
    f.remote_tag === undefined
      ? PENDING
      : f.remote_tag === null
        ? "not on the remote"
        : `${cp.tag} → ${f.remote_tag.commit}${f.remote_tag.annotated ? ` (annotated, tag object ${f.remote_tag.object})` : " (lightweight)"} on the remote`;
  push(
    `- Last updated (UTC): ${cp.updated_at}`,
    `- Current phase: ${cp.current_step ?? "context"}`,
    `- Local branch/SHA: ${f.branch && f.head_sha ? `${f.branch} @ ${f.head_sha}` : PENDING}`,
    `- Remote tag state: ${tagState}`,
    `- Last workflow run ID: ${last ? String(last.id) : PENDING}`,
    `- Last workflow run URL: ${last ? last.url : PENDING}`,
    `- Blocker epic ID: ${f.blocker_epic === undefined ? PENDING : (f.blocker_epic ?? "_none_")}`,
    `- Open blocker count: ${f.open_blockers === undefined ? PENDING : String(f.open_blockers)}`,
    `- Resume with: ${cp.recovery.length > 0 ? cp.recovery.map(code).join(" then ") : cp.outcome === "complete" ? "_not needed: release complete_" : PENDING}`,
    "",
    "| # | Step | Status | Detail |",
    "| - | ---- | ------ | ------ |",
  );
  RELEASE_STEP_NAMES.forEach((name, i) => {
    const s = stepOf(name);
    if (!s) return;
    const took = s.duration_ms !== undefined ? ` (${(s.duration_ms / 1000).toFixed(1)}s)` : "";
    push(`| ${i + 1} | ${name} | ${s.status}${took} | ${cell(s.detail)} |`);
  });
  push("");

  push("## QA Gate Evidence", "");
  const wf = f.workflows;
  push(
    `- Gate 0 Release workflow topology: ${
      wf && wf.length > 0 ? wf.map((w) => `${w.file} (id ${w.id}, ${w.state})`).join("; ") : PENDING
    }`,
  );
  if (f.preconditions) {
    push("- Preconditions:");
    for (const c of f.preconditions)
      push(`  - ${c.name}: ${c.ok === null ? "unknown" : c.ok ? "ok" : "FAILED"} — ${c.detail}`);
  }
  if (f.version_alignment) {
    push(
      `- Version alignment: ${f.version_alignment.ok ? "passed" : "FAILED"} — ${code(f.version_alignment.command)}${
        f.version_alignment.output ? ` — ${cell(f.version_alignment.output)}` : ""
      }`,
    );
  }
  if (f.gates && f.gates.length > 0) {
    for (const g of f.gates) {
      if (g.status === "skipped") {
        push(`- Gate ${g.name}: ${cell(g.condition ?? "skipped: no matching changes")} — ${code(g.command)}`);
        continue;
      }
      push(
        `- Gate ${g.name}: ${g.status === "passed" ? "passed" : `FAILED (exit ${g.exit_code ?? "none"})`} in ${(g.duration_ms / 1000).toFixed(1)}s — ${code(g.command)} — log: ${g.log}${g.condition ? ` — conditional: ${cell(g.condition)}` : ""}`,
      );
    }
  } else {
    const gates = stepOf("gates");
    push(`- Configured gates: ${gates ? cell(gates.detail) : PENDING}`);
  }
  if (f.gates_head) push(`- Gates ran at: ${f.gates_head}`);
  blockerIn("QA Gate Evidence");
  push("");

  push("## Release Mechanics", "");
  const tag = stepOf("tag");
  push(
    `- Version alignment: ${f.version_alignment ? (f.version_alignment.ok ? "ok" : "FAILED") : PENDING}`,
    `- Tag creation: ${f.tag_created ? `created annotated tag ${cp.tag}` : tag ? cell(tag.detail) : PENDING}`,
    `- Tag push: ${f.tag_pushed ? `pushed ${cp.tag} to the remote` : f.remote_tag ? "already on the remote" : tag?.status === "planned" ? "planned (dry-run)" : PENDING}`,
    "- Workflow progression:",
  );
  const md = f.metadata;
  push(
    `  - build: ${runLink(f.build_run)}${
      md
        ? `; release-metadata: tag ${md["tag"] ?? "?"}, version ${md["version"] ?? "?"}, source_sha ${md["source_sha"] ?? "?"}`
        : ""
    }`,
  );
  const tap = f.tap;
  push(
    `  - homebrew tap: ${
      tap
        ? `${tap.path}: ${tap.from_version ?? "?"} → ${cp.version}; ${tap.commit ? `commit ${tap.commit}` : "no commit"}; ${tap.pushed ? "pushed" : "not pushed"}; ${tap.aligned ? "aligned" : "not aligned"}`
        : stepOf("homebrew")?.detail || PENDING
    }${f.checksum_source ? ` (checksums from ${f.checksum_source})` : ""}`,
  );
  push(
    `  - rehearsal (rehearsal=true): ${f.rehearsal_run ? runLink(f.rehearsal_run) : cell(stepOf("rehearsal")?.detail || PENDING)}`,
  );
  push(
    `  - publish (rehearsal=false): ${f.publish_run ? runLink(f.publish_run) : cell(stepOf("publish")?.detail || PENDING)}`,
  );
  if (f.failed_jobs && f.failed_jobs.length > 0) {
    push("- Failed jobs:");
    for (const j of f.failed_jobs) push(`  - ${j.name}: ${j.url}`);
  }
  blockerIn("Release Mechanics");
  const planned = RELEASE_STEP_NAMES.filter((n) => (stepOf(n)?.actions?.length ?? 0) > 0);
  if (planned.length > 0) {
    push("- Planned actions (dry-run, nothing was changed):");
    for (const n of planned) for (const a of stepOf(n)?.actions ?? []) push(`  - ${n}: ${code(a)}`);
  }
  push("");

  push("## Delivery Verification", "");
  const v = f.verify;
  if (v)
    push(
      `- Checked (UTC): ${v.checked_at}; overall: ${v.status}${cp.mode === "dry-run" ? " (dry-run: one pass, before any release step)" : ""}`,
    );
  const stopped = cp.outcome === "failed" || cp.outcome === "unknown" || cp.outcome === "interrupted";
  const missing = stopped ? `_not reached (stopped at ${cp.current_step ?? "?"})_` : PENDING;
  for (const { id: channel, evidenceLabel } of registry.channels) {
    const c = v?.channels.find((x) => x.channel === channel);
    push(`- ${evidenceLabel}: ${c ? `${c.status}${c.note ? ` — ${cell(c.note)}` : ""}` : missing}`);
  }
  if (f.immutable)
    push(
      `- Immutable release: ${f.immutable.ok === null ? "unknown" : f.immutable.ok ? "ok" : "FAILED"} — ${cell(f.immutable.detail)}`,
    );
  push("- Binding install sanity: not run by the driver (post-release-smoke.yml / post_release_delivery_smoke.sh)");
  blockerIn("Delivery Verification");
  push("");

  push("## Blockers and Decisions", "");
  const items: string[] = [];
  for (const b of f.blockers ?? []) {
    items.push(
      `- <a id="${anchor(b)}"></a>Blocker (${b.step}, ${b.at}): ${b.title} — ${
        b.task_id
          ? `task ${b.task_id} in epic ${b.epic_id ?? "?"}${b.created ? "" : " (already filed)"}`
          : `NOT FILED: ${b.error ?? "unknown error"}`
      }`,
    );
  }
  for (const d of cp.decisions) items.push(`- Decision: ${d}`);
  cp.recovery.forEach((r, i) =>
    items.push(`- Recovery${cp.recovery.length > 1 ? ` ${i + 1}/${cp.recovery.length}` : ""}: ${code(r)}`),
  );
  for (const a of cp.alternatives) items.push(`- Alternative: ${code(a)}`);
  push(...(items.length > 0 ? items : ["- _none_"]), "");

  push("## Delivery", "", "| Channel | Verdict | Evidence |", "| ------- | ------- | -------- |");
  for (const { id: channel } of registry.channels) {
    const c = v?.channels.find((x) => x.channel === channel);
    const verdict = c ? `${c.status}${c.note ? ` (${cell(c.note)})` : ""}` : stopped ? "not reached" : "pending";
    push(`| ${channel} | ${verdict} | ${c?.evidence_url ?? "—"} |`);
  }
  push("");
  return out.join("\n");
}

/** Where a failed step's blocker is linked from. */
const SECTION_OF_STEP: Record<string, string> = {
  context: "Release Context",
  preconditions: "QA Gate Evidence",
  gates: "QA Gate Evidence",
  tag: "Release Mechanics",
  build: "Release Mechanics",
  homebrew: "Release Mechanics",
  rehearsal: "Release Mechanics",
  publish: "Release Mechanics",
  verify: "Delivery Verification",
};

function anchor(b: { step: string; task_id: string | null; at: string }): string {
  return `blocker-${(b.task_id ?? `${b.step}-${b.at}`).toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
}
