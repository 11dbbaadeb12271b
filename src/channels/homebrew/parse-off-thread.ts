import { Worker } from "node:worker_threads";
import type { ParsedFormula } from "./types.ts";
import { parseFormula } from "./parse-formula.ts";
import { WorkBudgetExceeded } from "./work.ts";

/**
 * Formulae up to this size parse in-process: linear work on 32 KiB stays within a few ms. Larger ones (the probe
 * accepts up to 1 MiB, which takes up to about a second even when linear) parse in a worker thread started for
 * that one parse and ended after it, so the event loop (other channels' requests, the HTTP server, timers) never
 * waits on a formula, an abort (cycle_timeout, verify deadline) ends the parse at once, and an idle daemon holds
 * no resident worker.
 */
export const INLINE_PARSE_MAX_CHARS = 32 * 1024;
/** Heap for the one-shot worker: a 1 MiB formula of one-character tokens needs about 150 MB. */
const WORKER_HEAP_MB = 384;

const WORKER_URL = new URL(`./parse-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);

type WorkerReply = { ok: true; formula: ParsedFormula } | { ok: false; budget: number | null; message: string };

/** Parses a formula; throws WorkBudgetExceeded past the work budget and the signal's reason on abort. */
export async function parseFormulaOffThread(text: string, signal?: AbortSignal): Promise<ParsedFormula> {
  if (text.length <= INLINE_PARSE_MAX_CHARS) return parseFormula(text);
  signal?.throwIfAborted();
  const worker = new Worker(WORKER_URL, {
    workerData: { text },
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    stdout: false,
    stderr: false,
  });
  try {
    return await new Promise<ParsedFormula>((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      worker.once("message", (reply: WorkerReply) => {
        if (reply.ok) resolve(reply.formula);
        else if (reply.budget !== null) reject(new WorkBudgetExceeded(reply.budget));
        else reject(new Error(`formula parser failed: ${reply.message}`));
      });
      worker.once("error", (err: Error) => reject(new Error(`formula parser failed: ${err.message}`, { cause: err })));
      worker.once("exit", (code) => reject(new Error(`formula parser exited (code ${code}) without a result`)));
      worker.once("exit", () => signal?.removeEventListener("abort", onAbort));
    });
  } finally {
    void worker.terminate();
  }
}
