/**
 * The status page's provenance column in a real browser (issue 13): `monitor watch` runs as a child process against
 * the sim's `provenance-hand-published` scenario (npm 0.8.0 published by hand after a 0.7.2 with provenance and a
 * trusted publisher), and headless Chromium (Debian's /usr/bin/chromium) loads the page with JavaScript off.
 * The screenshot goes to a temp directory; the test checks that it is a non-empty PNG.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import { CLI, simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

const CHROMIUM = "/usr/bin/chromium";
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Watch {
  proc: ChildProcess;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

function startWatch(config: string, cwd: string): Watch {
  const proc = spawn(
    process.execPath,
    [CLI, "watch", "--config", config, "--listen", "127.0.0.1:0", "--drain-timeout", "3s"],
    {
      cwd,
      env: { PATH: process.env["PATH"], HOME: process.env["HOME"], MONITOR_LOG_LEVEL: "info", GITHUB_TOKEN: "" },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const logs: Record<string, unknown>[] = [];
  let partial = "";
  proc.stderr?.on("data", (d: Buffer) => {
    partial += d.toString("utf8");
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines.filter((l) => l.trim())) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line, raw: true });
      }
    }
  });
  return { proc, logs, exited: new Promise((resolve) => proc.on("exit", (code) => resolve(code))) };
}

async function until<T>(probe: () => Promise<T | null> | T | null, what: string, logs: unknown[]): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) {
      const tail = logs.slice(-15).map((l) => JSON.stringify(l));
      throw new Error(`timed out waiting for ${what}; log tail:\n${tail.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("status page: the provenance column in a real browser", { timeout: 120_000 }, () => {
  let sim: Sim;
  let dir: string;
  let watch: Watch;
  let url: string;
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    sim = await startSim();
    applyScenario(sim.world, "provenance-hand-published");
    dir = tempDir("rm-browser-prov-");
    const settings = [
      "  state_dir: state",
      "  watch:",
      '    schedule: "0 0 1 1 *"',
      '    jitter: "0"',
      '    hot_interval: "0"',
      "  alerts:",
      "    flap_cycles: 1",
    ].join("\n");
    watch = startWatch(writeConfig(dir, simConfigYaml(sim, { settings })), dir);
    url = await until(
      () => {
        if (watch.proc.exitCode !== null) throw new Error(`monitor watch exited with ${watch.proc.exitCode}`);
        const line = watch.logs.find((l) => typeof l["url"] === "string" && /serving/.test(String(l["msg"])));
        return line ? String(line["url"]) : null;
      },
      "monitor watch to serve",
      watch.logs,
    );
    // The startup cycle has committed: the JSON API carries the provenance block and the downgrade incident.
    await until(
      async () => {
        const r = await fetch(`${url}/api/v1/status`).catch(() => null);
        if (!r?.ok) return null;
        const body = (await r.json()) as {
          projects: { provenance: { status: string } | null; open_incidents: { code: string }[] }[];
        };
        const p = body.projects[0];
        return p?.provenance && p.open_incidents.some((i) => i.code === "provenance-downgrade") ? true : null;
      },
      "the first cycle's provenance block and downgrade incident",
      watch.logs,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"],
    });
  });

  after(async () => {
    await browser?.close();
    if (watch && watch.proc.exitCode === null) {
      watch.proc.kill("SIGTERM");
      assert.equal(await watch.exited, 0, "graceful stop");
    }
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("shows who built each channel, the npm downgrade as a warning, and a screenshot of it", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, javaScriptEnabled: false });
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on("request", (req) => {
      if (!req.url().startsWith(url)) foreign.push(req.url());
    });
    const res = await page.goto(`${url}/`, { waitUntil: "load" });
    assert.equal(res?.status(), 200);

    assert.equal(await page.locator("table.matrix thead th", { hasText: "Provenance" }).count(), 1);
    const cell = page.locator("table.matrix tbody tr", { hasText: "plasmite" }).locator('td[data-label="Provenance"]');
    assert.equal(await cell.count(), 1);
    assert.ok(await cell.isVisible());
    assert.equal((await cell.locator(":scope > div > .st").innerText()).trim(), "drift", "the provenance verdict");

    const line = async (channel: string) => (await cell.locator(`li[data-channel="${channel}"]`).innerText()).trim();
    assert.match(
      await line("github"),
      /^github built by release\.yml@refs\/tags\/v0\.8\.0 from [0-9a-f]{7} \(verified\)$/,
    );
    assert.match(
      await line("crates"),
      /trusted publish in sandover\/plasmite by release-publish\.yml from [0-9a-f]{7} \(not-applicable\)/,
    );
    assert.match(await line("pypi"), /built by release-publish\.yml@refs\/heads\/main from [0-9a-f]{7} \(verified\)/);
    assert.match(await line("homebrew"), /\(verified, inherited from github\)/);
    const npm = await line("npm");
    assert.match(npm, /^npm no provenance \(absent\)/);
    assert.match(npm, /provenance-downgrade \(warning\)/);
    assert.match(npm, /publisher-not-trusted \(warning\)/);

    // The npm channel itself stays ok (warnings weigh nothing); the downgrade is an open incident marked warning.
    const npmCell = page.locator("table.matrix tbody tr", { hasText: "plasmite" }).locator('td[data-label="npm"] .st');
    assert.equal((await npmCell.innerText()).trim(), "ok");
    const incident = page.locator("article.incident", { hasText: "provenance-downgrade" });
    assert.equal(await incident.count(), 1);
    assert.equal((await incident.locator(".st").first().innerText()).trim(), "warning");
    assert.ok(
      // The sim is not npm's default registry: lost attestations may be a mirror's doing, the lost trusted publisher is not.
      await page.getByText("npm 0.8.0 lost trusted publisher that 0.7.2 had").first().isVisible(),
    );
    assert.deepEqual(foreign, [], "nothing is fetched from anywhere else");

    const shot = join(dir, "status-page-provenance.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(existsSync(shot), shot);
    assert.ok(statSync(shot).size > 1000, `screenshot is ${statSync(shot).size} bytes`);
    assert.deepEqual(readFileSync(shot).subarray(0, 8), PNG_SIGNATURE, "a PNG file");
    await context.close();
  });
});
