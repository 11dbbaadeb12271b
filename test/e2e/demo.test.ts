import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { it } from "node:test";
import { CLI, REPO_ROOT, runCli } from "../helpers/cli.ts";

it("monitor demo: a partial release drifts, alerts, heals and resolves, with the status page up meanwhile", async () => {
  const child = spawn(
    process.execPath,
    [CLI, "demo", "--listen", "127.0.0.1:0", "--heal-after", "4s", "--interval", "1s", "--duration", "9s"],
    { cwd: REPO_ROOT, env: { PATH: process.env["PATH"], NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  let page: string | null = null;
  const fetched = new Promise<void>((resolve) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const url = /status page\s+(http:\/\/\S+)\//.exec(out)?.[1];
      if (url && page === null && out.includes("alert OPEN")) {
        page = "";
        void fetch(`${url}/`)
          .then((r) => r.text())
          .then(
            (t) => (page = t),
            (e: unknown) => (page = `fetch failed: ${String(e)}`),
          )
          .finally(resolve);
      }
    });
    // No alert (so no fetch) by the time the demo ends: settle, and the assertions below say what is missing.
    child.on("exit", () => {
      if (page === null) resolve();
    });
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  // The page fetch settles (body or error) on its own: wait for it rather than for a fixed second.
  await fetched;
  assert.equal(code, 0, err);
  const drift = out.indexOf("DRIFT");
  const open = out.indexOf("alert OPEN: plasmite v0.8.0: npm has no plasmite@0.8.0");
  const ok = out.indexOf("plasmite v0.8.0  OK");
  const resolved = out.indexOf("alert RESOLVE: plasmite v0.8.0: npm has no plasmite@0.8.0");
  // The alert line and the cycle's report come from two event streams (delivery, cycle hook) of the same cycle,
  // so either may print first; the heal (OK, then the resolve) comes after both.
  assert.ok(drift >= 0 && open >= 0 && ok > drift && ok > open && resolved > ok, out);
  assert.match(page ?? "", /plasmite/);
  assert.match(page ?? "", /drift/i);
  // The provenance column: GitHub's assets were built by release.yml at the tag, signature verified (sim root).
  assert.match(page ?? "", /<th>Provenance<\/th>/);
  assert.match(
    page ?? "",
    /<li data-channel="github" data-status="ok"><strong>github<\/strong> <span class="prov-line">built by release\.yml@refs\/tags\/v0\.8\.0 from [0-9a-f]{7} \(verified\)<\/span>/,
  );
  assert.match(out, /provenance: built by release\.yml@refs\/tags\/v0\.8\.0 from [0-9a-f]{7} \(verified\)/);
  assert.match(out, /demo stopped/);
});

it("monitor demo --sim cargo-dist: rivet's formula lags, alerts, catches up and resolves", async () => {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "demo",
      "--sim",
      "cargo-dist",
      "--listen",
      "127.0.0.1:0",
      "--heal-after",
      "3s",
      "--interval",
      "1s",
      "--duration",
      "8s",
    ],
    { cwd: REPO_ROOT, env: { PATH: process.env["PATH"], NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const code = await exited;
  assert.equal(code, 0, err);
  assert.match(out, /rivet v0\.8\.0 is out on GitHub and crates\.io only; the tap formula arrives in 3s\./);
  const open = out.indexOf("alert OPEN: rivet v0.8.0: formula ferrous/homebrew-tap:Formula/rivet.rb@main is at 0.7.2");
  const ok = out.indexOf("rivet v0.8.0  OK");
  const resolved = out.indexOf("alert RESOLVE: rivet v0.8.0");
  assert.ok(open >= 0 && ok > open && resolved >= 0, out);
  assert.match(out, /github {4}OK {7}v0\.8\.0 latest, 4\/4 assets \+6 extra, sidecars ok/);
  assert.match(out, /demo stopped/);
});

it("monitor demo --sim: a bare scenario is refused naming the worlds", async () => {
  const r = await runCli(["demo", "--sim", "partial", "--duration", "0s"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--sim: demo takes a world\[\/scenario\] \(worlds: plasmite, goreleaser, cargo-dist/);
});
