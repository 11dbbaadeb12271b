/** Worker entry: parses one formula off the main thread (see parse-off-thread.ts). */
import { parentPort, workerData } from "node:worker_threads";
import { parseFormula } from "./parse-formula.ts";
import { WorkBudgetExceeded } from "./work.ts";

const text = (workerData as { text: string }).text;
try {
  parentPort?.postMessage({ ok: true, formula: parseFormula(text) });
} catch (err) {
  const budget = err instanceof WorkBudgetExceeded ? err.limit : null;
  parentPort?.postMessage({ ok: false, budget, message: err instanceof Error ? err.message : String(err) });
}
