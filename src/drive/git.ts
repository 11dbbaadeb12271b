import { execCapture, formatArgv, type ExecResult } from "./exec.ts";
import { StepFailure } from "./types.ts";

/** git in one checkout, argv only. Reads never change anything; writes are called by mutating steps in live mode. */
export class Git {
  readonly dir: string;
  readonly #signal: AbortSignal | undefined;

  constructor(dir: string, signal?: AbortSignal) {
    this.dir = dir;
    this.#signal = signal;
  }

  argv(args: readonly string[]): string[] {
    return ["git", "-C", this.dir, ...args];
  }

  /** The command as shown in plans and evidence. */
  display(args: readonly string[]): string {
    return formatArgv(this.argv(args));
  }

  async exec(args: readonly string[]): Promise<ExecResult> {
    return execCapture(["git", ...args], {
      cwd: this.dir,
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      ...(this.#signal ? { signal: this.#signal } : {}),
      timeoutMs: 120_000,
    });
  }

  /** Run and return trimmed stdout; a non-zero exit is a step failure carrying the command and its stderr. */
  async run(args: readonly string[], recovery: string[] = []): Promise<string> {
    const r = await this.exec(args);
    if (r.code !== 0) {
      const err = (r.error ?? r.stderr.trim()) || `exit ${r.code ?? r.signal ?? "?"}`;
      throw new StepFailure({
        title: `git ${args[0] ?? ""} failed in ${this.dir}`,
        summary: `${this.display(args)} failed: ${err.split("\n").slice(-3).join(" / ")}`,
        command: this.display(args),
        exit_code: r.code,
        log_tail: (r.stderr || r.stdout).trim().split("\n").slice(-12),
        recovery,
      });
    }
    return r.stdout.trim();
  }

  async isRepo(): Promise<boolean> {
    const r = await this.exec(["rev-parse", "--is-inside-work-tree"]);
    return r.code === 0 && r.stdout.trim() === "true";
  }

  /** Commit a ref points at (peeling tags), or null when it does not resolve. */
  async commitOf(ref: string): Promise<string | null> {
    const r = await this.exec(["rev-parse", "-q", "--verify", `${ref}^{commit}`]);
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async head(): Promise<string> {
    return this.run(["rev-parse", "HEAD"]);
  }

  /** `git status --porcelain --branch`: branch line parsed, entries as printed. */
  async status(): Promise<{
    branch: string | null;
    upstream: string | null;
    ahead: number;
    behind: number;
    entries: string[];
  }> {
    const out = await this.run(["status", "--porcelain", "--branch"]);
    const [first = "", ...rest] = out.split("\n");
    const m = /^## (?:No commits yet on )?([^.\s]+)(?:\.\.\.(\S+))?(?: \[(.*)\])?/.exec(first);
    const flags = m?.[3] ?? "";
    const num = (k: string): number => Number(new RegExp(`${k} (\\d+)`).exec(flags)?.[1] ?? 0);
    const branch = m?.[1] && m[1] !== "HEAD" ? m[1] : null;
    return {
      branch,
      upstream: m?.[2] ?? null,
      ahead: num("ahead"),
      behind: num("behind"),
      entries: rest.filter((l) => l.trim() !== ""),
    };
  }

  /** `git ls-remote <remote> <ref>`: the sha a remote ref points at and, for annotated tags, the peeled commit. */
  async lsRemote(remote: string, ref: string): Promise<{ object: string; peeled: string | null } | null> {
    const out = await this.run(["ls-remote", remote, ref, `${ref}^{}`]);
    let object: string | null = null;
    let peeled: string | null = null;
    for (const line of out.split("\n")) {
      const [sha, name] = line.split(/\s+/);
      if (!sha || !name) continue;
      if (name === ref) object = sha;
      if (name === `${ref}^{}`) peeled = sha;
    }
    return object === null ? null : { object, peeled };
  }

  /** Tags matching a glob (`git tag --list`). */
  async tags(pattern: string): Promise<string[]> {
    const out = await this.run(["tag", "--list", pattern]);
    return out
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  }

  async isAncestor(ancestor: string, of: string): Promise<boolean> {
    return (await this.exec(["merge-base", "--is-ancestor", ancestor, of])).code === 0;
  }

  /** A file at a revision, or null when absent. */
  async show(rev: string, file: string): Promise<string | null> {
    const r = await this.exec(["show", `${rev}:${file}`]);
    return r.code === 0 ? r.stdout : null;
  }
}
