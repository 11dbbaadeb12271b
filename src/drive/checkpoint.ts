import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { CHECKPOINT_SCHEMA, type Checkpoint } from "./types.ts";

/**
 * The checkpoint (`<evidence_dir>/checkpoint-<tag>.json`): what the last run did and learned. On --resume it is a
 * hint only: every step judges completion from reality (git remote, Actions API, tap, registries).
 */

/** Write through a temp file in the same directory and rename: readers never see a half-written file. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Lenient shape check: a checkpoint we cannot read is ignored (it is only a hint). */
const CheckpointShape = z.looseObject({
  schema: z.literal(CHECKPOINT_SCHEMA),
  tag: z.string(),
  mode: z.enum(["dry-run", "live"]),
  steps: z.record(z.string(), z.looseObject({ status: z.string(), detail: z.string() })),
  facts: z.record(z.string(), z.unknown()),
  decisions: z.array(z.string()),
});

export async function readCheckpoint(file: string, tag: string): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return null;
  }
  try {
    const parsed = CheckpointShape.safeParse(JSON.parse(text));
    if (!parsed.success || parsed.data.tag !== tag) return null;
    return parsed.data as unknown as Checkpoint;
  } catch {
    return null;
  }
}

export async function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(cp, null, 2)}\n`);
}
