/**
 * The logic of the reusable GitHub Action (action.yml at the repository root): reads the action's inputs from the
 * environment (`INPUT_<NAME>`, set by action.yml's run step), works out the tag from the triggering ref, runs
 * `monitor verify --github` (annotations, outputs `status` and `report`, the Markdown step summary) and turns the
 * verdict into the step's result by the `fail-on` threshold. action.yml only installs Node and calls this file.
 */
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { escapeData, formatOutputs } from "../report/github-actions.ts";

/** Every input action.yml declares, with its default (null: none). A test checks action.yml against this table. */
export const ACTION_INPUTS = {
  tag: null,
  config: ".github/monitor.yaml",
  wait: "30m",
  channels: null,
  deep: "false",
  "fail-on": "unknown",
  token: "${{ github.token }}",
} as const;
export type ActionInput = keyof typeof ACTION_INPUTS;

/** The environment variable action.yml sets for an input: `fail-on` -> `INPUT_FAIL-ON`, as the runner names them. */
export function inputEnvName(name: ActionInput): string {
  return `INPUT_${name.toUpperCase()}`;
}

export const FAIL_ON = ["drift", "unknown", "pending"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** The CLI's exit codes (src/cli/exit-codes.ts) each threshold fails on; anything else but 0 always fails. */
const FAILS: Record<FailOn, readonly number[]> = { drift: [1], unknown: [1, 3], pending: [1, 3, 4] };
const VERDICT_CODES = [0, 1, 3, 4];

export class ActionInputError extends Error {}

export interface ActionPlan {
  tag: string;
  args: string[];
  failOn: FailOn;
  token: string | null;
}

type Env = Readonly<Record<string, string | undefined>>;

function input(env: Env, name: ActionInput): string {
  return (env[inputEnvName(name)] ?? "").trim();
}

/**
 * The tag: the `tag` input, else the release of a `release` event, else a `refs/tags/` ref (of the event, then
 * `GITHUB_REF`). A branch ref (workflow_dispatch on main) is not a release: the input is required then.
 */
export function resolveTag(env: Env): string {
  const explicit = input(env, "tag");
  if (explicit) return explicit;
  let event: Record<string, unknown> = {};
  const path = env["GITHUB_EVENT_PATH"];
  if (path) {
    try {
      event = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    } catch (err) {
      throw new ActionInputError(`GITHUB_EVENT_PATH ${path}: not readable JSON (${(err as Error).message})`);
    }
  }
  const release = event["release"] as { tag_name?: unknown } | undefined;
  if (typeof release?.tag_name === "string" && release.tag_name) return release.tag_name;
  for (const ref of [event["ref"], env["GITHUB_REF"]]) {
    if (typeof ref === "string" && ref.startsWith("refs/tags/")) return ref.slice("refs/tags/".length);
  }
  throw new ActionInputError(
    `input tag: required when the workflow was not triggered by a tag or a release (GITHUB_REF is ${env["GITHUB_REF"] ?? "unset"})`,
  );
}

/** Inputs to the `monitor verify` command line. */
export function planAction(env: Env): ActionPlan {
  const failOn = input(env, "fail-on") || ACTION_INPUTS["fail-on"];
  if (!(FAIL_ON as readonly string[]).includes(failOn)) {
    throw new ActionInputError(`input fail-on: must be one of ${FAIL_ON.join(", ")}, not ${JSON.stringify(failOn)}`);
  }
  const deep = input(env, "deep") || ACTION_INPUTS.deep;
  if (deep !== "true" && deep !== "false") {
    throw new ActionInputError(`input deep: must be true or false, not ${JSON.stringify(deep)}`);
  }
  const tag = resolveTag(env);
  const channels = input(env, "channels")
    .split(/[\s,]+/)
    .filter(Boolean);
  const args = [
    "verify",
    tag,
    "--config",
    input(env, "config") || ACTION_INPUTS.config,
    "--wait",
    input(env, "wait") || ACTION_INPUTS.wait,
    "--github",
    ...(deep === "true" ? ["--deep"] : []),
    ...(channels.length ? ["--channel", ...channels] : []),
  ];
  return { tag, args, failOn: failOn as FailOn, token: input(env, "token") || null };
}

/** The step's exit code for the CLI's: 0 unless the threshold (or an error, exit 2/70) says fail. */
export function stepExitCode(cliCode: number, failOn: FailOn): number {
  if (cliCode === 0) return 0;
  if (!VERDICT_CODES.includes(cliCode)) return cliCode;
  return FAILS[failOn].includes(cliCode) ? cliCode : 0;
}

const VERDICT_NAME: Record<number, string> = { 1: "drift", 3: "unknown", 4: "pending" };

/** Runs the CLI (`bin/monitor.js` of this checkout) and returns the step's exit code. */
export async function runAction(env: Env, cli: string, write: (text: string) => void): Promise<number> {
  let plan: ActionPlan;
  try {
    plan = planAction(env);
  } catch (err) {
    if (!(err instanceof ActionInputError)) throw err;
    write(`::error title=release-monitor::${escapeData(err.message)}\n`);
    if (env["GITHUB_OUTPUT"]) appendFileSync(env["GITHUB_OUTPUT"], formatOutputs({ status: "error" }));
    return 2;
  }
  write(`release-monitor: monitor ${plan.args.join(" ")}\n`);
  const childEnv: Record<string, string | undefined> = { ...env };
  if (plan.token) childEnv["GITHUB_TOKEN"] = plan.token;
  for (const name of Object.keys(ACTION_INPUTS) as ActionInput[]) delete childEnv[inputEnvName(name)];
  const code = await new Promise<number>((done, fail) => {
    const child = spawn(process.execPath, [cli, ...plan.args], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => write(chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => write(chunk.toString("utf8")));
    child.on("error", fail);
    child.on("close", (c, signal) => done(c ?? (signal ? 128 : 70)));
  });
  const step = stepExitCode(code, plan.failOn);
  if (!VERDICT_CODES.includes(code)) {
    // The CLI stopped before a verdict (bad config, exit 2): it wrote no outputs.
    if (env["GITHUB_OUTPUT"]) appendFileSync(env["GITHUB_OUTPUT"], formatOutputs({ status: "error" }));
  } else if (code !== 0 && step === 0) {
    write(
      `::warning title=release-monitor::${escapeData(`${plan.tag} is ${VERDICT_NAME[code]}; not failing the step (fail-on: ${plan.failOn})`)}\n`,
    );
  }
  return step;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const cli = fileURLToPath(new URL("../../bin/monitor.js", import.meta.url));
  process.exitCode = await runAction(process.env, cli, (text) => process.stdout.write(text));
}
