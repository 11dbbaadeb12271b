/**
 * Fake ergo 6.0.0 CLI for tests: the contract in ../../../shared/reference/ergo.md, on a JSON file store.
 *
 * Usage
 * -----
 * - Executable: `test/fakes/bin/ergo` (a `#!/usr/bin/env node` launcher that imports this file). Spawn it by
 *   absolute path (`FAKE_ERGO_BIN`) or put `FAKE_ERGO_BIN_DIR` first on PATH and spawn plain `ergo`
 *   (`fakeErgoEnv()` builds such an env). Under a Node older than 22.18 the launcher re-executes itself with
 *   `$FAKE_ERGO_NODE` or the repo's `.tools/node_modules/.bin/node`.
 * - Repository: `initFakeErgo(dir)` (or `ergo init`) creates `<dir>/.ergo/`; commands discover it by walking up
 *   from the cwd or `--dir`, like ergo. State lives in `.ergo/fake-backlog.json` (NOT ergo's backlog.jsonl format;
 *   read it with `readFakeStore(dir)`), lifecycle/result notes in `.ergo/journal.jsonl` (ergo's journal shape).
 * - Every invocation that finds a repository appends one line to `.ergo/fake-calls.jsonl`
 *   (`readFakeCalls(dir)`): argv, cwd, stdin kind (`tty` | `null` = /dev/null | `pipe` | `socket` = Node's piped
 *   stdio | `file` | `closed`), the parent process name (`parent`, from /proc: "sh"/"bash" means a shell was
 *   used), exit code and the `error:` text.
 * - stdin rules as in ergo.md §6: stdin counts as "terminal" only when it is a character device (TTY or
 *   /dev/null). done/fail/block/cancel/open then fail with `error: <cmd> does not read stdin; …`; new task/new epic
 *   read a non-terminal stdin to EOF as the body; body requires it.
 * - Locking: every command except version/help takes `.ergo/lock.owner` (exclusive create, pid inside, stale
 *   owners are taken over). Waits up to `FAKE_ERGO_LOCK_TIMEOUT_MS` (default 10000) then fails with
 *   `error: lock busy after 10s` + hint. `holdFakeErgoLock(dir)` holds it from a test to provoke that.
 * - Fault injection: `FAKE_ERGO_FAIL_NEXT=<n>` makes the next n invocations in that repository fail with
 *   `error: lock busy after 10s` without touching the store. The counter is armed once per distinct value (use
 *   `2@anything` to arm again with the same count); `failNextFakeErgo(dir, n)` arms it without env.
 * - Removed commands/flags answer like ergo 6: global `--json`, `set`, `plan`, `reopen`, `release`,
 *   `--summary`/`--result`, `list --epics`, JSON creation titles. Not implemented: prune, compact, quickstart.
 * - Output/exit: stdout only on success; on failure exit 1 with `error: …` and optionally `hint: …` on stderr.
 */
import { randomInt, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import tty from "node:tty";

export const FAKE_ERGO_BIN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "bin");
export const FAKE_ERGO_BIN = path.join(FAKE_ERGO_BIN_DIR, "ergo");
export const FAKE_ERGO_VERSION = "6.0.0";

const STORE_FILE = "fake-backlog.json";
const CALLS_FILE = "fake-calls.jsonl";
const FAIL_FILE = "fake-fail-next.json";
const LOCK_OWNER = "lock.owner";
const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export type FakeState = "draft" | "todo" | "doing" | "blocked" | "done" | "failed" | "canceled" | "error";
const FINISHED: ReadonlySet<string> = new Set(["done", "failed", "canceled"]);

export interface FakeTask {
  id: string;
  uuid: string;
  title: string;
  body: string;
  state: FakeState;
  epic_id: string | null;
  explicit_epic: boolean;
  claimed_by: string | null;
  claimed_at: string | null;
  created_at: string;
  updated_at: string;
  /** Ids this task depends on (waits for). */
  deps: string[];
  results: { text: string; at: string; file: string | null }[];
}

export interface FakeStore {
  version: 1;
  tasks: FakeTask[];
}

export interface FakeCall {
  at: string;
  pid: number;
  parent: string | null;
  argv: string[];
  cwd: string;
  stdin: StdinKind;
  exit: number;
  error: string | null;
}

type StdinKind = "tty" | "null" | "pipe" | "socket" | "file" | "closed" | "other";

class CliError extends Error {
  readonly hint: string | null;
  constructor(message: string, hint: string | null = null) {
    super(message);
    this.hint = hint;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers for tests

/** Environment with the fake first on PATH (so `ergo` resolves to it), plus `extra`. */
export function fakeErgoEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${FAKE_ERGO_BIN_DIR}${path.delimiter}${process.env["PATH"] ?? ""}`, ...extra };
}

/** Create `<dir>/.ergo` with an empty store (like `ergo init`). Returns the `.ergo` path. */
export function initFakeErgo(dir: string): string {
  const ergoDir = path.join(path.resolve(dir), ".ergo");
  fs.mkdirSync(ergoDir, { recursive: true });
  if (!fs.existsSync(path.join(ergoDir, STORE_FILE))) saveStore(ergoDir, { version: 1, tasks: [] });
  fs.closeSync(fs.openSync(path.join(ergoDir, "lock"), "a"));
  return ergoDir;
}

export function readFakeStore(dir: string): FakeStore {
  return loadStore(path.join(path.resolve(dir), ".ergo"));
}

export function readFakeCalls(dir: string): FakeCall[] {
  const file = path.join(path.resolve(dir), ".ergo", CALLS_FILE);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as FakeCall);
}

export function readFakeJournal(dir: string): Record<string, unknown>[] {
  const file = path.join(path.resolve(dir), ".ergo", "journal.jsonl");
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Hold the repository lock from the calling process until `release()` (provokes `lock busy`). */
export function holdFakeErgoLock(dir: string): () => void {
  const owner = path.join(path.resolve(dir), ".ergo", LOCK_OWNER);
  fs.writeFileSync(owner, String(process.pid), { flag: "wx" });
  return () => fs.rmSync(owner, { force: true });
}

/** Make the next `n` invocations in this repository fail with `lock busy`. */
export function failNextFakeErgo(dir: string, n: number): void {
  const file = path.join(path.resolve(dir), ".ergo", FAIL_FILE);
  fs.writeFileSync(file, JSON.stringify({ armed: `helper:${randomUUID()}`, remaining: n }));
}

// ---------------------------------------------------------------------------------------------------------------
// Store

function loadStore(ergoDir: string): FakeStore {
  const file = path.join(ergoDir, STORE_FILE);
  if (!fs.existsSync(file)) return { version: 1, tasks: [] };
  return JSON.parse(fs.readFileSync(file, "utf8")) as FakeStore;
}

function saveStore(ergoDir: string, store: FakeStore): void {
  const file = path.join(ergoDir, STORE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(store, null, 1)}\n`);
  fs.renameSync(tmp, file);
}

function journal(ergoDir: string, entry: { task_id: string; kind: string; text?: string; file?: string }): void {
  const line = { version: 1, task_id: entry.task_id, kind: entry.kind, at: now(), ...pickDefined(entry) };
  fs.appendFileSync(path.join(ergoDir, "journal.jsonl"), `${JSON.stringify(line)}\n`);
}

function pickDefined(entry: { text?: string; file?: string }): Record<string, string> {
  const out: Record<string, string> = {};
  if (entry.text !== undefined) out["text"] = entry.text;
  if (entry.file !== undefined) out["file"] = entry.file;
  return out;
}

function now(): string {
  return new Date().toISOString();
}

function newId(store: FakeStore): string {
  for (;;) {
    let id = "";
    for (let i = 0; i < 6; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
    if (!store.tasks.some((t) => t.id === id)) return id;
  }
}

function find(store: FakeStore, id: string): FakeTask {
  const task = store.tasks.find((t) => t.id === id);
  if (!task) throw new CliError(`unknown task id ${id}`);
  return task;
}

function children(store: FakeStore, id: string): FakeTask[] {
  return store.tasks.filter((t) => t.epic_id === id);
}

function isEpic(store: FakeStore, t: FakeTask): boolean {
  return t.explicit_epic || children(store, t.id).length > 0;
}

function epicState(store: FakeStore, epic: FakeTask): string {
  const kids = children(store, epic.id);
  if (kids.length === 0) return "empty";
  if (kids.some((k) => !FINISHED.has(k.state))) return "active";
  if (kids.some((k) => k.state === "failed")) return "failed";
  if (kids.every((k) => k.state === "canceled")) return "canceled";
  return "done";
}

function isReady(store: FakeStore, t: FakeTask): boolean {
  if (t.state !== "todo" || isEpic(store, t)) return false;
  const parent = t.epic_id ? store.tasks.find((p) => p.id === t.epic_id) : undefined;
  const deps = [...t.deps, ...(parent?.deps ?? [])];
  return deps.every((d) => {
    const dep = store.tasks.find((x) => x.id === d);
    if (!dep) return true;
    return isEpic(store, dep) ? FINISHED.has(epicState(store, dep)) : FINISHED.has(dep.state);
  });
}

/** Dependency order (a task after what it depends on), ties by id. */
function ordered(tasks: FakeTask[]): FakeTask[] {
  const pending = [...tasks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ids = new Set(pending.map((t) => t.id));
  const out: FakeTask[] = [];
  const placed = new Set<string>();
  while (pending.length > 0) {
    const idx = pending.findIndex((t) => t.deps.every((d) => !ids.has(d) || placed.has(d)));
    const next = pending.splice(idx === -1 ? 0 : idx, 1)[0]!;
    placed.add(next.id);
    out.push(next);
  }
  return out;
}

function oldestReady(store: FakeStore): FakeTask | undefined {
  return store.tasks
    .filter((t) => isReady(store, t))
    .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))[0];
}

// ---------------------------------------------------------------------------------------------------------------
// Argument parsing (cobra-like: interspersed flags, --flag=value, `--` ends flags)

const VALUE_FLAGS = new Set(["--dir", "--color", "--epic", "--file", "--agent", "-m", "--message"]);
const BOOL_FLAGS = new Set([
  "--json",
  "--all",
  "--ready",
  "--draft",
  "--body",
  "--append",
  "--root",
  "--yes",
  "--help",
  "-h",
  "--version",
  "-v",
]);
const GLOBAL_FLAGS = new Set(["--dir", "--color", "--help", "-h", "--version", "-v"]);
const COMMAND_FLAGS: Record<string, readonly string[]> = {
  init: [],
  "new task": ["--epic", "--draft"],
  "new epic": ["--file", "--draft"],
  list: ["--epic", "--ready", "--all", "--json"],
  show: ["--body"],
  claim: ["--agent"],
  done: ["-m", "--message"],
  fail: ["-m", "--message"],
  block: ["-m", "--message"],
  cancel: ["-m", "--message"],
  open: ["-m", "--message"],
  result: ["--file"],
  title: [],
  body: ["--append"],
  move: ["--root"],
  sequence: [],
  unsequence: [],
  where: [],
  info: [],
  prune: ["--yes"],
  compact: [],
  quickstart: [],
  version: [],
};

interface Parsed {
  command: string;
  positionals: string[];
  flags: Map<string, string | true>;
}

function canonical(flag: string): string {
  if (flag === "--message") return "-m";
  if (flag === "-h") return "--help";
  if (flag === "-v") return "--version";
  return flag;
}

function parseArgs(argv: readonly string[]): Parsed {
  for (const a of argv) {
    const name = a.split("=")[0];
    if (name === "--summary" || name === "--result") {
      throw new CliError(
        name === "--result"
          ? `--result is not accepted; use ergo result <id> "<text>" --file <path>`
          : `--summary is not accepted; use -m <message> on a lifecycle command or ergo result <id> "<text>"`,
      );
    }
  }
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  const flagOrder: { flag: string; beforeCommand: boolean }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (VALUE_FLAGS.has(name)) {
        let value: string;
        if (eq > 0) value = a.slice(eq + 1);
        else {
          const next = argv[i + 1];
          if (next === undefined) throw new CliError(`flag needs an argument: ${name}`);
          value = next;
          i++;
        }
        flags.set(canonical(name), value);
      } else if (BOOL_FLAGS.has(name)) {
        // ergo 6 has no global --json: `ergo --json list …` fails on it first.
        if (name === "--json" && positionals.length === 0) throw new CliError("unknown flag: --json");
        flags.set(canonical(name), true);
      } else if (name.startsWith("--")) {
        throw new CliError(`unknown flag: ${name}`);
      } else {
        throw new CliError(`unknown shorthand flag: '${name.slice(1, 2)}' in ${name}`);
      }
      flagOrder.push({ flag: canonical(name), beforeCommand: positionals.length === 0 });
      continue;
    }
    positionals.push(a);
  }
  const first = positionals[0];
  if (first === "set") {
    throw new CliError(
      `unknown command "set" for "ergo"`,
      "use claim, done, fail, block, cancel, open, title, body, or move",
    );
  }
  if (first === "plan") throw new CliError(`plan is not accepted; use ergo new epic "<title>" --file <path>`);
  if (first === "reopen") throw new CliError(`reopen is not accepted; use ergo open <id>`);
  let command = first ?? "";
  let rest = positionals.slice(1);
  if (first === "new") {
    const kind = positionals[1];
    if (kind !== "task" && kind !== "epic") {
      throw new CliError(
        kind === undefined ? `usage: ergo new task|epic "<title>"` : `unknown command "${kind}" for "ergo new"`,
        "run `ergo new --help`",
      );
    }
    command = `new ${kind}`;
    rest = positionals.slice(2);
  }
  if (command === "" && !flags.has("--help") && !flags.has("--version")) {
    throw new CliError("missing command", "run `ergo --help`");
  }
  if (command !== "" && !(command in COMMAND_FLAGS)) throw new CliError(`unknown command "${command}" for "ergo"`);
  const allowed = new Set([...GLOBAL_FLAGS, ...(COMMAND_FLAGS[command] ?? [])].map(canonical));
  for (const { flag, beforeCommand } of flagOrder) {
    // ergo 6 has no global --json: `ergo --json list` fails like any unknown flag.
    if (!allowed.has(flag) || (flag === "--json" && beforeCommand)) throw new CliError(`unknown flag: ${flag}`);
  }
  return { command, positionals: rest, flags };
}

function str(p: Parsed, flag: string): string | undefined {
  const v = p.flags.get(flag);
  return typeof v === "string" ? v : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Environment probes

function stdinKind(): StdinKind {
  try {
    const st = fs.fstatSync(0);
    if (st.isCharacterDevice()) return tty.isatty(0) ? "tty" : "null";
    if (st.isFIFO()) return "pipe";
    if (st.isSocket()) return "socket";
    if (st.isFile()) return "file";
    return "other";
  } catch {
    return "closed";
  }
}

/** ergo's rule: stdin is "terminal" when it is a character device (a TTY or /dev/null). */
function stdinIsTerminal(kind: StdinKind): boolean {
  return kind === "tty" || kind === "null" || kind === "closed";
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

function parentName(): string | null {
  const fromLauncher = process.env["FAKE_ERGO_PARENT"];
  if (fromLauncher) return fromLauncher;
  try {
    return fs.readFileSync(`/proc/${process.ppid}/comm`, "utf8").trim();
  } catch {
    return null;
  }
}

function findErgoDir(start: string): string {
  const abs = path.resolve(start);
  if (path.basename(abs) === ".ergo" && isDir(abs)) return abs;
  let dir = abs;
  for (;;) {
    const candidate = path.join(dir, ".ergo");
    if (fs.existsSync(candidate)) {
      if (!isDir(candidate)) throw new CliError(`${candidate} exists but is not a directory`);
      return candidate;
    }
    const up = path.dirname(dir);
    if (up === dir) {
      throw new CliError(
        "no .ergo directory found (run ergo init)",
        "run `ergo init` or target an existing graph with `ergo --dir <path>`",
      );
    }
    dir = up;
  }
}

/** Best effort, for logging calls that failed before discovery (removed commands, bad flags). */
function discoverQuietly(cwd: string, argv: readonly string[]): string | null {
  let dir: string | undefined;
  argv.forEach((a, i) => {
    if (a === "--dir") dir = argv[i + 1];
    else if (a.startsWith("--dir=")) dir = a.slice("--dir=".length);
  });
  try {
    return findErgoDir(path.resolve(cwd, dir ?? "."));
  } catch {
    return null;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function formatWait(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return `${ms / 1000}s`;
}

const LOCK_HINT = "another ergo process is still running; try again in a moment";

async function withLock<T>(ergoDir: string, fn: () => Promise<T> | T): Promise<T> {
  const raw = Number(process.env["FAKE_ERGO_LOCK_TIMEOUT_MS"] ?? "10000");
  const timeout = Number.isFinite(raw) && raw >= 0 ? raw : 10_000;
  fs.closeSync(fs.openSync(path.join(ergoDir, "lock"), "a"));
  const owner = path.join(ergoDir, LOCK_OWNER);
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      fs.writeFileSync(owner, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (ownerIsGone(owner)) {
        fs.rmSync(owner, { force: true });
        continue;
      }
      if (Date.now() >= deadline) throw new CliError(`lock busy after ${formatWait(timeout)}`, LOCK_HINT);
      await sleep(10 + randomInt(20));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(owner, { force: true });
  }
}

function ownerIsGone(owner: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(owner, "utf8").trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** FAKE_ERGO_FAIL_NEXT / failNextFakeErgo: consume one injected failure, if any. */
function injectedFailure(ergoDir: string): boolean {
  const file = path.join(ergoDir, FAIL_FILE);
  let state: { armed: string; remaining: number } | null = null;
  if (fs.existsSync(file)) state = JSON.parse(fs.readFileSync(file, "utf8")) as { armed: string; remaining: number };
  const env = process.env["FAKE_ERGO_FAIL_NEXT"];
  if (env && env !== state?.armed) {
    const n = Number.parseInt(env, 10);
    state = { armed: env, remaining: Number.isFinite(n) && n > 0 ? n : 0 };
  }
  if (!state || state.remaining <= 0) {
    if (state) fs.writeFileSync(file, JSON.stringify(state));
    return false;
  }
  state.remaining -= 1;
  fs.writeFileSync(file, JSON.stringify(state));
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

interface Ctx {
  parsed: Parsed;
  ergoDir: string;
  stdin: StdinKind;
  out: string[];
}

const HELP = `ergo - a task graph for humans and agents (fake ${FAKE_ERGO_VERSION})

Usage:
  ergo init [dir]
  ergo new task "<title>" [--epic <id>] [--draft]
  ergo new epic "<title>" --file <path> [--draft]
  ergo list [--epic <id>] [--ready | --all] [--json]
  ergo show <id> [--body]
  ergo claim [<id>] --agent <identity>
  ergo done|fail|block|cancel|open <id> [-m <message>]
  ergo result <id> "<text>" [--file <path>]
  ergo title <id> <title> | body <id> [--append] | move <id> <epic-id>|--root
  ergo sequence <A> <B> [<C>...] | unsequence <A> <B> [<C>...]
  ergo where | info | version

Global flags: --dir <path>, --color auto|always|never, --help, --version
`;

function cmdInit(parsed: Parsed, cwd: string, out: string[]): string {
  const target = path.resolve(cwd, parsed.positionals[0] ?? str(parsed, "--dir") ?? ".");
  const ergoDir = path.join(target, ".ergo");
  if (fs.existsSync(ergoDir) && !isDir(ergoDir)) throw new CliError(`${ergoDir} exists but is not a directory`);
  const existed = fs.existsSync(path.join(ergoDir, STORE_FILE));
  initFakeErgo(target);
  out.push(existed ? `Ergo already initialized at ${ergoDir}` : `Initialized Ergo at ${ergoDir}`);
  return ergoDir;
}

function checkCreationTitle(title: string): void {
  const trimmed = title.trim();
  if (trimmed.startsWith("{")) {
    try {
      const obj = JSON.parse(trimmed) as unknown;
      if (obj && typeof obj === "object" && ["title", "epic", "state", "claim", "result"].some((k) => k in obj)) {
        throw new CliError(`creation JSON is not accepted; use ergo new task "<title>" --epic <id>`);
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
    }
  }
  if (trimmed === "") throw new CliError("title must not be blank");
  if (/[\r\n]/.test(title)) throw new CliError("title must be a single line");
}

function makeTask(store: FakeStore, fields: Partial<FakeTask> & { title: string }): FakeTask {
  const ts = now();
  const task: FakeTask = {
    id: newId(store),
    uuid: randomUUID(),
    body: "",
    state: "todo",
    epic_id: null,
    explicit_epic: false,
    claimed_by: null,
    claimed_at: null,
    created_at: ts,
    updated_at: ts,
    deps: [],
    results: [],
    ...fields,
  };
  store.tasks.push(task);
  return task;
}

async function cmdNewTask(c: Ctx): Promise<void> {
  const [title, ...extra] = c.parsed.positionals;
  if (title === undefined || extra.length > 0) {
    throw new CliError(
      `usage: ergo new task "<title>" [--epic <id>] [--draft]; optional piped stdin becomes the body`,
      "run `ergo new task --help`",
    );
  }
  checkCreationTitle(title);
  const body = stdinIsTerminal(c.stdin) ? "" : await readStdin();
  await withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const epicId = str(c.parsed, "--epic");
    if (epicId !== undefined) {
      const parent = find(store, epicId);
      if (parent.epic_id !== null) {
        throw new CliError(`cannot add child to task ${epicId}: task ${epicId} is inside epic ${parent.epic_id}`);
      }
      if (!isEpic(store, parent)) {
        if (parent.state !== "todo" && parent.state !== "draft") {
          throw new CliError(
            `cannot add child to task ${epicId}: cannot promote task ${epicId}: state is "${parent.state}" (must be todo or draft)`,
          );
        }
        if (parent.claimed_by !== null || parent.results.length > 0) {
          throw new CliError(
            `cannot add child to task ${epicId}: cannot promote task ${epicId}: it has a claim or results`,
          );
        }
      }
    }
    const task = makeTask(store, {
      title,
      body,
      state: c.parsed.flags.has("--draft") ? "draft" : "todo",
      epic_id: epicId ?? null,
    });
    saveStore(c.ergoDir, store);
    journal(c.ergoDir, { task_id: task.id, kind: "created" });
    c.out.push(task.id);
  });
}

/** `# Title` + body chunks separated by lines that are exactly `---`. */
export function parseEpicFile(text: string, file: string): { title: string; body: string }[] {
  const chunks: string[][] = [[]];
  for (const line of text.replace(/\r\n/g, "\n").split("\n")) {
    if (line === "---") chunks.push([]);
    else chunks[chunks.length - 1]!.push(line);
  }
  const out: { title: string; body: string }[] = [];
  chunks.forEach((lines, i) => {
    while (lines.length > 0 && lines[0]!.trim() === "") lines.shift();
    while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
    if (lines.length === 0) return;
    const m = /^# (.+)$/.exec(lines[0]!);
    if (!m) throw new CliError(`${file}: chunk ${i + 1}: expected a "# <title>" line`, "run `ergo new epic --help`");
    const title = m[1]!.trim();
    const rest = lines.slice(1);
    while (rest.length > 0 && rest[0]!.trim() === "") rest.shift();
    const body = rest.length > 0 ? `${rest.join("\n")}\n` : "";
    if (out.some((o) => o.title === title)) throw new CliError(`${file}: duplicate task title "${title}"`);
    out.push({ title, body });
  });
  if (out.length === 0) throw new CliError(`${file}: epic file contains no task chunks`, "run `ergo new epic --help`");
  return out;
}

async function cmdNewEpic(c: Ctx, cwd: string): Promise<void> {
  const [title, ...extra] = c.parsed.positionals;
  const file = str(c.parsed, "--file");
  if (title === undefined || extra.length > 0 || file === undefined) {
    throw new CliError(
      `usage: ergo new epic "<title>" --file <path> [--draft]; optional piped stdin becomes the epic body`,
      "run `ergo new epic --help`",
    );
  }
  checkCreationTitle(title);
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(cwd, file), "utf8");
  } catch {
    throw new CliError(`open ${file}: no such file or directory`);
  }
  const chunks = parseEpicFile(text, file);
  const body = stdinIsTerminal(c.stdin) ? "" : await readStdin();
  await withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const state: FakeState = c.parsed.flags.has("--draft") ? "draft" : "todo";
    const epic = makeTask(store, { title, body, state, explicit_epic: true });
    const kids = chunks.map((ch) => makeTask(store, { title: ch.title, body: ch.body, state, epic_id: epic.id }));
    saveStore(c.ergoDir, store);
    for (const t of [epic, ...kids]) journal(c.ergoDir, { task_id: t.id, kind: "created" });
    c.out.push(`Epic ${epic.id} - ${epic.title}`);
    for (const k of kids) c.out.push(`  ${k.id} - ${k.title}`);
    c.out.push(`${kids.length} tasks, 0 dependencies`);
  });
}

interface ListItem {
  id: string;
  title: string;
  kind: "task" | "epic";
  state: string;
  ready?: boolean;
  epic_id?: string;
}

function item(store: FakeStore, t: FakeTask): ListItem {
  if (isEpic(store, t)) return { id: t.id, title: t.title, kind: "epic", state: epicState(store, t) };
  const it: ListItem = { id: t.id, title: t.title, kind: "task", state: t.state, ready: isReady(store, t) };
  if (t.epic_id !== null) it.epic_id = t.epic_id;
  return it;
}

function listItems(store: FakeStore, opts: { epic?: string; all: boolean; ready: boolean }): ListItem[] {
  if (opts.epic !== undefined) {
    const epic = store.tasks.find((t) => t.id === opts.epic);
    if (!epic || epic.epic_id !== null || !isEpic(store, epic)) throw new CliError(`no such epic: ${opts.epic}`);
    const kids = ordered(children(store, epic.id)).filter((k) => !opts.ready || isReady(store, k));
    return [item(store, epic), ...kids.map((k) => item(store, k))];
  }
  const out: ListItem[] = [];
  for (const root of ordered(store.tasks.filter((t) => t.epic_id === null))) {
    if (isEpic(store, root)) {
      const st = epicState(store, root);
      const kids = ordered(children(store, root.id));
      if (opts.ready) {
        out.push(...kids.filter((k) => isReady(store, k)).map((k) => item(store, k)));
        continue;
      }
      if (!opts.all && (st === "done" || st === "canceled")) continue;
      out.push(item(store, root));
      for (const k of kids) {
        if (!opts.all && k.state === "canceled") continue;
        out.push(item(store, k));
      }
    } else {
      if (opts.ready) {
        if (isReady(store, root)) out.push(item(store, root));
        continue;
      }
      if (!opts.all && (root.state === "canceled" || root.state === "done")) continue;
      out.push(item(store, root));
    }
  }
  return out;
}

const ICON: Record<string, string> = {
  draft: "◌",
  todo: "○",
  doing: "↻",
  blocked: "⊘",
  done: "✓",
  failed: "✗",
  canceled: "–",
  error: "!",
};

function cmdList(c: Ctx): Promise<void> {
  const all = c.parsed.flags.has("--all");
  const ready = c.parsed.flags.has("--ready");
  if (all && ready) throw new CliError("conflicting flags: --ready and --all");
  return withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const epic = str(c.parsed, "--epic");
    const items = listItems(store, { ...(epic === undefined ? {} : { epic }), all, ready });
    if (c.parsed.flags.has("--json")) {
      c.out.push(JSON.stringify({ version: 1, items }));
      return;
    }
    items.forEach((it, i) => {
      if (it.kind === "epic") c.out.push(`${it.id}  ◈  ${it.title}`);
      else if (it.epic_id !== undefined) {
        const last = items[i + 1]?.epic_id !== it.epic_id;
        c.out.push(`${it.id}  ${last ? "└" : "├"} ${ICON[it.state] ?? "?"} ${it.title}`);
      } else c.out.push(`${it.id}  ${ICON[it.state] ?? "?"} ${it.title}`);
    });
    const readyCount = items.filter((it) => it.ready === true).length;
    if (items.length === 0) c.out.push("No ergo tasks.");
    else c.out.push("", `${readyCount} ready`);
  });
}

function renderShow(store: FakeStore, ergoDir: string, t: FakeTask): string[] {
  const epic = isEpic(store, t);
  const lines = ["---"];
  if (epic) lines.push("epic: true");
  lines.push(`id: ${JSON.stringify(t.id)}`, `title: ${JSON.stringify(t.title)}`);
  lines.push(`state: ${JSON.stringify(epic ? epicState(store, t) : t.state)}`);
  if (t.epic_id !== null) lines.push(`parent: ${JSON.stringify(t.epic_id)}`);
  if (t.claimed_by !== null) {
    lines.push(`claimed_by: ${JSON.stringify(t.claimed_by)}`, `claimed_at: ${JSON.stringify(t.claimed_at)}`);
  }
  lines.push(`created_at: ${JSON.stringify(t.created_at)}`, `updated_at: ${JSON.stringify(t.updated_at)}`, "---", "");
  lines.push(`# ${t.title}`, "");
  if (t.body !== "") lines.push(t.body.replace(/\n$/, ""), "");
  if (t.deps.length > 0) {
    lines.push("## Dependencies", "");
    for (const d of t.deps) lines.push(`- depends on \`${d}\`: ${store.tasks.find((x) => x.id === d)?.title ?? "?"}`);
    lines.push("");
  }
  if (epic) {
    lines.push("## Tasks", "");
    for (const k of ordered(children(store, t.id))) {
      lines.push(`### ${k.id} - ${k.title}`, "", `- state: ${k.state}`, "");
      if (k.body !== "") lines.push(k.body.replace(/\n$/, ""), "");
      const latest = k.results[k.results.length - 1];
      if (latest) lines.push("#### Latest result", "", latest.text, "");
    }
  }
  lines.push("## Journal", "");
  for (const j of readJournalFor(ergoDir, t.id)) {
    lines.push(`- **${j.kind}** — ${j.at}${j.text ? ` — ${j.text}` : ""}`);
  }
  return lines;
}

function readJournalFor(ergoDir: string, id: string): { kind: string; at: string; text?: string }[] {
  const file = path.join(ergoDir, "journal.jsonl");
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { task_id: string; kind: string; at: string; text?: string })
    .filter((j) => j.task_id === id);
}

function cmdShow(c: Ctx): Promise<void> {
  const [id, ...extra] = c.parsed.positionals;
  if (id === undefined || extra.length > 0)
    throw new CliError("usage: ergo show <id> [--body]", "run `ergo show --help`");
  return withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const t = find(store, id);
    if (c.parsed.flags.has("--body")) {
      process.stdout.write(t.body);
      return;
    }
    c.out.push(...renderShow(store, c.ergoDir, t));
  });
}

const LIFECYCLE_TARGET: Record<string, FakeState> = {
  done: "done",
  fail: "failed",
  block: "blocked",
  cancel: "canceled",
  open: "todo",
};

function cmdLifecycle(c: Ctx): Promise<void> {
  const cmd = c.parsed.command;
  const [id, ...extra] = c.parsed.positionals;
  if (id === undefined || extra.length > 0) {
    throw new CliError(`usage: ergo ${cmd} <id> [-m <message>]`, `run \`ergo ${cmd} --help\``);
  }
  if (!stdinIsTerminal(c.stdin)) {
    throw new CliError(
      `${cmd} does not read stdin; use ergo body ${id} to replace the body or -m <message> to add a lifecycle note`,
    );
  }
  const message = str(c.parsed, "-m");
  return withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const t = find(store, id);
    if (isEpic(store, t)) throw new CliError(`${cmd} cannot apply to epic ${id}; its state is derived from its tasks`);
    const target = LIFECYCLE_TARGET[cmd]!;
    if (cmd === "open") {
      if (!["draft", "doing", "blocked", "todo"].includes(t.state)) {
        throw new CliError(`open cannot apply to state=${t.state}`, "finished work stays finished; file a new task");
      }
    } else if ((cmd === "done" || cmd === "fail" || cmd === "block") && t.state === "draft") {
      throw new CliError(`${cmd} cannot apply to state=draft; use open ${id} first`);
    }
    const changed = t.state !== target;
    const wasClaimed = t.claimed_by !== null;
    if (changed) {
      t.state = target;
      t.claimed_by = null;
      t.claimed_at = null;
      t.updated_at = now();
    }
    if (message !== undefined && message.trim() !== "" && !changed) t.updated_at = now();
    saveStore(c.ergoDir, store);
    if (changed || message !== undefined) {
      journal(c.ergoDir, { task_id: t.id, kind: cmd, ...(message === undefined ? {} : { text: message }) });
    }
    c.out.push(`${t.id} - ${t.title}`, `State: ${t.state}`);
    if (changed && wasClaimed) c.out.push("Claim: cleared");
    if (message !== undefined) c.out.push("Message: appended");
    if (!changed && message === undefined) c.out.push("No changes.");
    const next = oldestReady(store);
    if (next) c.out.push(`Ready: ${next.id} - ${next.title}`);
  });
}

function cmdResult(c: Ctx): Promise<void> {
  const [id, text, ...extra] = c.parsed.positionals;
  if (id === undefined || text === undefined || extra.length > 0) {
    throw new CliError(`usage: ergo result <id> "<text>" [--file <path>]`, "run `ergo result --help`");
  }
  if (text.trim() === "") throw new CliError("result text must not be blank");
  if (/[\r\n]/.test(text)) throw new CliError("result text must be a single line");
  return withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const t = find(store, id);
    if (isEpic(store, t)) throw new CliError(`results are not accepted on epics; record it on a task of epic ${id}`);
    const file = str(c.parsed, "--file");
    if (file !== undefined) {
      const project = path.dirname(c.ergoDir);
      const abs = path.resolve(file);
      const rel = path.relative(project, abs);
      if (rel.startsWith("..") || path.isAbsolute(rel) || rel.split(path.sep)[0] === ".ergo") {
        throw new CliError(`result file ${file} must be inside the project and outside .ergo`);
      }
      if (!fs.existsSync(abs) || !fs.statSync(abs).isFile())
        throw new CliError(`result file ${file} is not a regular file`);
    }
    t.results.push({ text, at: now(), file: file ?? null });
    t.updated_at = now();
    saveStore(c.ergoDir, store);
    journal(c.ergoDir, { task_id: t.id, kind: "result", text, ...(file === undefined ? {} : { file }) });
    c.out.push(`${t.id} - Result recorded: ${text}`);
    if (file !== undefined) c.out.push(`File: ${file}`);
  });
}

function cmdClaim(c: Ctx): Promise<void> {
  const agent = str(c.parsed, "--agent");
  if (agent === undefined || agent.trim() === "") throw new CliError("--agent is required", "run `ergo claim --help`");
  const [id, ...extra] = c.parsed.positionals;
  if (extra.length > 0) throw new CliError("usage: ergo claim [<id>] --agent <identity>");
  return withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const t = id === undefined ? oldestReady(store) : find(store, id);
    if (!t) {
      c.out.push("No ready ergo tasks.");
      return;
    }
    if (isEpic(store, t)) throw new CliError(`claim cannot apply to epic ${t.id}`);
    if (t.state === "draft" || t.state === "blocked") {
      throw new CliError(`claim cannot apply to state=${t.state}; use open ${t.id} first`);
    }
    if (t.state === "doing" && t.claimed_by !== agent) throw new CliError(`task ${t.id} is claimed by ${t.claimed_by}`);
    if (t.state !== "doing") {
      t.state = "doing";
      t.claimed_by = agent;
      t.claimed_at = now();
      t.updated_at = t.claimed_at;
      saveStore(c.ergoDir, store);
      journal(c.ergoDir, { task_id: t.id, kind: "claim" });
    }
    c.out.push(...renderShow(store, c.ergoDir, t), "", "## Next", "");
    for (const cmd of ["done", "fail", "block", "cancel", "open"]) c.out.push(`- \`ergo ${cmd} ${t.id}\``);
  });
}

function cmdTitle(c: Ctx): Promise<void> {
  const [id, title, ...extra] = c.parsed.positionals;
  if (id === undefined || title === undefined || extra.length > 0) throw new CliError("usage: ergo title <id> <title>");
  checkCreationTitle(title);
  return withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const t = find(store, id);
    t.title = title;
    t.updated_at = now();
    saveStore(c.ergoDir, store);
    c.out.push(`${t.id} - ${t.title}`);
  });
}

async function cmdBody(c: Ctx): Promise<void> {
  const [id, ...extra] = c.parsed.positionals;
  if (id === undefined || extra.length > 0) throw new CliError("usage: ergo body <id> [--append]");
  if (stdinIsTerminal(c.stdin)) {
    throw new CliError(`body requires piped stdin; e.g. printf '...' | ergo body ${id}`);
  }
  const text = await readStdin();
  await withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const t = find(store, id);
    t.body = c.parsed.flags.has("--append") ? t.body + text : text;
    t.updated_at = now();
    saveStore(c.ergoDir, store);
    c.out.push(`${t.id} body: ${Buffer.byteLength(text)} bytes`);
  });
}

function cmdMove(c: Ctx): Promise<void> {
  const [id, epicId, ...extra] = c.parsed.positionals;
  const root = c.parsed.flags.has("--root");
  if (id === undefined || extra.length > 0 || (epicId === undefined) === !root) {
    throw new CliError("usage: ergo move <id> <epic-id> | ergo move <id> --root");
  }
  return withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const t = find(store, id);
    if (isEpic(store, t)) throw new CliError(`cannot move epic ${id}`);
    if (epicId !== undefined) {
      const target = find(store, epicId);
      if (target.epic_id !== null)
        throw new CliError(`cannot move ${id} under ${epicId}: ${epicId} is not a root task`);
    }
    t.epic_id = epicId ?? null;
    t.updated_at = now();
    saveStore(c.ergoDir, store);
    c.out.push(epicId === undefined ? `${t.id} moved to root` : `${t.id} moved to epic ${epicId}`);
  });
}

function cmdSequence(c: Ctx, add: boolean): Promise<void> {
  const ids = c.parsed.positionals;
  if (ids.length < 2) throw new CliError(`usage: ergo ${add ? "sequence" : "unsequence"} <A> <B> [<C>...]`);
  return withLock(c.ergoDir, () => {
    const store = loadStore(c.ergoDir);
    const tasks = ids.map((id) => find(store, id));
    for (let i = 1; i < tasks.length; i++) {
      const from = tasks[i]!;
      const to = tasks[i - 1]!;
      if (add) {
        if (dependsOn(store, to.id, from.id) || to.id === from.id) {
          throw new CliError(`dependency cycle: ${to.id} already depends on ${from.id}`);
        }
        if (!from.deps.includes(to.id)) from.deps.push(to.id);
        c.out.push(`${from.id} depends on ${to.id}`);
      } else {
        from.deps = from.deps.filter((d) => d !== to.id);
        c.out.push(`${from.id} no longer depends on ${to.id}`);
      }
    }
    saveStore(c.ergoDir, store);
  });
}

function dependsOn(store: FakeStore, from: string, on: string, seen = new Set<string>()): boolean {
  if (seen.has(from)) return false;
  seen.add(from);
  const t = store.tasks.find((x) => x.id === from);
  if (!t) return false;
  return t.deps.includes(on) || t.deps.some((d) => dependsOn(store, d, on, seen));
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point

/** Run the fake with `argv` (without node and script). Writes stdout/stderr, returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const cwd = process.cwd();
  const stdin = stdinKind();
  let ergoDir: string | null = null;
  let code = 0;
  let errorText: string | null = null;
  const out: string[] = [];
  try {
    const parsed = parseArgs(argv);
    if (parsed.flags.has("--help")) {
      process.stdout.write(HELP);
      return 0;
    }
    if (parsed.flags.has("--version") && parsed.command === "") {
      process.stdout.write(`ergo version ${FAKE_ERGO_VERSION}\n`);
      return 0;
    }
    if (parsed.command === "version") {
      process.stdout.write(`ergo ${FAKE_ERGO_VERSION}\n`);
      return 0;
    }
    if (parsed.command === "init") {
      ergoDir = cmdInit(parsed, cwd, out);
    } else {
      ergoDir = findErgoDir(path.resolve(cwd, str(parsed, "--dir") ?? "."));
      if (injectedFailure(ergoDir)) throw new CliError("lock busy after 10s", LOCK_HINT);
      const c: Ctx = { parsed, ergoDir, stdin, out };
      switch (parsed.command) {
        case "new task":
          await cmdNewTask(c);
          break;
        case "new epic":
          await cmdNewEpic(c, cwd);
          break;
        case "list":
          await cmdList(c);
          break;
        case "show":
          await cmdShow(c);
          break;
        case "claim":
          await cmdClaim(c);
          break;
        case "done":
        case "fail":
        case "block":
        case "cancel":
        case "open":
          await cmdLifecycle(c);
          break;
        case "result":
          await cmdResult(c);
          break;
        case "title":
          await cmdTitle(c);
          break;
        case "body":
          await cmdBody(c);
          break;
        case "move":
          await cmdMove(c);
          break;
        case "sequence":
        case "unsequence":
          await cmdSequence(c, parsed.command === "sequence");
          break;
        case "where":
          out.push(ergoDir);
          break;
        case "info":
          out.push(
            `Executable: ${FAKE_ERGO_BIN}`,
            `Version: ${FAKE_ERGO_VERSION}`,
            `Project: ${path.dirname(ergoDir)}`,
            `Backlog: ${path.join(ergoDir, "backlog.jsonl")}`,
            `Journal: ${path.join(ergoDir, "journal.jsonl")}`,
          );
          break;
        default:
          throw new CliError(`fake ergo does not implement "${parsed.command}"`);
      }
    }
    if (out.length > 0) process.stdout.write(`${out.join("\n")}\n`);
  } catch (err) {
    code = 1;
    if (err instanceof CliError) {
      errorText = err.message;
      process.stderr.write(`error: ${err.message}\n${err.hint === null ? "" : `hint: ${err.hint}\n`}`);
    } else {
      errorText = err instanceof Error ? err.message : String(err);
      process.stderr.write(`error: internal: ${errorText}\n`);
    }
  } finally {
    ergoDir ??= discoverQuietly(cwd, argv);
    if (ergoDir !== null && isDir(ergoDir)) {
      const call: FakeCall = {
        at: now(),
        pid: process.pid,
        parent: parentName(),
        argv: [...argv],
        cwd,
        stdin,
        exit: code,
        error: errorText,
      };
      fs.appendFileSync(path.join(ergoDir, CALLS_FILE), `${JSON.stringify(call)}\n`);
    }
  }
  return code;
}
