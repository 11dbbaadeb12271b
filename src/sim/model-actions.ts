import { createHash } from "node:crypto";
import { strToU8, zipSync } from "fflate";
import { stringify as stringifyYaml } from "yaml";
import type { ChannelId } from "../channels.ts";
import { Content, hashId } from "./content.ts";
import type { ResolvedProject } from "./spec.ts";
import type { World } from "./world.ts";

/**
 * GitHub Actions for the simulated world (registry-contracts.md §1.6 "Actions", plasmite-release.md §2–§3):
 * workflows with push-tag and workflow_dispatch triggers, runs that go queued → in_progress → completed on a
 * configurable timing, jobs named like plasmite's workflows, artifacts that are real zip files, and repository
 * secrets. A successful live `release-publish` run publishes the version to the simulated registries.
 *
 * How a tag push reaches the sim: a test pushes to a real bare git repository whose `post-receive` hook POSTs
 * `{repo, tag, sha}` to the GitHub API host's control endpoint `POST /_sim/push`, which calls `onTagPushed`
 * (a test may also call it directly). Workflows whose push trigger matches the tag start a run.
 *
 * Status is computed from the world clock on every read (so a manual clock drives it too) and a run is finalized
 * (conclusion revealed, artifacts attached, side effects applied) by `tick()`, which every Actions request calls
 * and a world timer calls when the run is due.
 */

export type WorkflowState = "active" | "deleted" | "disabled_fork" | "disabled_inactivity" | "disabled_manually";
export type RunStatus = "queued" | "in_progress" | "completed";
export type Conclusion = "success" | "failure" | "cancelled" | "skipped";

export interface DispatchInputDef {
  required: boolean;
  type: "string" | "boolean";
  default?: string;
}

export interface JobDef {
  name: string;
  /** Base names of the jobs this one needs (`build-platform` covers every matrix leg). */
  needs: string[];
  steps: string[];
  /** Steps that a rehearsal (`rehearsal=true`) skips. */
  liveOnlySteps?: string[];
}

/** What the sim does when a run of this workflow completes. */
export type WorkflowBehavior = "release-build" | "release-publish" | "generic";

export interface WorkflowDef {
  file: string;
  name: string;
  state?: WorkflowState;
  /** Tag globs of the `push: tags:` trigger (`v*`); absent: no push-tag trigger. */
  pushTags?: string[];
  /** `workflow_dispatch` inputs; absent: the workflow has no workflow_dispatch trigger (dispatch answers 422). */
  dispatchInputs?: Record<string, DispatchInputDef>;
  /** Jobs; `{matrix}` in a name expands to one job per release target (`build-platform ({matrix})`). */
  jobs: JobDef[];
  behavior?: WorkflowBehavior;
}

export interface ScriptedOutcome {
  conclusion: "success" | "failure" | "cancelled";
  /** Job that fails: its exact name or base name (before " ("). Default: the first job. */
  failJob?: string;
  /** Only for runs whose `rehearsal` input is this (release-publish); absent: any run. */
  rehearsal?: boolean;
  queuedMs?: number;
  inProgressMs?: number;
  /**
   * The run stays `in_progress` (never completes, whatever the clock says) until `releaseHeld` lets it go:
   * a test can act while the run is known to be live instead of racing its timer.
   */
  hold?: boolean;
}

export interface WorkflowRecord {
  id: number;
  repo: string;
  file: string;
  path: string;
  name: string;
  state: WorkflowState;
  createdAt: number;
  updatedAt: number;
  def: WorkflowDef;
}

export interface JobRecord {
  id: number;
  name: string;
  steps: string[];
  /** Revealed when the run completes. */
  conclusion: Conclusion | null;
  stepConclusions: Conclusion[];
  planned: { conclusion: Conclusion; steps: Conclusion[] };
}

export interface ArtifactRecord {
  id: number;
  name: string;
  runId: number;
  repo: string;
  uuid: string;
  zip: Buffer;
  digest: string;
  createdAt: number;
  expiresAt: number;
}

export interface WorkflowRunRecord {
  id: number;
  repo: string;
  workflow: WorkflowRecord;
  runNumber: number;
  event: "push" | "workflow_dispatch";
  headBranch: string;
  headSha: string;
  displayTitle: string;
  inputs: Record<string, string>;
  createdAt: number;
  startsAt: number;
  completesAt: number;
  /** Revealed when the run completes. */
  conclusion: Conclusion | null;
  plannedConclusion: Conclusion;
  jobs: JobRecord[];
  artifacts: ArtifactRecord[];
  finalized: boolean;
  /** Held by a scripted `hold` until `releaseHeld`: not finalized even after `completesAt`. */
  held: boolean;
  /** The release tag a release-build run builds / a release-publish run publishes (null: unresolved). */
  tag: string | null;
  /** release-publish: the build run it resolved. */
  buildRunId: number | null;
  rehearsal: boolean;
  /** Channels a release-publish run published. */
  published: ChannelId[];
  /** Why a run failed in the sim's own logic (unresolvable build run, bad inputs). */
  note: string | null;
}

export interface RunFilter {
  workflowId?: number;
  event?: string;
  branch?: string;
  status?: string;
  headSha?: string;
  created?: (ms: number) => boolean;
}

export type DispatchResult =
  { ok: true; run: WorkflowRunRecord } | { ok: false; status: 404 | 422; message: string; doc: string };

const DAY = 86_400_000;

const PUBLISH_CHANNEL_JOBS: Record<string, ChannelId[]> = {
  "publish-crates-io": ["crates"],
  "publish-npm": ["npm"],
  "publish-pypi": ["pypi"],
  release: ["github", "homebrew"],
};

/** The historic partial-release inputs of release-publish.yml (b5a1b35..fad129b, plasmite-release.md §3). */
const SKIP_INPUT_JOBS: Record<string, string> = {
  skip_crates_io: "publish-crates-io",
  skip_npm: "publish-npm",
  skip_pypi: "publish-pypi",
};

/**
 * plasmite's workflows with release-publish.yml as it was between b5a1b35 and fad129b: the channel flags
 * `skip_npm`, `skip_pypi`, `skip_crates_io` and `allow_partial_release` (the registry-down-bypass rehearsal).
 */
export function plasmiteWorkflowsWithPartialRelease(): WorkflowDef[] {
  return plasmiteWorkflows().map((wf) =>
    wf.file !== "release-publish.yml"
      ? wf
      : {
          ...wf,
          dispatchInputs: {
            ...wf.dispatchInputs,
            ...Object.fromEntries(
              [...Object.keys(SKIP_INPUT_JOBS), "allow_partial_release"].map((k) => [
                k,
                { required: false, type: "boolean" as const, default: "false" },
              ]),
            ),
          },
        },
  );
}

/** A workflow file as YAML (name, triggers, `workflow_dispatch.inputs`, jobs): what the repository holds. */
export function workflowYaml(def: WorkflowDef): string {
  const on: Record<string, unknown> = {};
  if (def.pushTags) on["push"] = { tags: def.pushTags };
  if (def.dispatchInputs) {
    on["workflow_dispatch"] = {
      inputs: Object.fromEntries(
        Object.entries(def.dispatchInputs).map(([k, d]) => [
          k,
          { required: d.required, type: d.type, ...(d.default !== undefined ? { default: d.default } : {}) },
        ]),
      ),
    };
  }
  const jobs = Object.fromEntries(
    def.jobs.map((j) => [
      baseName(j.name),
      { ...(j.needs.length > 0 ? { needs: j.needs } : {}), steps: j.steps.map((name) => ({ name })) },
    ]),
  );
  return stringifyYaml({ name: def.name, on, jobs });
}

interface ManifestTarget {
  rust_target: string;
  sdk_platform: string;
  node_platform?: string;
  build_sdk?: boolean;
  upload_sdist?: boolean;
  upload_wheel?: boolean;
}

/** plasmite's workflows as plasmite-release.md §2–§4 describes them (plus a push-only `ci.yml`). */
export function plasmiteWorkflows(): WorkflowDef[] {
  const publishJob = (name: string, step: string): JobDef => ({
    name,
    needs: ["resolve-build-run", "publish-preflight", "collect-build-artifacts"],
    steps: ["Set up job", "Checkout", "Download release inputs", step, "Complete job"],
    liveOnlySteps: [step],
  });
  return [
    {
      file: "ci.yml",
      name: "ci",
      jobs: [{ name: "test", needs: [], steps: ["Set up job", "Checkout", "cargo test", "Complete job"] }],
    },
    {
      file: "release.yml",
      name: "release",
      behavior: "release-build",
      pushTags: ["v*"],
      dispatchInputs: { tag: { required: true, type: "string" } },
      jobs: [
        {
          name: "release-context",
          needs: [],
          steps: [
            "Set up job",
            "Resolve release tag",
            "Checkout",
            "Record source",
            "Validate release targets",
            "Write release metadata",
            "Require green ci.yml for release SHA",
            "Upload release-metadata",
            "Complete job",
          ],
        },
        {
          name: "build-platform ({matrix})",
          needs: ["release-context"],
          steps: [
            "Set up job",
            "Checkout",
            "Install Rust 1.88.0",
            "Build release artifacts",
            "Package release SDK",
            "Cross artifact smoke",
            "Package Node natives",
            "Upload artifacts",
            "Complete job",
          ],
        },
        {
          name: "build-node-dist",
          needs: ["release-context", "build-platform"],
          steps: [
            "Set up job",
            "Download node natives",
            "npm pack",
            "Install smoke",
            "Upload node-dist",
            "Complete job",
          ],
        },
      ],
    },
    {
      file: "release-publish.yml",
      name: "release-publish",
      behavior: "release-publish",
      dispatchInputs: {
        build_run_id: { required: false, type: "string", default: "" },
        release_tag: { required: false, type: "string", default: "" },
        rehearsal: { required: false, type: "boolean", default: "false" },
      },
      jobs: [
        {
          name: "resolve-build-run",
          needs: [],
          steps: ["Set up job", "Resolve build run", "Download release-metadata", "Complete job"],
        },
        {
          name: "publish-preflight",
          needs: ["resolve-build-run"],
          steps: ["Set up job", "Check registry credentials", "Complete job"],
        },
        {
          name: "collect-build-artifacts",
          needs: ["resolve-build-run", "publish-preflight"],
          steps: [
            "Set up job",
            "Download build artifacts",
            "Check artifact counts",
            "Upload release-inputs",
            "Complete job",
          ],
        },
        {
          name: "sync-homebrew-tap",
          needs: ["resolve-build-run", "collect-build-artifacts"],
          steps: [
            "Set up job",
            "Checkout tap",
            "Compute sha256sums",
            "Verify Homebrew formula alignment",
            "Complete job",
          ],
        },
        publishJob("publish-crates-io", "Publish to crates.io"),
        publishJob("publish-npm", "Publish to npm"),
        publishJob("publish-pypi", "Publish to PyPI"),
        {
          name: "release",
          needs: [
            "resolve-build-run",
            "collect-build-artifacts",
            "sync-homebrew-tap",
            "publish-pypi",
            "publish-crates-io",
            "publish-npm",
          ],
          steps: [
            "Set up job",
            "Checkout CHANGELOG",
            "Download release inputs",
            "Compute sha256sums",
            "Extract release notes",
            "Create GitHub Release",
            "Write step summary",
            "Complete job",
          ],
          liveOnlySteps: ["Create GitHub Release"],
        },
      ],
    },
  ];
}

/** `v*`-style glob (only `*` is special). */
function globMatch(glob: string, value: string): boolean {
  const re = new RegExp(`^${glob.split("*").map(escapeRegex).join(".*")}$`);
  return re.test(value);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function baseName(job: string): string {
  const i = job.indexOf(" (");
  return i < 0 ? job : job.slice(0, i);
}

function zip(files: Record<string, Uint8Array>): Buffer {
  return Buffer.from(zipSync(files, { level: 6, mtime: new Date("2026-01-01T00:00:00Z") }));
}

export class ActionsStore {
  readonly #world: World;
  /** Default phase durations of a new run (ms). */
  timing = { queuedMs: 100, inProgressMs: 200 };
  /** false: dispatch answers 204 even when `return_run_details: true` is sent (older servers). */
  honorReturnRunDetails = true;
  /** Registries that are down: a live release-publish job publishing there fails (unless its skip flag is set). */
  readonly downChannels = new Set<ChannelId>();
  /** Every tag push the sim was told about, in order. */
  readonly pushes: { repo: string; tag: string; sha: string; at: number }[] = [];
  readonly #workflows = new Map<string, WorkflowRecord[]>();
  readonly #runs: WorkflowRunRecord[] = [];
  readonly #secrets = new Map<string, { name: string; createdAt: number; updatedAt: number }[]>();
  readonly #scripts = new Map<string, ScriptedOutcome[]>();
  readonly #dispatches = new Map<string, number>();
  #nextWorkflowId = 161_335_000;
  #nextRunId = 30_433_642_000;
  #nextJobId = 399_444_496_000;
  #nextArtifactId = 724_958_104_000;

  constructor(world: World) {
    this.#world = world;
  }

  // ------------------------------------------------------------------ scripting

  addWorkflow(repo: string, def: WorkflowDef): WorkflowRecord {
    const list = this.#workflowList(repo);
    if (list.some((w) => w.file === def.file)) throw new Error(`${repo}: workflow ${def.file} already exists`);
    const at = this.#world.now() - 30 * DAY;
    const wf: WorkflowRecord = {
      id: this.#nextWorkflowId++,
      repo,
      file: def.file,
      path: `.github/workflows/${def.file}`,
      name: def.name,
      state: def.state ?? "active",
      createdAt: at,
      updatedAt: at,
      def,
    };
    list.push(wf);
    return wf;
  }

  /** ci.yml, release.yml and release-publish.yml as plasmite has them. */
  addPlasmiteWorkflows(repo: string): WorkflowRecord[] {
    return plasmiteWorkflows().map((d) => this.addWorkflow(repo, d));
  }

  setWorkflowState(repo: string, file: string, state: WorkflowState): void {
    const wf = this.workflow(repo, file);
    if (!wf) throw new Error(`${repo}: no workflow ${file}`);
    wf.state = state;
    wf.updatedAt = this.#world.now();
  }

  /** Repository secret names (values are never stored: the API does not return them either). */
  setSecrets(repo: string, names: string[]): void {
    const at = this.#world.now() - 7 * DAY;
    this.#secrets.set(
      repo.toLowerCase(),
      [...new Set(names)].sort().map((name) => ({ name, createdAt: at, updatedAt: at })),
    );
  }

  secrets(repo: string): { name: string; createdAt: number; updatedAt: number }[] {
    return this.#secrets.get(repo.toLowerCase()) ?? [];
  }

  /** Outcomes for the next runs of a workflow file (any repo), consumed in order; unscripted runs succeed. */
  script(file: string, outcomes: ScriptedOutcome[]): void {
    this.#scripts.set(file, [...(this.#scripts.get(file) ?? []), ...outcomes]);
  }

  setTiming(timing: { queuedMs?: number; inProgressMs?: number }): void {
    this.timing = { ...this.timing, ...timing };
  }

  /**
   * A completed, successful run of the build workflow (`release.yml`, added with plasmite's definition when the
   * repository has none) that already happened: only its `release-metadata` artifact, whose metadata.json says
   * `source_sha` = `sourceSha`. `fromMain`: dispatched on main with the tag as input (plasmite up to v0.8.0 wrote
   * `GITHUB_SHA` / `GITHUB_REF` there), else the tag push.
   */
  recordBuildRun(
    repo: string,
    o: { tag: string; version: string; sourceSha: string; fromMain: boolean; at: number },
  ): WorkflowRunRecord {
    const wf =
      this.workflow(repo, "release.yml") ??
      this.addWorkflow(repo, plasmiteWorkflows().find((d) => d.file === "release.yml") as WorkflowDef);
    const id = this.#nextRunId++;
    const metadata = {
      tag: o.tag,
      version: o.version,
      source_sha: o.sourceSha,
      source_ref: o.fromMain ? "refs/heads/main" : `refs/tags/${o.tag}`,
      source_run_id: String(id),
      source_workflow: wf.name,
    };
    const zipped = zip({ "metadata.json": strToU8(`${JSON.stringify(metadata, null, 2)}\n`) });
    const artifactId = this.#nextArtifactId++;
    const run: WorkflowRunRecord = {
      id,
      repo,
      workflow: wf,
      runNumber: this.#runs.filter((r) => r.workflow === wf).length + 1,
      event: o.fromMain ? "workflow_dispatch" : "push",
      headBranch: o.fromMain ? "main" : o.tag,
      headSha: o.sourceSha,
      displayTitle: o.fromMain ? "release" : o.tag,
      inputs: o.fromMain ? { tag: o.tag } : {},
      createdAt: o.at,
      startsAt: o.at,
      completesAt: o.at + 5 * 60_000,
      conclusion: "success",
      plannedConclusion: "success",
      jobs: [],
      artifacts: [],
      finalized: true,
      held: false,
      tag: o.tag,
      buildRunId: null,
      rehearsal: false,
      published: [],
      note: null,
    };
    run.artifacts.push({
      id: artifactId,
      name: "release-metadata",
      runId: id,
      repo,
      uuid: hashId("artifact", artifactId, "release-metadata").slice(0, 32),
      zip: zipped,
      digest: `sha256:${createHash("sha256").update(zipped).digest("hex")}`,
      createdAt: run.completesAt,
      expiresAt: run.completesAt + 90 * DAY,
    });
    this.#runs.push(run);
    return run;
  }

  // ------------------------------------------------------------------ reading

  workflows(repo: string): WorkflowRecord[] {
    return [...this.#workflowList(repo)];
  }

  /** By numeric id or file name (`release.yml`), like `GET …/actions/workflows/{workflow_id}`. */
  workflow(repo: string, idOrFile: string | number): WorkflowRecord | null {
    const list = this.#workflowList(repo);
    const key = String(idOrFile);
    return list.find((w) => String(w.id) === key || w.file === key) ?? null;
  }

  /** Runs of a repository, newest first. */
  runs(repo: string, filter: RunFilter = {}): WorkflowRunRecord[] {
    this.tick();
    const now = this.#world.now();
    return this.#runs
      .filter((r) => r.repo.toLowerCase() === repo.toLowerCase())
      .filter((r) => filter.workflowId === undefined || r.workflow.id === filter.workflowId)
      .filter((r) => filter.event === undefined || r.event === filter.event)
      .filter((r) => filter.branch === undefined || r.headBranch === filter.branch)
      .filter((r) => filter.headSha === undefined || r.headSha === filter.headSha)
      .filter((r) => filter.created === undefined || filter.created(r.createdAt))
      .filter(
        (r) => filter.status === undefined || this.status(r, now) === filter.status || r.conclusion === filter.status,
      )
      .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  }

  run(repo: string, id: number): WorkflowRunRecord | null {
    this.tick();
    return this.#runs.find((r) => r.id === id && r.repo.toLowerCase() === repo.toLowerCase()) ?? null;
  }

  status(run: WorkflowRunRecord, now = this.#world.now()): RunStatus {
    if (run.finalized) return "completed";
    if (now < run.startsAt) return "queued";
    return "in_progress";
  }

  artifact(repo: string, id: number): ArtifactRecord | null {
    this.tick();
    for (const run of this.#runs) {
      if (run.repo.toLowerCase() !== repo.toLowerCase()) continue;
      const a = run.artifacts.find((x) => x.id === id);
      if (a) return a;
    }
    return null;
  }

  artifactByUuid(uuid: string): ArtifactRecord | null {
    for (const run of this.#runs) {
      const a = run.artifacts.find((x) => x.uuid === uuid);
      if (a) return a;
    }
    return null;
  }

  /** `POST …/dispatches` accepted per workflow file. */
  dispatchCount(file: string): number {
    return this.#dispatches.get(file) ?? 0;
  }

  /** Runs (all events) of a workflow file. */
  runCount(file: string): number {
    return this.#runs.filter((r) => r.workflow.file === file).length;
  }

  // ------------------------------------------------------------------ events

  /** A tag arrived on the repository (the bare origin's post-receive hook, or a test): start push-tag workflows. */
  onTagPushed(repo: string, tag: string, sha: string): WorkflowRunRecord[] {
    this.pushes.push({ repo, tag, sha, at: this.#world.now() });
    const started: WorkflowRunRecord[] = [];
    for (const wf of this.#workflowList(repo)) {
      if (wf.state !== "active" || !wf.def.pushTags?.some((g) => globMatch(g, tag))) continue;
      started.push(this.#startRun(wf, { event: "push", headBranch: tag, headSha: sha, title: tag, inputs: {}, tag }));
    }
    return started;
  }

  dispatch(repo: string, idOrFile: string, ref: string, rawInputs: Record<string, unknown>): DispatchResult {
    const doc = "actions/workflows#create-a-workflow-dispatch-event";
    const wf = this.workflow(repo, idOrFile);
    if (!wf) return { ok: false, status: 404, message: "Not Found", doc };
    const defs = wf.def.dispatchInputs;
    if (!defs || wf.state !== "active") {
      return { ok: false, status: 422, message: "Workflow does not have 'workflow_dispatch' trigger", doc };
    }
    const [owner = "", name = ""] = repo.split("/");
    const commit = this.#world.github.repo(owner, name)?.resolveRef(ref) ?? null;
    if (!commit) return { ok: false, status: 422, message: `No ref found for: ${ref}`, doc };
    const unexpected = Object.keys(rawInputs).filter((k) => !(k in defs));
    if (unexpected.length > 0) {
      return { ok: false, status: 422, message: `Unexpected inputs provided: ${JSON.stringify(unexpected)}`, doc };
    }
    const inputs: Record<string, string> = {};
    for (const [key, def] of Object.entries(defs)) {
      const v = rawInputs[key];
      if (v === undefined || v === null || v === "") {
        if (def.required) return { ok: false, status: 422, message: `Required input '${key}' not provided`, doc };
        inputs[key] = def.default ?? "";
        continue;
      }
      const text = typeof v === "string" ? v : typeof v === "boolean" || typeof v === "number" ? String(v) : "";
      if (def.type === "boolean" && text !== "true" && text !== "false") {
        return {
          ok: false,
          status: 422,
          message: `Provided value '${text}' for input '${key}' not in the list of allowed values`,
          doc,
        };
      }
      inputs[key] = text;
    }
    this.#dispatches.set(wf.file, this.dispatchCount(wf.file) + 1);
    const branch = ref.replace(/^refs\/(heads|tags)\//, "");
    const tag = wf.def.behavior === "release-build" ? (inputs["tag"] ?? null) : null;
    const run = this.#startRun(wf, {
      event: "workflow_dispatch",
      headBranch: branch,
      headSha: commit.sha,
      title: wf.name,
      inputs,
      tag,
    });
    return { ok: true, run };
  }

  /** Finalize every run whose completion time has passed. */
  tick(): void {
    const now = this.#world.now();
    for (const run of this.#runs) if (!run.finalized && !run.held && now >= run.completesAt) this.#finalize(run);
  }

  /** Held runs of a workflow file (any repo), oldest first. */
  heldRuns(file: string): WorkflowRunRecord[] {
    return this.#runs.filter((r) => r.held && r.workflow.file === file);
  }

  /** Lets the held runs of a workflow file complete: now, or at their scheduled time if that is later. */
  releaseHeld(file: string): number {
    const now = this.#world.now();
    const held = this.heldRuns(file);
    for (const run of held) {
      run.held = false;
      run.completesAt = Math.max(run.completesAt, now);
      this.#scheduleTick(run.completesAt - now + 1);
    }
    this.tick();
    return held.length;
  }

  // ------------------------------------------------------------------ internals

  #workflowList(repo: string): WorkflowRecord[] {
    const key = repo.toLowerCase();
    let list = this.#workflows.get(key);
    if (!list) {
      list = [];
      this.#workflows.set(key, list);
    }
    return list;
  }

  #project(repo: string): ResolvedProject | null {
    return this.#world.projects().find((p) => p.repo.toLowerCase() === repo.toLowerCase()) ?? null;
  }

  #targets(project: ResolvedProject | null): ManifestTarget[] {
    if (!project?.targetsManifest) return [];
    try {
      const parsed = JSON.parse(project.targetsManifest) as { targets?: ManifestTarget[] };
      return parsed.targets ?? [];
    } catch {
      return [];
    }
  }

  #takeOutcome(file: string, rehearsal: boolean): ScriptedOutcome {
    const queue = this.#scripts.get(file) ?? [];
    const i = queue.findIndex((o) => o.rehearsal === undefined || o.rehearsal === rehearsal);
    if (i < 0) return { conclusion: "success" };
    const [outcome] = queue.splice(i, 1);
    return outcome ?? { conclusion: "success" };
  }

  #startRun(
    wf: WorkflowRecord,
    o: {
      event: "push" | "workflow_dispatch";
      headBranch: string;
      headSha: string;
      title: string;
      inputs: Record<string, string>;
      tag: string | null;
    },
  ): WorkflowRunRecord {
    this.tick();
    const now = this.#world.now();
    const behavior = wf.def.behavior ?? "generic";
    const rehearsal = behavior === "release-publish" && o.inputs["rehearsal"] === "true";
    const outcome = this.#takeOutcome(wf.file, rehearsal);
    let tag = o.tag;
    let buildRunId: number | null = null;
    let note: string | null = null;
    let failJob = outcome.conclusion === "failure" ? (outcome.failJob ?? null) : null;
    const bypassed = new Set<string>();
    if (behavior === "release-publish") {
      const resolved = this.#resolveBuildRun(wf.repo, o.inputs);
      for (const [input, job] of Object.entries(SKIP_INPUT_JOBS)) if (o.inputs[input] === "true") bypassed.add(job);
      if ("error" in resolved) {
        note = resolved.error;
        failJob = "resolve-build-run";
      } else if (bypassed.size > 0 && o.inputs["allow_partial_release"] !== "true") {
        note = "error: partial publish requested but allow_partial_release is false.";
        failJob = "publish-preflight";
      } else {
        tag = resolved.tag;
        buildRunId = resolved.runId;
        const down = Object.entries(PUBLISH_CHANNEL_JOBS).find(
          ([job, chans]) => !rehearsal && !bypassed.has(job) && chans.some((c) => this.downChannels.has(c)),
        );
        if (down && failJob === null) {
          failJob = down[0];
          note = `${down[0]}: registry unavailable (HTTP 503)`;
        }
      }
    }
    const project = this.#project(wf.repo);
    const jobNames = (job: JobDef): string[] => {
      if (!job.name.includes("{matrix}")) return [job.name];
      const targets = this.#targets(project);
      const legs = targets.length > 0 ? targets.map((t) => t.rust_target) : ["default"];
      return legs.map((leg) => job.name.replace("{matrix}", leg));
    };
    const expanded = wf.def.jobs.flatMap((j) => jobNames(j).map((name) => ({ def: j, name })));
    if (outcome.conclusion === "failure" && failJob === null) failJob = expanded[0]?.name ?? null;
    const conclusions = new Map<string, Conclusion>();
    const jobs: JobRecord[] = [];
    for (const { def, name } of expanded) {
      let conclusion: Conclusion;
      if (outcome.conclusion === "cancelled") conclusion = "cancelled";
      else if (bypassed.has(name)) conclusion = "skipped";
      else if (failJob !== null && (name === failJob || baseName(name) === failJob)) conclusion = "failure";
      else if (
        def.needs.some((need) =>
          [...conclusions.entries()].some(([n, c]) => baseName(n) === need && c !== "success" && !bypassed.has(n)),
        )
      )
        conclusion = "skipped";
      else conclusion = "success";
      conclusions.set(name, conclusion);
      const steps: Conclusion[] = def.steps.map((step, i) => {
        if (conclusion === "skipped" || conclusion === "cancelled") return conclusion;
        if (conclusion === "failure")
          return i < def.steps.length - 2 ? "success" : i === def.steps.length - 2 ? "failure" : "success";
        return rehearsal && def.liveOnlySteps?.includes(step) ? "skipped" : "success";
      });
      jobs.push({
        id: this.#nextJobId++,
        name,
        steps: def.steps,
        conclusion: null,
        stepConclusions: [],
        planned: { conclusion, steps },
      });
    }
    const planned: Conclusion = [...conclusions.values()].includes("cancelled")
      ? "cancelled"
      : [...conclusions.values()].includes("failure")
        ? "failure"
        : "success";
    const queuedMs = outcome.queuedMs ?? this.timing.queuedMs;
    const inProgressMs = outcome.inProgressMs ?? this.timing.inProgressMs;
    const run: WorkflowRunRecord = {
      id: this.#nextRunId++,
      repo: wf.repo,
      workflow: wf,
      runNumber: this.#runs.filter((r) => r.workflow === wf).length + 1,
      event: o.event,
      headBranch: o.headBranch,
      headSha: o.headSha,
      displayTitle: o.title,
      inputs: o.inputs,
      createdAt: now,
      startsAt: now + queuedMs,
      completesAt: now + queuedMs + inProgressMs,
      conclusion: null,
      plannedConclusion: planned,
      jobs,
      artifacts: [],
      finalized: false,
      held: outcome.hold === true,
      tag,
      buildRunId,
      rehearsal,
      published: [],
      note,
    };
    this.#runs.push(run);
    this.#scheduleTick(queuedMs + inProgressMs + 1);
    return run;
  }

  #scheduleTick(delayMs: number): void {
    try {
      this.#world.schedule(delayMs, () => this.tick());
    } catch {
      // world closed: reads still finalize the run
    }
  }

  #resolveBuildRun(repo: string, inputs: Record<string, string>): { runId: number; tag: string } | { error: string } {
    const byId = inputs["build_run_id"] ?? "";
    const byTag = inputs["release_tag"] ?? "";
    if ((byId === "") === (byTag === "")) return { error: "error: provide only one of build_run_id or release_tag." };
    const builds = this.#runs.filter(
      (r) => r.repo.toLowerCase() === repo.toLowerCase() && r.workflow.def.behavior === "release-build",
    );
    if (byId !== "") {
      const run = builds.find((r) => String(r.id) === byId);
      if (!run || !run.finalized || run.conclusion !== "success" || run.tag === null) {
        return { error: `error: run ${byId} is not a successful release build run` };
      }
      return { runId: run.id, tag: run.tag };
    }
    if (!byTag.startsWith("v")) return { error: `error: release_tag must start with v: ${byTag}` };
    const run = builds
      .filter((r) => r.finalized && r.conclusion === "success" && r.tag === byTag)
      .sort((a, b) => b.createdAt - a.createdAt)[0];
    if (!run) return { error: `error: no successful release build run found for ${byTag}` };
    return { runId: run.id, tag: byTag };
  }

  #finalize(run: WorkflowRunRecord): void {
    run.finalized = true;
    run.conclusion = run.plannedConclusion;
    for (const job of run.jobs) {
      job.conclusion = job.planned.conclusion;
      job.stepConclusions = job.planned.steps;
    }
    try {
      const behavior = run.workflow.def.behavior ?? "generic";
      if (behavior === "release-build") this.#attachBuildArtifacts(run);
      if (behavior === "release-publish" && !run.rehearsal) this.#publish(run);
    } catch (err) {
      this.#world.scheduleErrors.push(err);
    }
  }

  #jobOk(run: WorkflowRunRecord, name: string): boolean {
    return run.jobs.some((j) => (j.name === name || baseName(j.name) === name) && j.conclusion === "success");
  }

  #attachBuildArtifacts(run: WorkflowRunRecord): void {
    const tag = run.tag;
    if (tag === null) return;
    const project = this.#project(run.repo);
    const prefix = project?.tagPrefix ?? "v";
    const version = tag.startsWith(prefix) ? tag.slice(prefix.length) : tag;
    const files: { name: string; job: string; zip: Buffer }[] = [];
    const metadata = {
      tag,
      version,
      source_sha: run.headSha,
      source_ref: `refs/tags/${tag}`,
      source_run_id: String(run.id),
      source_workflow: run.workflow.name,
    };
    files.push({
      name: "release-metadata",
      job: "release-context",
      zip: zip({ "metadata.json": strToU8(`${JSON.stringify(metadata, null, 2)}\n`) }),
    });
    const name = project?.name ?? run.repo.split("/")[1] ?? "project";
    const small = (label: string): Uint8Array =>
      Content.generated(`${this.#world.seed}/${name}/${version}/${label}`, 1024).bytes();
    for (const t of this.#targets(project)) {
      const job = `build-platform (${t.rust_target})`;
      if (t.build_sdk && project) {
        const asset = project.assetName
          .replace(/\{name\}/g, project.name)
          .replace(/\{version\}/g, version)
          .replace(/\{platform\}/g, t.sdk_platform);
        // The same bytes world.publish later attaches to the GitHub release (seed `<seed>/<name>/<version>/<asset>`).
        const bytes = Content.generated(
          `${this.#world.seed}/${project.name}/${version}/${asset}`,
          project.assetBytes,
        ).bytes();
        files.push({ name: `dist-${t.rust_target}`, job, zip: zip({ [asset]: bytes }) });
      }
      if (t.upload_sdist)
        files.push({ name: "py-sdist", job, zip: zip({ [`${name}-${version}.tar.gz`]: small("py-sdist") }) });
      if (t.upload_wheel) {
        files.push({
          name: `py-dist-${t.sdk_platform}`,
          job,
          zip: zip({ [`${name}-${version}-${t.sdk_platform}.whl`]: small(`wheel-${t.sdk_platform}`) }),
        });
      }
      if (t.node_platform) {
        files.push({
          name: `node-native-${t.node_platform}`,
          job,
          zip: zip({ "index.node": small(`node-${t.node_platform}`) }),
        });
      }
    }
    files.push({
      name: "node-dist",
      job: "build-node-dist",
      zip: zip({ [`${name}-${version}.tgz`]: small("node-dist") }),
    });
    for (const f of files) {
      if (!this.#jobOk(run, f.job)) continue;
      const id = this.#nextArtifactId++;
      run.artifacts.push({
        id,
        name: f.name,
        runId: run.id,
        repo: run.repo,
        uuid: hashId("artifact", id, f.name).slice(0, 32),
        zip: f.zip,
        digest: `sha256:${createHash("sha256").update(f.zip).digest("hex")}`,
        createdAt: run.completesAt,
        expiresAt: run.completesAt + 90 * DAY,
      });
    }
  }

  #publish(run: WorkflowRunRecord): void {
    const project = this.#project(run.repo);
    if (!project || run.tag === null) return;
    const version = run.tag.startsWith(project.tagPrefix) ? run.tag.slice(project.tagPrefix.length) : run.tag;
    const available = this.#world.channelsOf(project.name);
    const channels: ChannelId[] = [];
    for (const [job, chans] of Object.entries(PUBLISH_CHANNEL_JOBS)) {
      if (!this.#jobOk(run, job)) continue;
      for (const c of chans) if (available.includes(c)) channels.push(c);
    }
    if (channels.length === 0) return;
    if (!this.#world.versions(project.name).includes(version)) {
      this.#world.publish(project.name, version, { channels, formula: "aligned" });
    } else {
      for (const c of channels) this.#world.publishChannel(project.name, version, c);
    }
    run.published = channels;
  }
}
