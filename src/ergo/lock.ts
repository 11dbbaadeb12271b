import { statSync } from "node:fs";
import path from "node:path";
import lockfile from "proper-lockfile";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { ErgoError } from "./run.ts";

/**
 * ergo locks each command on its own (`.ergo/lock`), so a find-then-create ("is there an epic `Release blockers:
 * <tag>`? no: create it") of two processes can interleave and leave two epics. The monitor's writers (the ergo
 * alert sink of every daemon, `monitor release`) therefore hold a lock of their own across the whole
 * find-or-create: `<project>/.ergo.release-monitor.lock` beside the `.ergo` directory, taken with proper-lockfile
 * (an atomic `mkdir`; a holder refreshes its mtime, and a lock left by a crashed holder is taken over once it is
 * `STALE_MS` old).
 */

export const ERGO_LOCK_NAME = ".ergo.release-monitor.lock";
const STALE_MS = 10_000;

/** The `.ergo` directory ergo itself would use from `start`: `start/.ergo`, else the nearest one above it. */
export function findErgoDir(start: string): string | null {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, ".ergo");
    if (isDirectory(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface ErgoLockOptions {
  log?: Logger;
  /** Tries after the first before giving up with a transient error (default 60, about 30 s in all). */
  retries?: number;
}

/** Run `fn` while holding the monitor's lock of the ergo repository found from `dir`. */
export async function withErgoLock<T>(dir: string, fn: () => Promise<T>, options: ErgoLockOptions = {}): Promise<T> {
  const ergoDir = findErgoDir(dir);
  if (ergoDir === null) {
    throw new ErgoError(`no .ergo directory in or above ${path.resolve(dir)} (run ergo init there)`, {
      args: [],
      failure: "spawn",
    });
  }
  const lockPath = path.join(path.dirname(ergoDir), ERGO_LOCK_NAME);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(ergoDir, {
      lockfilePath: lockPath,
      stale: STALE_MS,
      retries: { retries: options.retries ?? 60, factor: 1.5, minTimeout: 10, maxTimeout: 500, randomize: true },
      onCompromised: (err) => {
        // The default throws from a timer (a crash); a lost lock only reopens the duplicate-epic window.
        options.log?.warn({ lock: lockPath, err: errorMessage(err) }, "ergo lock compromised");
      },
    });
  } catch (cause) {
    throw new ErgoError(`could not take ${lockPath}: ${errorMessage(cause)}`, {
      args: [],
      failure: "locked",
      cause,
    });
  }
  try {
    return await fn();
  } finally {
    await release().catch((err: unknown) => {
      options.log?.warn({ lock: lockPath, err: errorMessage(err) }, "could not release the ergo lock");
    });
  }
}
