/**
 * A probe gets its Octokit only if it asks for one: the crates, npm and PyPI probes never touch GitHub, and a
 * pending crates.io completion (held until its API answer, up to minutes in a cold daemon) must not keep an Octokit
 * per probe alive. Counted through the runtime's `github` factory, on the clean sim.
 */
import { strict as assert } from "node:assert";
import { after, describe, it } from "node:test";
import { verifyRelease } from "../../src/verify/run.ts";
import { cleanWorld } from "./helpers.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe("verify: Octokit per probe, on demand", { timeout: 60_000 }, () => {
  it("builds one only for the probes that call GitHub", async () => {
    const { loaded, project, rt } = await cleanWorld(cleanup);
    let built = 0;
    const github: typeof rt.github = (http) => {
      built++;
      return rt.github(http);
    };
    // Provenance aside (its gatherers have their own HTTP path): the probes alone.
    const { provenance: _provenance, ...probesOnly } = rt;
    const deps = { ...probesOnly, github };
    const some = await verifyRelease(deps, loaded, project, "v0.8.0", { channels: ["crates", "npm", "pypi"] });
    assert.deepEqual(
      some.channels.filter((c) => c.status !== "skipped").map((c) => [c.channel, c.status]),
      [
        ["crates", "ok"],
        ["npm", "ok"],
        ["pypi", "ok"],
      ],
    );
    assert.equal(built, 0, "no Octokit for crates, npm and PyPI");
    const all = await verifyRelease(deps, loaded, project, "v0.8.0");
    assert.equal(all.status, "ok");
    assert.equal(built, 2, "one each for the GitHub and Homebrew probes");
  });

  it("gives a probe a child logger only when it logs (a child costs a redaction pass over its bindings)", async () => {
    const { loaded, project, rt } = await cleanWorld(cleanup);
    let children = 0;
    const log = new Proxy(rt.log, {
      get(target, key, receiver) {
        if (key === "child") {
          return (...args: Parameters<typeof target.child>) => {
            children++;
            return target.child(...args);
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const { provenance: _provenance, ...probesOnly } = rt;
    const report = await verifyRelease({ ...probesOnly, log }, loaded, project, "v0.8.0");
    assert.equal(report.status, "ok");
    assert.equal(children, 0, "no probe of a clean release logs, so none gets a child logger");
  });
});
