/**
 * 6. The Homebrew formula parser against the hostile corpus (test/security/hostile-formulae.ts) at the 1 MiB cap:
 * the worst parse time, and how long an HTTP /healthz handler in the same process takes to answer while the probe
 * parses a 1 MiB adversarial formula (the probe's real path: parseFormulaOffThread, a one-shot worker). The
 * in-thread parse is measured too, as the delay the worker avoids.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { FORMULA_MAX_BYTES } from "../../src/channels/homebrew/probe.ts";
import { parseFormulaOffThread } from "../../src/channels/homebrew/parse-off-thread.ts";
import { parseFormula } from "../../src/channels/homebrew/parse-formula.ts";
import { HOSTILE, sized } from "../../test/security/hostile-formulae.ts";
import type { BenchContext, SectionResult } from "../lib/context.ts";
import { ms, row } from "../lib/table.ts";

const HEALTHZ_TARGET_MS = 100;

export async function runParser(ctx: BenchContext): Promise<SectionResult> {
  const inputs = Object.entries(HOSTILE).map(([name, shape]) => ({
    name,
    text: shape(sized(shape, FORMULA_MAX_BYTES - 4096)),
  }));
  const parses: Record<string, number> = {};
  for (const { name, text } of inputs) {
    const t = performance.now();
    parseFormula(text);
    parses[name] = performance.now() - t;
  }
  const [worstName, worstMs] = Object.entries(parses).sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
  ctx.log(`parser: worst parse ${worstMs.toFixed(0)} ms (${worstName})`);
  const worstText = inputs.find((i) => i.name === worstName)?.text ?? "";

  const server = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
  try {
    const rounds = ctx.quick ? 2 : 5;
    const worker: number[] = [];
    for (let i = 0; i < rounds; i++) worker.push(await healthzDuring(url, () => parseFormulaOffThread(worstText)));
    const inThread = await healthzDuring(url, async () => {
      await new Promise((r) => setTimeout(r, 5));
      parseFormula(worstText);
    });
    const maxWorker = Math.max(...worker);
    // The same polling with nothing running: on a shared machine, the part of the figure that is not the parse.
    const idle = await healthzDuring(url, () => new Promise((r) => setTimeout(r, 2_000)));
    ctx.log(
      `parser: /healthz max ${maxWorker.toFixed(1)} ms during the worker parse, ${inThread.toFixed(0)} ms in-thread`,
    );
    return {
      rows: [
        row(
          "parser",
          "worst parse, hostile corpus at 1 MiB",
          `${ms(worstMs)} (${worstName})`,
          "info",
          worstMs,
          "",
          null,
        ),
        row(
          "parser",
          "/healthz latency during a 1 MiB adversarial parse (max)",
          ms(maxWorker),
          `< ${HEALTHZ_TARGET_MS} ms`,
          maxWorker,
          `${(maxWorker / HEALTHZ_TARGET_MS).toFixed(2)}x`,
          maxWorker < HEALTHZ_TARGET_MS,
        ),
        row("parser", "/healthz latency, nothing parsing (baseline, max)", ms(idle), "info", idle, "", null),
        row("parser", "/healthz latency if parsed in-thread (avoided)", ms(inThread), "info", inThread, "", null),
      ],
      data: {
        parse_ms: parses,
        worst: worstName,
        healthz_max_ms_worker: worker,
        healthz_ms_in_thread: inThread,
        healthz_max_ms_idle: idle,
      },
    };
  } finally {
    server.close();
  }
}

/** Polls /healthz back to back while `work` runs; returns the slowest answer in ms. */
async function healthzDuring(url: string, work: () => Promise<unknown>): Promise<number> {
  let done = false;
  const running = work().finally(() => {
    done = true;
  });
  let worst = 0;
  while (!done) {
    const t = performance.now();
    await fetch(url).then((r) => r.text());
    worst = Math.max(worst, performance.now() - t);
  }
  await running;
  return worst;
}
