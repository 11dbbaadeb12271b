import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../log.ts";
import { blockerEpicBody, oneLine } from "./blocker-body.ts";
import {
  FINISHED_STATES,
  parseListJson,
  parseNewEpic,
  parseNewTaskId,
  parseReceipt,
  parseShowFrontMatter,
  type ErgoListItem,
  type LifecycleReceipt,
  type NewEpicOutput,
  type ShowFrontMatter,
} from "./parse.ts";
import { withErgoLock } from "./lock.ts";
import { describeCommand, ErgoError, runErgo, type ErgoOutput } from "./run.ts";

export { ErgoError } from "./run.ts";
export { findErgoDir, withErgoLock } from "./lock.ts";
export type { ErgoListItem, LifecycleReceipt, NewEpicOutput, ShowFrontMatter } from "./parse.ts";
export { FINISHED_STATES } from "./parse.ts";

/**
 * A client for the ergo 6 CLI (contract: shared/reference/ergo.md). One method per command the monitor uses;
 * every call is one `ergo` process (no shell), retried with backoff while ergo reports `lock busy`.
 */
export interface ErgoClientOptions {
  /** Directory holding (or under) the `.ergo` repository; the process runs there. */
  dir: string;
  /** Executable name or path (default "ergo", resolved on PATH). */
  binary?: string;
  env?: NodeJS.ProcessEnv;
  /** Per-process deadline (default 30 s; ergo waits up to 10 s for its lock before `lock busy`). */
  timeoutMs?: number;
  /** Extra attempts after `lock busy` (default 3). */
  lockRetries?: number;
  /** First backoff delay after `lock busy`, doubled each time (default 500 ms). */
  lockRetryDelayMs?: number;
  signal?: AbortSignal;
  log?: Logger;
}

export type LifecycleCommand = "done" | "fail" | "block" | "cancel" | "open";

export class ErgoClient {
  readonly dir: string;
  readonly binary: string;
  readonly #env: NodeJS.ProcessEnv | undefined;
  readonly #timeoutMs: number;
  readonly #lockRetries: number;
  readonly #lockRetryDelayMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #log: Logger | undefined;

  constructor(options: ErgoClientOptions) {
    this.dir = path.resolve(options.dir);
    this.binary = options.binary ?? "ergo";
    this.#env = options.env;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#lockRetries = options.lockRetries ?? 3;
    this.#lockRetryDelayMs = options.lockRetryDelayMs ?? 500;
    this.#signal = options.signal;
    this.#log = options.log;
  }

  /** Run `ergo <args>`; `stdin` (when given) is piped and closed. Retries `lock busy` with backoff. */
  async run(args: readonly string[], stdin?: string): Promise<ErgoOutput> {
    await this.#checkDir(args);
    for (let attempt = 0; ; attempt++) {
      try {
        return await runErgo(args, {
          binary: this.binary,
          cwd: this.dir,
          timeoutMs: this.#timeoutMs,
          ...(this.#env === undefined ? {} : { env: this.#env }),
          ...(this.#signal === undefined ? {} : { signal: this.#signal }),
          ...(stdin === undefined ? {} : { stdin }),
        });
      } catch (err) {
        if (!(err instanceof ErgoError) || !err.lockBusy || attempt >= this.#lockRetries) throw err;
        const delay = this.#lockRetryDelayMs * 2 ** attempt;
        this.#log?.debug(
          { args: describeCommand(this.binary, args), attempt: attempt + 1, delay_ms: delay },
          "ergo lock busy; retrying",
        );
        try {
          await sleep(delay, undefined, this.#signal === undefined ? undefined : { signal: this.#signal });
        } catch (cause) {
          throw new ErgoError(`${describeCommand(this.binary, args)}: aborted while waiting for the ergo lock`, {
            args,
            failure: "aborted",
            cause,
          });
        }
      }
    }
  }

  async #checkDir(args: readonly string[]): Promise<void> {
    const isDir = await stat(this.dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) {
      throw new ErgoError(`${describeCommand(this.binary, args)}: ergo directory ${this.dir} does not exist`, {
        args,
        failure: "spawn",
      });
    }
  }

  #malformed(args: readonly string[], out: ErgoOutput, what: string): ErgoError {
    return new ErgoError(
      `${describeCommand(this.binary, args)}: unexpected output (${what}): ${JSON.stringify(out.stdout.slice(0, 200))}`,
      { args, failure: "output", stderr: out.stderr },
    );
  }

  async init(): Promise<string> {
    const out = await this.run(["init"]);
    return out.stdout.trim();
  }

  /** `ergo list [--epic <id>] [--ready|--all] --json`. */
  async list(options: { epic?: string; all?: boolean; ready?: boolean } = {}): Promise<ErgoListItem[]> {
    const args = ["list"];
    if (options.epic !== undefined) args.push("--epic", options.epic);
    if (options.all === true) args.push("--all");
    if (options.ready === true) args.push("--ready");
    args.push("--json");
    const out = await this.run(args);
    const items = parseListJson(out.stdout);
    if (items === null) throw this.#malformed(args, out, 'expected {"version":1,"items":[...]}');
    return items;
  }

  /** `ergo new task "<title>" [--epic <id>]`, body piped on stdin. Returns the new ID. */
  async newTask(title: string, options: { epic?: string; body?: string; draft?: boolean } = {}): Promise<string> {
    const args = ["new", "task", oneLine(title, 300)];
    if (options.epic !== undefined) args.push("--epic", options.epic);
    if (options.draft === true) args.push("--draft");
    const out = await this.run(args, options.body);
    const id = parseNewTaskId(out.stdout);
    if (id === null) throw this.#malformed(args, out, "expected a task ID");
    return id;
  }

  /**
   * `ergo new epic "<title>" --file <tmp.md>` with one `# Title` chunk per task (separated by `---` lines) and the
   * epic body on stdin. Task bodies must not contain a line that is exactly `---`.
   */
  async newEpic(
    title: string,
    tasks: readonly { title: string; body: string }[],
    options: { body?: string; draft?: boolean } = {},
  ): Promise<NewEpicOutput> {
    if (tasks.length === 0) throw new TypeError("an ergo epic needs at least one task");
    for (const t of tasks) {
      if (/^---$/m.test(t.body))
        throw new TypeError(`task body of "${t.title}" contains a '---' line (chunk separator)`);
    }
    // ergo keeps everything after the `# Title` line as the body (blank lines included) and trims its end.
    const file = tasks.map((t) => `# ${oneLine(t.title, 300)}\n${t.body.trim()}\n`).join("---\n");
    const tmp = await mkdtemp(path.join(tmpdir(), "ergo-epic-"));
    try {
      const md = path.join(tmp, "tasks.md");
      await writeFile(md, file);
      const args = ["new", "epic", oneLine(title, 300), "--file", md];
      if (options.draft === true) args.push("--draft");
      const out = await this.run(args, options.body);
      const parsed = parseNewEpic(out.stdout);
      if (parsed === null) throw this.#malformed(args, out, "expected 'Epic <ID> - <title>'");
      return parsed;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async show(id: string): Promise<string> {
    return (await this.run(["show", id])).stdout;
  }

  /** The stored body bytes (`ergo show <id> --body`). */
  async showBody(id: string): Promise<string> {
    return (await this.run(["show", id, "--body"])).stdout;
  }

  /** Front matter of `ergo show <id>`, or null when the ID is unknown. */
  async task(id: string): Promise<ShowFrontMatter | null> {
    try {
      return parseShowFrontMatter(await this.show(id));
    } catch (err) {
      if (err instanceof ErgoError && err.notFound) return null;
      throw err;
    }
  }

  /** done/fail/block/cancel/open with an optional `-m` journal note (single line). */
  async lifecycle(command: LifecycleCommand, id: string, message?: string): Promise<LifecycleReceipt> {
    const args = [command, id];
    if (message !== undefined && message.trim() !== "") args.push("-m", safeArg(oneLine(message)));
    const out = await this.run(args);
    const receipt = parseReceipt(out.stdout);
    if (receipt === null) throw this.#malformed(args, out, "expected '<ID> - <title>' and 'State: <state>'");
    return receipt;
  }

  done(id: string, message?: string): Promise<LifecycleReceipt> {
    return this.lifecycle("done", id, message);
  }
  fail(id: string, message?: string): Promise<LifecycleReceipt> {
    return this.lifecycle("fail", id, message);
  }
  block(id: string, message?: string): Promise<LifecycleReceipt> {
    return this.lifecycle("block", id, message);
  }
  cancel(id: string, message?: string): Promise<LifecycleReceipt> {
    return this.lifecycle("cancel", id, message);
  }
  open(id: string, message?: string): Promise<LifecycleReceipt> {
    return this.lifecycle("open", id, message);
  }

  /** `ergo result <id> "<text>"`: the text is made one non-blank line. */
  async result(id: string, text: string): Promise<void> {
    const line = oneLine(text, 1000);
    if (line === "") throw new TypeError("ergo result text must not be blank");
    await this.run(["result", id, safeArg(line)]);
  }
}

/** ergo parses flags anywhere (cobra): keep free text from looking like one. */
function safeArg(text: string): string {
  return text.startsWith("-") ? `note: ${text}` : text;
}

// -----------------------------------------------------------------------------------------------------------------
// Release blockers (plasmite's file_release_blocker.sh, rewritten for ergo 6; ergo.md §11)

export function blockerEpicTitle(tag: string): string {
  return `Release blockers: ${tag}`;
}

export function blockerTaskTitle(tag: string, title: string): string {
  const prefix = `[release-blocker][${tag}] `;
  const flat = oneLine(title, 250);
  return flat.startsWith(prefix) ? flat : `${prefix}${flat}`;
}

export function isUnfinished(item: { state: string }): boolean {
  return !FINISHED_STATES.has(item.state);
}

/** Epics titled `Release blockers: <tag>`, active ones first (`list --all`: done epics stay findable). */
export async function findBlockerEpics(client: ErgoClient, tag: string): Promise<ErgoListItem[]> {
  const title = blockerEpicTitle(tag);
  const epics = (await client.list({ all: true })).filter((i) => i.kind === "epic" && i.title === title);
  return epics.sort((a, b) => Number(b.state === "active") - Number(a.state === "active"));
}

/**
 * Create a blocker task (callers hold `withErgoLock` across their lookup and this call). With `epicId` it goes into that epic. Otherwise into an existing `Release blockers: <tag>`
 * epic, or a root task of that title left by an interrupted two-step creation (adding a child promotes it), or a
 * new epic created together with the task (`new epic --file`, one atomic ergo write).
 */
export async function createBlockerTask(
  client: ErgoClient,
  input: { tag: string; title: string; body: string; epicId?: string | null },
): Promise<{ epicId: string; taskId: string }> {
  const title = blockerTaskTitle(input.tag, input.title);
  let epicId = input.epicId ?? null;
  if (epicId === null) {
    const epicTitle = blockerEpicTitle(input.tag);
    const items = await client.list({ all: true });
    const epic = items
      .filter((i) => i.kind === "epic" && i.title === epicTitle)
      .sort((a, b) => Number(b.state === "active") - Number(a.state === "active"))[0];
    const orphan = items.find(
      (i) =>
        i.kind === "task" &&
        i.epic_id === undefined &&
        i.title === epicTitle &&
        (i.state === "todo" || i.state === "draft"),
    );
    epicId = epic?.id ?? orphan?.id ?? null;
  }
  if (epicId !== null) {
    return { epicId, taskId: await client.newTask(title, { epic: epicId, body: input.body }) };
  }
  const epicTitle = blockerEpicTitle(input.tag);
  if (/^---$/m.test(input.body)) {
    // The epic file format splits on `---` lines: create root + child instead (adding the child promotes the root).
    const root = await client.newTask(epicTitle, { body: blockerEpicBody(input.tag) });
    return { epicId: root, taskId: await client.newTask(title, { epic: root, body: input.body }) };
  }
  const created = await client.newEpic(epicTitle, [{ title, body: input.body }], { body: blockerEpicBody(input.tag) });
  const task = created.tasks.find((t) => t.title === title) ?? created.tasks[0];
  if (task === undefined) {
    throw new ErgoError(`ergo new epic "${epicTitle}": the output lists no task`, {
      args: ["new", "epic"],
      failure: "output",
    });
  }
  return { epicId: created.epicId, taskId: task.id };
}

export interface ReleaseBlockerOptions {
  /** Directory holding (or under) the `.ergo` repository. */
  dir: string;
  binary?: string;
  tag: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  timeoutMs?: number;
  log?: Logger;
}

function clientFor(o: ReleaseBlockerOptions): ErgoClient {
  return new ErgoClient({
    dir: o.dir,
    ...(o.binary === undefined ? {} : { binary: o.binary }),
    ...(o.env === undefined ? {} : { env: o.env }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    ...(o.log === undefined ? {} : { log: o.log }),
  });
}

/**
 * File a release blocker for `tag`: task `[release-blocker][<tag>] <title>` in epic `Release blockers: <tag>`
 * (found with `list --all --json`, created when missing). Idempotent: an unfinished task with the same title in
 * that epic is returned instead (`created: false`). The monitor's ergo lock is held across the lookup and the
 * creation, so concurrent filers (daemons, `monitor release`) leave one epic.
 */
export function fileReleaseBlocker(
  options: ReleaseBlockerOptions & { title: string; body: string },
): Promise<{ epicId: string; taskId: string; created: boolean }> {
  const client = clientFor(options);
  return withErgoLock(client.dir, () => findOrFileBlocker(client, options), {
    ...(options.log === undefined ? {} : { log: options.log }),
  });
}

async function findOrFileBlocker(
  client: ErgoClient,
  options: ReleaseBlockerOptions & { title: string; body: string },
): Promise<{ epicId: string; taskId: string; created: boolean }> {
  const title = blockerTaskTitle(options.tag, options.title);
  const epics = await findBlockerEpics(client, options.tag);
  for (const epic of epics) {
    const existing = (await client.list({ epic: epic.id })).find(
      (i) => i.kind === "task" && i.title === title && isUnfinished(i),
    );
    if (existing) return { epicId: epic.id, taskId: existing.id, created: false };
  }
  const created = await createBlockerTask(client, {
    tag: options.tag,
    title,
    body: options.body,
    epicId: epics[0]?.id ?? null,
  });
  options.log?.info({ epic: created.epicId, task: created.taskId, tag: options.tag }, "filed release blocker");
  return { ...created, created: true };
}

/** Blocker tasks of `tag` that are not done or canceled (failed ones count as open); [] when there is no epic. */
export async function openBlockers(options: ReleaseBlockerOptions): Promise<ErgoListItem[]> {
  const client = clientFor(options);
  const out: ErgoListItem[] = [];
  for (const epic of await findBlockerEpics(client, options.tag)) {
    for (const item of await client.list({ epic: epic.id })) {
      if (item.kind === "task" && item.state !== "done" && item.state !== "canceled") out.push(item);
    }
  }
  return out;
}
