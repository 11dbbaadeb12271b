import { z } from "zod";

/** Parsers for ergo 6 output (ergo.md §2, §3). Lenient: unknown fields and extra lines are ignored. */

export const ERGO_ID = /^[A-Z2-7]{6}$/;

export const ErgoListItem = z.object({
  id: z.string(),
  title: z.string(),
  kind: z.string(),
  state: z.string(),
  ready: z.boolean().optional(),
  epic_id: z.string().optional(),
});
export type ErgoListItem = z.infer<typeof ErgoListItem>;

const ErgoListDocument = z.object({ version: z.number(), items: z.array(ErgoListItem) });

/** Task states that are finished (satisfy dependencies; `open` rejects them). */
export const FINISHED_STATES: ReadonlySet<string> = new Set(["done", "failed", "canceled"]);

/** `list --json`: `{"version":1,"items":[…]}`. Returns null when the document is not that shape. */
export function parseListJson(stdout: string): ErgoListItem[] | null {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return null;
  }
  const parsed = ErgoListDocument.safeParse(doc);
  return parsed.success ? parsed.data.items : null;
}

/** `new task` prints the bare ID and a newline. */
export function parseNewTaskId(stdout: string): string | null {
  const first = stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== "");
  return first !== undefined && ERGO_ID.test(first) ? first : null;
}

export interface NewEpicOutput {
  epicId: string;
  title: string;
  tasks: { id: string; title: string }[];
}

/** `new epic`: `Epic <ID> - <title>`, then `  <ID> - <title>` per task, then `N tasks, M dependencies`. */
export function parseNewEpic(stdout: string): NewEpicOutput | null {
  const lines = stdout.split(/\r?\n/);
  let head: RegExpExecArray | null = null;
  const tasks: { id: string; title: string }[] = [];
  for (const line of lines) {
    if (head === null) {
      head = /^Epic ([A-Z2-7]{6}) - (.*)$/.exec(line.trim());
      continue;
    }
    const m = /^\s+([A-Z2-7]{6}) - (.*)$/.exec(line);
    if (m) tasks.push({ id: m[1]!, title: m[2]! });
  }
  if (head === null) return null;
  return { epicId: head[1]!, title: head[2]!, tasks };
}

export interface LifecycleReceipt {
  id: string;
  title: string;
  state: string;
  changed: boolean;
  ready: { id: string; title: string } | null;
}

/** done/fail/block/cancel/open receipt (internal/ergo/commands_lifecycle.go RenderLifecycle). */
export function parseReceipt(stdout: string): LifecycleReceipt | null {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim());
  const head = /^([A-Z2-7]{6}) - (.*)$/.exec(lines[0] ?? "");
  const stateLine = lines.find((l) => l.startsWith("State: "));
  if (!head || stateLine === undefined) return null;
  const readyLine = lines.find((l) => l.startsWith("Ready: "));
  const ready = readyLine === undefined ? null : /^Ready: ([A-Z2-7]{6}) - (.*)$/.exec(readyLine);
  return {
    id: head[1]!,
    title: head[2]!,
    state: stateLine.slice("State: ".length).trim(),
    changed: !lines.includes("No changes."),
    ready: ready ? { id: ready[1]!, title: ready[2]! } : null,
  };
}

export interface ShowFrontMatter {
  id: string | null;
  title: string | null;
  state: string | null;
  parent: string | null;
  epic: boolean;
}

/** The YAML-ish front matter of `ergo show <id>` (values are JSON strings). */
export function parseShowFrontMatter(stdout: string): ShowFrontMatter {
  const lines = stdout.split(/\r?\n/);
  const out: ShowFrontMatter = { id: null, title: null, state: null, parent: null, epic: false };
  if (lines[0]?.trim() !== "---") return out;
  for (const line of lines.slice(1)) {
    if (line.trim() === "---") break;
    const m = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!;
    const value = unquote(m[2]!);
    if (key === "id") out.id = value;
    else if (key === "title") out.title = value;
    else if (key === "state") out.state = value;
    else if (key === "parent") out.parent = value;
    else if (key === "epic") out.epic = value === "true";
  }
  return out;
}

function unquote(raw: string): string {
  const v = raw.trim();
  if (v.startsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  return v;
}
