import { z } from "zod";
import { boundedDuration } from "./duration.ts";

/**
 * The `release:` section of a project: how `monitor release <tag>` drives that project's release (src/drive).
 * Strict like the rest of the config. Relative paths: repo_dir and tap_dir against the config file's directory,
 * evidence_dir and gate cwd against repo_dir.
 */

/** Release steps in their only allowed order: reversible and read-only steps first, irreversible ones last. */
export const RELEASE_STEP_NAMES = [
  "context",
  "preconditions",
  "gates",
  "tag",
  "build",
  "homebrew",
  "rehearsal",
  "publish",
  "verify",
] as const;
export type ReleaseStepName = (typeof RELEASE_STEP_NAMES)[number];

/** Every one of these ends up in a timer: far below Node's 24.8-day limit. */
const Duration = boundedDuration("7d");
const Interval = boundedDuration("1h");
const SecretName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an Actions secret name like NPM_TOKEN");
const WorkflowFile = z.string().regex(/^[A-Za-z0-9_.-]+\.ya?ml$/, "must be a workflow file name like release.yml");
const ArgvWord = z.string().min(1);

export const ReleaseGate = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be letters, digits, . _ -")
      .describe(
        "Gate id, shown in progress and the evidence report; its output goes to <evidence_dir>/logs/<name>.log.",
      ),
    run: z
      .array(ArgvWord)
      .min(1)
      .describe(
        "Program and arguments (argv), spawned without a shell, e.g. [cargo, test]; {tag}, {version} and {base_tag} are replaced.",
      ),
    cwd: z.string().optional().describe("Working directory, relative to repo_dir (default repo_dir)."),
    timeout: Duration.default("1h").describe("The gate fails when it runs longer."),
    when: z
      .strictObject({
        changed: z
          .array(z.string().min(1))
          .min(1)
          .describe("Globs (path.matchesGlob) over the files `git diff --name-only <base_tag> HEAD` lists."),
      })
      .optional()
      .describe(
        "Conditional gate: runs only when a file matching one of the globs changed since base_tag (always on a first release).",
      ),
  })
  .describe("One required QA gate.");

export const ReleaseConfig = z
  .strictObject({
    repo_dir: z.string().min(1).describe("Checkout of the project's repository (relative to the config file)."),
    tap_dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Checkout of the Homebrew tap (relative to the config file); default ../homebrew-tap next to repo_dir.",
      ),
    remote: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default("origin")
      .describe("Git remote of both checkouts."),
    evidence_dir: z
      .string()
      .default(".scratch/release")
      .describe("Evidence report, checkpoint and gate logs (relative to repo_dir); keep it git-ignored."),
    gates: z.array(ReleaseGate).default([]).describe("Required QA gates, run in order; the first failure stops."),
    version_alignment: z
      .array(ArgvWord)
      .min(1)
      .optional()
      .describe("Command (argv) that exits 0 when every version carrier equals the release version."),
    workflows: z
      .strictObject({
        build: WorkflowFile.default("release.yml").describe("Builds artifacts on a tag push."),
        publish: WorkflowFile.default("release-publish.yml").describe("Publishes (inputs release_tag, rehearsal)."),
        ref: z.string().min(1).default("main").describe("Branch the publish workflow is dispatched on."),
      })
      .default({ build: "release.yml", publish: "release-publish.yml", ref: "main" })
      .describe("Workflow files in .github/workflows of the project's repository."),
    build_artifact: z.string().min(1).default("release-metadata").describe("Artifact holding metadata.json."),
    dist_artifact: z
      .string()
      .min(1)
      .default("dist-{rust_target}")
      .describe("Artifact name of one platform's SDK tarball, over {rust_target} and {platform}."),
    targets_manifest: z
      .string()
      .optional()
      .describe("release/targets.json path in repo_dir (read at the tag) mapping platforms to rust targets."),
    rust_targets: z
      .record(z.string().regex(/^[a-z0-9]+_[a-z0-9]+$/), z.string().min(1))
      .optional()
      .describe("platform -> rust target, when there is no targets manifest."),
    required_secrets: z
      .array(SecretName)
      .default(["CARGO_REGISTRY_TOKEN", "PYPI_API_TOKEN", "NPM_TOKEN"])
      .describe("Actions secrets that must exist in every mode."),
    live_secrets: z
      .array(SecretName)
      .default(["HOMEBREW_TAP_TOKEN"])
      .describe("Actions secrets that must also exist for a live release."),
    verify_wait: Duration.default("30m").describe("How long the verify step re-polls until every channel is ok."),
    poll_interval: Interval.default("10s").describe(
      "First poll delay for workflow runs and verify (doubles, max 60s).",
    ),
    run_timeout: Duration.default("2h").describe("Longest wait for one workflow run to complete."),
    run_appear_timeout: Duration.default("5m").describe("Longest wait for a run to appear after a push or dispatch."),
    tap_commit_message: z
      .string()
      .min(1)
      .default("{name}: update to {version}")
      .describe("Tap commit subject, over {name}, {version}, {tag}."),
    publish_marker: z
      .strictObject({
        job: z.string().min(1).default("release").describe("Job name in the publish workflow."),
        step: z.string().min(1).default("Create GitHub Release").describe("Step of that job skipped by rehearsals."),
      })
      .default({ job: "release", step: "Create GitHub Release" })
      .describe("The publish-run step that only a live (non-rehearsal) run executes; the runs API has no inputs."),
    ergo: z
      .strictObject({
        binary: z.string().min(1).default("ergo").describe("ergo 6 executable (name on PATH or a path)."),
        dir: z.string().optional().describe("Directory holding .ergo (relative to the config file); default repo_dir."),
      })
      .default({ binary: "ergo" })
      .describe("Where release blockers are filed (epic `Release blockers: <tag>`)."),
    steps: z
      .array(z.enum(RELEASE_STEP_NAMES))
      .default([...RELEASE_STEP_NAMES])
      .superRefine((steps, ctx) => {
        const seen = new Set<string>();
        let last = -1;
        for (const s of steps) {
          if (seen.has(s)) ctx.addIssue({ code: "custom", message: `step "${s}" is listed twice` });
          seen.add(s);
          const i = RELEASE_STEP_NAMES.indexOf(s);
          if (i < last) {
            ctx.addIssue({ code: "custom", message: `steps must keep the order ${RELEASE_STEP_NAMES.join(", ")}` });
          }
          last = Math.max(last, i);
        }
        for (const must of ["context", "preconditions"] as const) {
          if (!seen.has(must)) ctx.addIssue({ code: "custom", message: `step "${must}" is required` });
        }
        if (seen.has("publish") && !(seen.has("tag") && seen.has("build"))) {
          ctx.addIssue({
            code: "custom",
            message: 'step "publish" needs "tag" and "build" (publish only from a checked build)',
          });
        }
      })
      .describe("Steps to run, a subset of the default list in the same order (irreversible steps last)."),
  })
  .describe("How `monitor release <tag>` drives this project's release (dry-run by default).");
export type ReleaseConfig = z.infer<typeof ReleaseConfig>;
export type ReleaseGate = z.infer<typeof ReleaseGate>;
