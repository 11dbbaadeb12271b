import path from "node:path";
import {
  blockerTaskTitle,
  createBlockerTask,
  ErgoClient,
  ErgoError,
  findBlockerEpics,
  isUnfinished,
  type ErgoListItem,
  type ShowFrontMatter,
} from "../../../ergo/client.ts";
import { findErgoDir, isDirectory, withErgoLock } from "../../../ergo/lock.ts";
import { errorMessage } from "../../../errors.ts";
import type { Logger } from "../../../log.ts";
import { SinkError, type AlertMessage, type Sink, type SinkContext, type SinkMemory } from "../../types.ts";
import { defineSink } from "../define.ts";
import type { SinkCheckDeps, SinkDeps } from "../deps.ts";
import { incidentTaskBody, markedIncident } from "./body.ts";
import { ErgoSinkSchema, type ErgoSinkConfig } from "./schema.ts";

export type { ErgoSinkConfig } from "./schema.ts";

export const ergoSink = defineSink({
  type: "ergo",
  schema: ErgoSinkSchema,
  secrets: () => [],
  create: (c, deps) => createErgoSink(c, deps),
  check: (c, deps, at) => ergoSinkIssues(c, deps, at),
});

/** SinkMemory keys: incident -> task, task -> incident (ownership), tag -> epic. */
export const ergoMemoryKeys = {
  incident: (incidentId: string) => `incident:${incidentId}`,
  task: (taskId: string) => `task:${taskId}`,
  epic: (tag: string) => `epic:${tag}`,
};

/**
 * Files one ergo task per incident in the epic `Release blockers: <tag>`:
 * open -> create (or adopt the existing task), remind -> `ergo result`, resolve -> `ergo done -m`,
 * reopen -> `ergo open` (or a fresh task when the old one is finished), degraded/recovered -> log only.
 * Deliveries are serialized in this process, and each holds the monitor's ergo lock (ergo/lock.ts) across its
 * find-or-create, so neither two incidents nor two processes (daemons, `monitor release`) create two epics.
 */
export function createErgoSink(config: ErgoSinkConfig, deps: SinkDeps): Sink {
  const dir = ergoSinkDir(config, deps);
  let queue: Promise<unknown> = Promise.resolve();
  return {
    name: config.name,
    type: "ergo",
    minIntervalMs: 0,
    deliver(message: AlertMessage, ctx: SinkContext): Promise<void> {
      const run = queue.then(() => deliverOne(config, dir, deps, message, ctx));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

async function deliverOne(
  config: ErgoSinkConfig,
  dir: string,
  deps: SinkDeps,
  message: AlertMessage,
  ctx: SinkContext,
): Promise<void> {
  const log = ctx.log.child({ sink: config.name, alert: message.id, incident: message.incident.id });
  if (message.kind === "degraded" || message.kind === "recovered") {
    log.info({ kind: message.kind }, `ergo sink: no task for ${message.kind} alerts: ${message.summary}`);
    return;
  }
  const client = new ErgoClient({
    dir,
    binary: config.binary,
    signal: ctx.signal,
    log,
    ...(deps.env === undefined ? {} : { env: deps.env }),
  });
  const tasks = new IncidentTasks(client, ctx.memory, log, config);
  try {
    // Held across find-or-create: another daemon or `monitor release` may file for the same tag right now.
    await withErgoLock(client.dir, () => tasks.deliver(message), { log });
  } catch (err) {
    throw toSinkError(config.name, err);
  }
}

/** `repo_dir`, relative to the config file's directory. */
export function ergoSinkDir(config: ErgoSinkConfig, deps: Pick<SinkDeps, "baseDir">): string {
  if (path.isAbsolute(config.repo_dir)) return config.repo_dir;
  if (deps.baseDir === undefined)
    throw new TypeError(`ergo sink "${config.name}": relative repo_dir ${config.repo_dir} needs the config's baseDir`);
  return path.resolve(deps.baseDir, config.repo_dir);
}

/**
 * Start-up check of one `settings.alerts.sinks[]` entry (`at` is its config path): `repo_dir` must exist and be
 * an ergo repository (a `.ergo` in it or above it, as ergo finds it); otherwise every alert would dead-letter.
 */
export function ergoSinkIssues(config: ErgoSinkConfig, deps: Pick<SinkCheckDeps, "baseDir">, at: string): string[] {
  const dir = ergoSinkDir(config, deps);
  if (!isDirectory(dir)) return [`${at}.repo_dir: ergo directory ${dir} does not exist`];
  if (findErgoDir(dir) === null)
    return [`${at}.repo_dir: ${dir} is not an ergo repository (no .ergo in it or above it; run ergo init ${dir})`];
  return [];
}

function toSinkError(name: string, err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const retryable = err instanceof ErgoError && err.transient;
  return new SinkError(`ergo sink "${name}": ${errorMessage(err)}`, { retryable, cause: err });
}

const REOPENABLE: ReadonlySet<string> = new Set(["draft", "todo", "blocked"]);

class IncidentTasks {
  readonly #client: ErgoClient;
  readonly #memory: SinkMemory;
  readonly #log: Logger;
  readonly #config: ErgoSinkConfig;

  constructor(client: ErgoClient, memory: SinkMemory, log: Logger, config: ErgoSinkConfig) {
    this.#client = client;
    this.#memory = memory;
    this.#log = log;
    this.#config = config;
  }

  deliver(message: AlertMessage): Promise<unknown> {
    switch (message.kind) {
      case "open":
        return this.ensureOpen(message);
      case "remind":
        return this.remind(message);
      case "resolve":
        return this.resolve(message);
      case "reopen":
        return this.reopen(message);
      case "degraded":
      case "recovered":
        return Promise.resolve();
    }
  }

  /** The task of this incident that is still unfinished, creating one when there is none. */
  async ensureOpen(message: AlertMessage): Promise<string> {
    const current = await this.#current(message);
    if (current !== null && current.state !== null && isUnfinished({ state: current.state })) {
      this.#log.debug({ task: current.id }, "ergo task already filed");
      return current.id;
    }
    return this.#create(message);
  }

  async remind(message: AlertMessage): Promise<void> {
    const taskId = await this.ensureOpen(message);
    const since = message.incident.opened_at ?? message.incident.first_seen;
    await this.#client.result(
      taskId,
      `Still failing at ${message.created_at} (open since ${since}): ${message.summary}`,
    );
  }

  async resolve(message: AlertMessage): Promise<void> {
    const current = await this.#current(message);
    if (current === null) {
      this.#log.info("no ergo task for this incident; nothing to close");
      return;
    }
    if (current.state === "done" || current.state === "canceled") {
      this.#log.info({ task: current.id, state: current.state }, "ergo task already finished");
      return;
    }
    if (current.state === "draft") {
      this.#log.warn({ task: current.id }, "ergo task is a draft (ergo rejects done on drafts); left as is");
      return;
    }
    await this.#client.done(current.id, message.resolution ?? `Resolved: ${message.summary}`);
  }

  async reopen(message: AlertMessage): Promise<void> {
    const current = await this.#current(message);
    const note = `Reopened: ${message.summary}`;
    if (current !== null && current.state !== null) {
      if (REOPENABLE.has(current.state)) {
        await this.#client.open(current.id, note);
        return;
      }
      if (current.state === "doing") {
        // `open` would drop the claim of whoever is working on it: leave a note instead.
        await this.#client.result(current.id, note);
        return;
      }
    }
    // Finished (open rejects done/failed/canceled) or gone: file a fresh task and remap the incident to it.
    await this.#create(message);
  }

  /** The task mapped to this incident, or (memory lost) the one found in the tag's epic. */
  async #current(message: AlertMessage): Promise<{ id: string; state: string | null } | null> {
    const incidentId = message.incident.id;
    const mapped = this.#memory.get(ergoMemoryKeys.incident(incidentId));
    if (mapped !== null) {
      const fm: ShowFrontMatter | null = await this.#client.task(mapped);
      if (fm !== null) return { id: mapped, state: fm.state };
      this.#log.warn({ task: mapped }, "remembered ergo task no longer exists");
    }
    const epic = await this.#epic(message.incident.tag);
    if (epic === null) return null;
    const found = await this.#findInEpic(message, epic.items);
    if (found === null) return null;
    this.#remember(message, found.id, epic.id);
    return { id: found.id, state: found.state };
  }

  /** Looked up once per delivery; re-read only after this delivery created something. */
  #epicLookup: Promise<{ id: string; items: ErgoListItem[] } | null> | undefined;
  #searched: ErgoListItem | null | undefined;

  #epic(tag: string): Promise<{ id: string; items: ErgoListItem[] } | null> {
    this.#epicLookup ??= this.#lookupEpic(tag);
    return this.#epicLookup;
  }

  async #lookupEpic(tag: string): Promise<{ id: string; items: ErgoListItem[] } | null> {
    const key = ergoMemoryKeys.epic(tag);
    const known = this.#memory.get(key);
    if (known !== null) {
      try {
        return { id: known, items: await this.#client.list({ epic: known }) };
      } catch (err) {
        if (!(err instanceof ErgoError && err.notFound)) throw err;
        this.#log.warn({ epic: known }, "remembered ergo epic no longer exists");
      }
    }
    const epic = (await findBlockerEpics(this.#client, tag))[0];
    if (epic === undefined) return null;
    this.#memory.set(key, epic.id);
    return { id: epic.id, items: await this.#client.list({ epic: epic.id }) };
  }

  /**
   * An unfinished task of this incident among the epic's items: same title (not owned by another incident in
   * memory, and not marked for another incident in its body), or any blocker of the tag whose body marks it.
   */
  async #findInEpic(message: AlertMessage, items: readonly ErgoListItem[]): Promise<ErgoListItem | null> {
    if (this.#searched !== undefined) return this.#searched;
    this.#searched = await this.#searchEpic(message, items);
    return this.#searched;
  }

  async #searchEpic(message: AlertMessage, items: readonly ErgoListItem[]): Promise<ErgoListItem | null> {
    const incidentId = message.incident.id;
    const title = this.#title(message);
    const prefix = blockerTaskTitle(message.incident.tag, "");
    const candidates = items
      .filter((i) => i.kind === "task" && isUnfinished(i) && i.title.startsWith(prefix.trimEnd()))
      .sort((a, b) => Number(b.title === title) - Number(a.title === title));
    for (const item of candidates) {
      const owner = this.#memory.get(ergoMemoryKeys.task(item.id));
      if (owner !== null && owner !== incidentId) continue;
      const marked = markedIncident(await this.#client.showBody(item.id));
      if (marked === incidentId || (marked === null && item.title === title)) return item;
    }
    return null;
  }

  async #create(message: AlertMessage): Promise<string> {
    const epic = await this.#epic(message.incident.tag);
    if (epic !== null) {
      // Re-check by title/marker before creating: a restart may have lost the mapping of a filed task.
      const found = await this.#findInEpic(message, epic.items);
      if (found !== null) {
        this.#remember(message, found.id, epic.id);
        return found.id;
      }
    }
    const created = await createBlockerTask(this.#client, {
      tag: message.incident.tag,
      title: this.#title(message),
      body: incidentTaskBody(message, this.#config.agent),
      epicId: epic?.id ?? null,
    });
    this.#remember(message, created.taskId, created.epicId);
    this.#epicLookup = undefined;
    this.#searched = undefined;
    this.#log.info({ task: created.taskId, epic: created.epicId }, "filed ergo release blocker");
    return created.taskId;
  }

  #title(message: AlertMessage): string {
    return blockerTaskTitle(message.incident.tag, message.summary);
  }

  #remember(message: AlertMessage, taskId: string, epicId: string): void {
    this.#memory.set(ergoMemoryKeys.incident(message.incident.id), taskId);
    this.#memory.set(ergoMemoryKeys.task(taskId), message.incident.id);
    this.#memory.set(ergoMemoryKeys.epic(message.incident.tag), epicId);
  }
}
