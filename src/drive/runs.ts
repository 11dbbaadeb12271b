import { formatDuration } from "../config/duration.ts";
import { sleep } from "../http/client.ts";
import type { Run } from "./github.ts";
import { StepUnknown, type StepContext } from "./types.ts";

/** Waiting on GitHub Actions runs: poll with backoff (poll_interval doubling up to 60 s) and show progress. */

const MAX_DELAY_MS = 60_000;

/** Poll `find` until it returns a run or `appearTimeoutMs` passes (runs show up seconds after a push/dispatch). */
export async function waitForAppearance(
  ctx: StepContext,
  label: string,
  find: () => Promise<Run | null>,
): Promise<Run | null> {
  const deadline = Date.now() + ctx.release.appearTimeoutMs;
  let delay = ctx.release.pollMs;
  for (;;) {
    const run = await find();
    if (run) return run;
    if (Date.now() >= deadline) return null;
    ctx.progress.status(`waiting for the ${label} run to appear`);
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), ctx.signal);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

/** Poll `GET …/actions/runs/{id}` until completed (or run_timeout → unknown). */
export async function waitForCompletion(ctx: StepContext, label: string, first: Run): Promise<Run> {
  const started = Date.now();
  const deadline = started + ctx.release.runTimeoutMs;
  let run = first;
  let delay = ctx.release.pollMs;
  let attempt = 0;
  while (run.status !== "completed") {
    if (Date.now() >= deadline) {
      throw new StepUnknown(
        `${label} run ${run.id} is still ${run.status ?? "running"} after ${formatDuration(ctx.release.runTimeoutMs)}: ${run.html_url}`,
        [ctx.command("--mode live --resume")],
      );
    }
    attempt++;
    let jobs = "";
    if (run.status === "in_progress") {
      const all = await ctx.gh.jobs(run.id);
      jobs = `, jobs ${all.filter((j) => j.status === "completed").length}/${all.length} done`;
    }
    ctx.progress.status(
      `waiting for ${label} run ${run.id}: ${run.status ?? "?"}${jobs} (poll ${attempt}) ${run.html_url}`,
    );
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), ctx.signal);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
    run = await ctx.gh.run(run.id);
  }
  return run;
}
