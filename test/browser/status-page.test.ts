/**
 * What a person sees: `monitor watch` runs as a real child process against the simulated registries with a
 * partial release (0.8.0 on GitHub and crates.io only), and headless Chromium (Debian package `chromium`) loads
 * the status page, with JavaScript disabled, on a desktop and on a 390 px phone viewport. Screenshots go to
 * test-artifacts/ (git-ignored) for a human to look at.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import { CLI, REPO_ROOT, simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

const CHROMIUM = "/usr/bin/chromium";

// Browser-side globals used inside page.evaluate callbacks (this project's TypeScript has no DOM lib).
declare function getComputedStyle(el: unknown): { backgroundColor: string; display: string };
declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };
const ARTIFACTS = join(REPO_ROOT, "test-artifacts");

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
      env: {
        PATH: process.env["PATH"],
        HOME: process.env["HOME"],
        MONITOR_LOG_LEVEL: "info",
        GITHUB_TOKEN: "",
        NO_COLOR: "1",
      },
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
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, logs, exited };
}

async function until<T>(
  probe: () => T | null | Promise<T | null>,
  what: string,
  logs: unknown[],
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}; log tail:\n${logs
          .slice(-15)
          .map((l) => JSON.stringify(l))
          .join("\n")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(
  "status page in a real browser (monitor watch as a child process, partial release)",
  { timeout: 120_000 },
  () => {
    let sim: Sim;
    let dir: string;
    let watch: Watch;
    let url: string;
    let browser: Browser;

    before(async () => {
      assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
      mkdirSync(ARTIFACTS, { recursive: true });
      sim = await startSim();
      applyScenario(sim.world, "partial");
      dir = tempDir("rm-browser-");
      const settings = [
        "  state_dir: state",
        "  watch:",
        '    schedule: "0 0 1 1 *"',
        '    jitter: "0"',
        '    hot_interval: "0"',
        "  alerts:",
        "    flap_cycles: 1",
      ].join("\n");
      const config = writeConfig(dir, simConfigYaml(sim, { settings }));
      watch = startWatch(config, dir);
      url = await until(
        () => {
          const line = watch.logs.find((l) => typeof l["url"] === "string" && /serving/.test(String(l["msg"])));
          if (watch.proc.exitCode !== null) throw new Error(`monitor watch exited with ${watch.proc.exitCode}`);
          return line ? String(line["url"]) : null;
        },
        "monitor watch to serve (a log line with the server url)",
        watch.logs,
      );
      // The startup cycle has committed and opened the incidents.
      await until(
        async () => {
          const r = await fetch(`${url}/api/v1/status`).catch(() => null);
          if (!r?.ok) return null;
          const body = (await r.json()) as { projects: { open_incidents: unknown[] }[] };
          return (body.projects[0]?.open_incidents.length ?? 0) === 3 ? true : null;
        },
        "the first cycle's three incidents",
        watch.logs,
      );
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
    });

    after(async () => {
      await browser?.close();
      if (watch && watch.proc.exitCode === null) {
        watch.proc.kill("SIGTERM");
        const code = await watch.exited;
        assert.equal(code, 0, "graceful stop");
      }
      await sim?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** Opens the page with JavaScript off; fails on any request that is not to our server. */
    async function open(width: number, height: number): Promise<{ page: Page; foreign: string[] }> {
      const context = await browser.newContext({ viewport: { width, height }, javaScriptEnabled: false });
      const page = await context.newPage();
      const foreign: string[] = [];
      page.on("request", (req) => {
        if (!req.url().startsWith(url)) foreign.push(req.url());
      });
      const res = await page.goto(`${url}/`, { waitUntil: "load" });
      assert.equal(res?.status(), 200);
      return { page, foreign };
    }

    async function npmCell(page: Page) {
      const cell = page.locator("table.matrix tbody tr", { hasText: "plasmite" }).locator('td[data-label="npm"]');
      assert.equal(await cell.count(), 1);
      return cell;
    }

    it("desktop: the drifted channel is marked with a red 'drift' label and the incident text is visible", async () => {
      const { page, foreign } = await open(1280, 900);
      const cell = await npmCell(page);
      assert.ok(await cell.isVisible());
      const label = cell.locator(".st");
      assert.equal((await label.innerText()).trim(), "drift");
      assert.ok(await label.isVisible());
      assert.equal(await label.evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(207, 34, 46)");
      const github = page
        .locator("table.matrix tbody tr", { hasText: "plasmite" })
        .locator('td[data-label="github"] .st');
      assert.equal((await github.innerText()).trim(), "ok");
      assert.equal(await github.evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(31, 136, 61)");

      const incident = page.getByText("npm has no plasmite@0.8.0").first();
      assert.ok(await incident.isVisible(), "the incident text is visible");
      assert.ok(await page.getByText("PyPI has no plasmite 0.8.0").first().isVisible());
      assert.match(await page.locator("#incidents").innerText(), /Open incidents \(3\)/);
      assert.deepEqual(foreign, [], "nothing is fetched from anywhere else");
      await page.screenshot({ path: join(ARTIFACTS, "status-page-partial.png"), fullPage: true });
      await page.context().close();
    });

    it("phone (390 px): stacked cards, no sideways scrolling, the drift label still visible", async () => {
      const { page } = await open(390, 844);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      const cell = await npmCell(page);
      assert.equal(await cell.evaluate((el) => getComputedStyle(el).display), "flex", "table cells become card rows");
      const label = cell.locator(".st");
      assert.ok(await label.isVisible());
      assert.equal((await label.innerText()).trim(), "drift");
      const box = await label.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `label inside the viewport: ${JSON.stringify(box)}`);
      assert.ok(await page.getByText("npm has no plasmite@0.8.0").first().isVisible());
      await page.screenshot({ path: join(ARTIFACTS, "status-page-partial-390.png"), fullPage: true });
      await page.context().close();
    });
  },
);
