import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FORMULA_MAX_BYTES } from "../../src/channels/homebrew/probe.ts";
import { Scene, sceneFactory } from "../daemon/harness.ts";
import { HOSTILE, sized } from "./hostile-formulae.ts";

/**
 * A 1 MiB adversarial formula, served by the sim's tap during `monitor watch` (a real child process), must not
 * stall the daemon: /healthz keeps answering and the other channels stay ok. Outcomes are asserted, not times
 * (each /healthz request has a 5 s deadline, the figure the issue saw fail).
 */
const scene = sceneFactory();

/** The sim's real formula, followed by the bait (escaped slashes in an unterminated regex) up to 1 MiB. */
function adversarial(formula: string): string {
  const shape = HOSTILE["escaped slashes in an unterminated regex"];
  assert.ok(shape);
  return `${formula}\n${shape(sized(shape, FORMULA_MAX_BYTES - formula.length - 1024))}`;
}

describe("monitor watch with a 1 MiB adversarial formula", () => {
  it("keeps /healthz answering and the other channels ok", async () => {
    const s = await scene();
    s.scenario("clean");
    const formula = s.sim.world.formulaText("plasmite");
    assert.ok(formula);
    s.sim.world.setFormulaText("plasmite", adversarial(formula));
    s.writeConfig({ projects: [Scene.plasmite()], sinks: ["slack"] });
    const daemon = s.startDaemon();
    await s.until(() => daemon.logs.some((l) => typeof l["url"] === "string"), "the server to listen");
    const url = String(daemon.logs.find((l) => typeof l["url"] === "string")?.["url"]);

    const answers: (number | string)[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const status = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) }).then(
          (r) => r.status,
          (err: unknown) => String(err),
        );
        answers.push(status);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await s.until(async () => (await s.cycles("plasmite")) >= 2, "two cycles with the adversarial formula", 60_000);
    polling = false;
    await poller;
    assert.equal(await daemon.stop(), 0);

    assert.ok(answers.length > 0);
    assert.deepEqual(
      answers.filter((a) => a !== 200),
      [],
      "every /healthz request answered 200 within its deadline",
    );
    const states = await s.withState(async (st) =>
      (await st.channelStates("plasmite")).map((c) => `${c.channel}:${c.status}`),
    );
    for (const channel of ["github", "crates", "npm", "pypi"])
      assert.ok(states.includes(`${channel}:ok`), states.join(" "));
    // The formula itself parses (the bait line is outside the class), within the work budget.
    assert.ok(states.includes("homebrew:ok"), states.join(" "));
  });
});
