/**
 * The real ergo 6.0.0 binary (../shared/tools/ergo/ergo from the repo root; CI has shared/ beside the clone,
 * read-only, so repositories always live in temp dirs) and small readers over its real storage.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseListJson, type ErgoListItem } from "../../src/ergo/parse.ts";
import { REPO_ROOT } from "./cli.ts";

/** The shared ergo 6.0.0 binary beside the repo; `REAL_ERGO` overrides it (a checkout elsewhere, a worktree). */
export const REAL_ERGO = process.env["REAL_ERGO"] ?? path.resolve(REPO_ROOT, "../shared/tools/ergo/ergo");

function ergo(dir: string, args: string[]): string {
  return execFileSync(REAL_ERGO, args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** `ergo init` in `dir` (created as a temp dir when not given); returns the directory. */
export function initRealErgo(dir: string = mkdtempSync(path.join(tmpdir(), "real-ergo-"))): string {
  ergo(dir, ["init"]);
  return dir;
}

/** Every item, done and canceled ones included (`ergo list --all --json`). */
export function listAll(dir: string): ErgoListItem[] {
  const items = parseListJson(ergo(dir, ["list", "--all", "--json"]));
  if (items === null) throw new Error(`ergo list --all --json in ${dir}: not a list document`);
  return items;
}

/** The stored body bytes of a task (`ergo show <id> --body`). */
export function bodyOf(dir: string, id: string): string {
  return ergo(dir, ["show", id, "--body"]);
}

export function epicsTitled(dir: string, title: string): ErgoListItem[] {
  return listAll(dir).filter((i) => i.kind === "epic" && i.title === title);
}
