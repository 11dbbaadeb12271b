import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { unzipSync, strFromU8 } from "fflate";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import { follow, get, manualClock, UA } from "./helpers.ts";

const TOKEN = "ghp_actions";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const REPO = "sandover/plasmite";
const SHA = "c5f5fdd0f0e0d0c0b0a090807060504030201000";

interface Run {
  id: number;
  status: string;
  conclusion: string | null;
  event: string;
  head_branch: string;
  head_sha: string;
  html_url: string;
  created_at: string;
}
interface Job {
  name: string;
  status: string;
  conclusion: string | null;
  html_url: string;
  steps: { name: string; conclusion: string | null }[];
}
interface Artifact {
  id: number;
  name: string;
  size_in_bytes: number;
  archive_download_url: string;
  digest: string;
}

async function post(url: string, body: unknown, headers: Record<string, string> = AUTH) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "user-agent": UA, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: <T>() => JSON.parse(text) as T };
}

describe("sim: GitHub Actions", () => {
  let sim: Sim;
  const clock = manualClock();
  let api: string;

  before(async () => {
    sim = await startSim({ githubToken: TOKEN, world: { now: clock.now } });
    sim.world.addProject(plasmiteProject());
    sim.world.publish("plasmite", "0.8.0", { publishedAt: clock.now() - 86_400_000 });
    sim.world.actions.addPlasmiteWorkflows(REPO);
    sim.world.actions.setSecrets(REPO, ["NPM_TOKEN", "PYPI_API_TOKEN", "CARGO_REGISTRY_TOKEN"]);
    sim.world.actions.setTiming({ queuedMs: 1000, inProgressMs: 5000 });
    api = `${sim.urls.githubApi}/repos/${REPO}`;
  });
  after(() => sim.close());

  it("lists and gets workflows by id or file name, with the OpenAPI workflow fields", async () => {
    const list = (await get(`${api}/actions/workflows`, AUTH)).json<{
      total_count: number;
      workflows: { id: number; path: string }[];
    }>();
    assert.equal(list.total_count, 3);
    const byFile = await get(`${api}/actions/workflows/release.yml`, AUTH);
    assert.equal(byFile.status, 200);
    const wf = byFile.json<Record<string, unknown>>();
    for (const key of [
      "id",
      "node_id",
      "name",
      "path",
      "state",
      "created_at",
      "updated_at",
      "url",
      "html_url",
      "badge_url",
    ]) {
      assert.ok(key in wf, key);
    }
    assert.equal(wf["name"], "release");
    assert.equal(wf["state"], "active");
    const byId = (await get(`${api}/actions/workflows/${String(wf["id"])}`, AUTH)).json<{ path: string }>();
    assert.equal(byId.path, ".github/workflows/release.yml");
    const missing = await get(`${api}/actions/workflows/nope.yml`, AUTH);
    assert.equal(missing.status, 404);
    assert.equal(missing.json<{ message: string }>().message, "Not Found");
  });

  it("lists secrets by name only (auth required)", async () => {
    const res = await get(`${api}/actions/secrets`, AUTH);
    const body = res.json<{
      total_count: number;
      secrets: { name: string; created_at: string; updated_at: string }[];
    }>();
    assert.equal(body.total_count, 3);
    assert.deepEqual(
      body.secrets.map((s) => s.name),
      ["CARGO_REGISTRY_TOKEN", "NPM_TOKEN", "PYPI_API_TOKEN"],
    );
    assert.ok(body.secrets.every((s) => /Z$/.test(s.created_at) && /Z$/.test(s.updated_at)));
    assert.equal((await get(`${api}/actions/secrets`)).status, 401);
  });

  it("answers dispatch errors like GitHub: 422 without the trigger, for a missing required input, 404 unknown", async () => {
    const ci = await post(`${api}/actions/workflows/ci.yml/dispatches`, { ref: "main" });
    assert.equal(ci.status, 422);
    assert.equal(ci.json<{ message: string }>().message, "Workflow does not have 'workflow_dispatch' trigger");
    const noTag = await post(`${api}/actions/workflows/release.yml/dispatches`, { ref: "main", inputs: {} });
    assert.equal(noTag.status, 422);
    assert.equal(noTag.json<{ message: string }>().message, "Required input 'tag' not provided");
    const badRef = await post(`${api}/actions/workflows/release-publish.yml/dispatches`, { ref: "nope", inputs: {} });
    assert.equal(badRef.status, 422);
    const unknown = await post(`${api}/actions/workflows/nope.yml/dispatches`, { ref: "main" });
    assert.equal(unknown.status, 404);
    const anonymous = await post(`${api}/actions/workflows/release-publish.yml/dispatches`, { ref: "main" }, {});
    assert.equal(anonymous.status, 401);
    assert.equal(sim.world.actions.dispatchCount("release-publish.yml"), 0);
  });

  it("starts the release build on a tag push (POST /_sim/push) and moves it queued → in_progress → completed", async () => {
    const pushed = await post(`${sim.urls.githubApi}/_sim/push`, { repo: REPO, tag: "v0.9.0", sha: SHA }, {});
    assert.equal(pushed.status, 201);
    const runs = pushed.json<{ runs: { id: number; workflow: string }[] }>().runs;
    assert.deepEqual(
      runs.map((r) => r.workflow),
      ["release.yml"],
    );
    const id = runs[0]!.id;
    const list = (await get(`${api}/actions/workflows/release.yml/runs?event=push&branch=v0.9.0`, AUTH)).json<{
      total_count: number;
      workflow_runs: Run[];
    }>();
    assert.equal(list.total_count, 1);
    assert.equal(list.workflow_runs[0]!.status, "queued");
    assert.equal(list.workflow_runs[0]!.conclusion, null);
    assert.equal(list.workflow_runs[0]!.head_sha, SHA);
    const other = (await get(`${api}/actions/workflows/release.yml/runs?branch=v0.8.0`, AUTH)).json<{
      total_count: number;
    }>();
    assert.equal(other.total_count, 0);
    const bySha = (await get(`${api}/actions/workflows/release.yml/runs?head_sha=${SHA}`, AUTH)).json<{
      total_count: number;
    }>();
    assert.equal(bySha.total_count, 1);

    clock.advance(1500);
    const mid = (await get(`${api}/actions/runs/${id}`, AUTH)).json<Run>();
    assert.equal(mid.status, "in_progress");
    const midJobs = (await get(`${api}/actions/runs/${id}/jobs`, AUTH)).json<{ jobs: Job[] }>();
    assert.ok(midJobs.jobs.every((j) => j.status === "in_progress" && j.conclusion === null));
    const noArtifacts = (await get(`${api}/actions/runs/${id}/artifacts`, AUTH)).json<{ total_count: number }>();
    assert.equal(noArtifacts.total_count, 0);

    clock.advance(5000);
    const done = (await get(`${api}/actions/runs/${id}`, AUTH)).json<Run>();
    assert.equal(done.status, "completed");
    assert.equal(done.conclusion, "success");
    const jobs = (await get(`${api}/actions/runs/${id}/jobs`, AUTH)).json<{ jobs: Job[] }>();
    assert.deepEqual(
      jobs.jobs.map((j) => j.name),
      [
        "release-context",
        "build-platform (x86_64-unknown-linux-gnu)",
        "build-platform (x86_64-apple-darwin)",
        "build-platform (aarch64-apple-darwin)",
        "build-platform (x86_64-pc-windows-msvc)",
        "build-node-dist",
      ],
    );
    assert.ok(jobs.jobs.every((j) => j.conclusion === "success"));
    const success = (await get(`${api}/actions/workflows/release.yml/runs?status=success`, AUTH)).json<{
      total_count: number;
    }>();
    assert.equal(success.total_count, 1);
  });

  it("serves real zip artifacts through a 302 to the download host: metadata.json and dist tarballs", async () => {
    const run = sim.world.actions.runs(REPO).find((r) => r.workflow.file === "release.yml")!;
    const list = (await get(`${api}/actions/runs/${run.id}/artifacts`, AUTH)).json<{
      total_count: number;
      artifacts: Artifact[];
    }>();
    const names = list.artifacts.map((a) => a.name);
    for (const n of [
      "release-metadata",
      "dist-x86_64-unknown-linux-gnu",
      "dist-x86_64-apple-darwin",
      "dist-aarch64-apple-darwin",
      "py-sdist",
      "py-dist-darwin_amd64",
      "py-dist-darwin_arm64",
      "py-dist-windows_amd64",
      "node-native-linux-x64",
      "node-native-win32-x64",
      "node-dist",
    ]) {
      assert.ok(names.includes(n), n);
    }
    const meta = list.artifacts.find((a) => a.name === "release-metadata")!;
    const anonymous = await get(meta.archive_download_url);
    assert.equal(anonymous.status, 401);
    const { hops, final } = await follow(meta.archive_download_url, AUTH);
    assert.equal(hops[0]!.status, 302);
    assert.notEqual(hops[1]!.host, hops[0]!.host);
    assert.equal(final.status, 200);
    assert.equal(`sha256:${createHash("sha256").update(final.body).digest("hex")}`, meta.digest);
    assert.equal(final.body.length, meta.size_in_bytes);
    const files = unzipSync(new Uint8Array(final.body));
    const metadata = JSON.parse(strFromU8(files["metadata.json"]!)) as Record<string, string>;
    assert.deepEqual(metadata, {
      tag: "v0.9.0",
      version: "0.9.0",
      source_sha: SHA,
      source_ref: "refs/tags/v0.9.0",
      source_run_id: String(run.id),
      source_workflow: "release",
    });
    const filtered = (await get(`${api}/actions/runs/${run.id}/artifacts?name=dist-aarch64-apple-darwin`, AUTH)).json<{
      artifacts: Artifact[];
    }>();
    assert.equal(filtered.artifacts.length, 1);
    const dist = unzipSync(
      new Uint8Array((await follow(filtered.artifacts[0]!.archive_download_url, AUTH)).final.body),
    );
    assert.deepEqual(Object.keys(dist), ["plasmite_0.9.0_darwin_arm64.tar.gz"]);
    assert.equal(dist["plasmite_0.9.0_darwin_arm64.tar.gz"]!.length, 4096);
    const tampered = new URL(meta.archive_download_url);
    assert.equal((await get(tampered.toString().replace("/zip", "/nope"), AUTH)).status, 404);
  });

  it("dispatch answers 200 with run details when asked, 204 otherwise; a live publish publishes every channel", async () => {
    const before = sim.world.actions.dispatchCount("release-publish.yml");
    const t0 = new Date(clock.now()).toISOString().replace(/\.\d+Z$/, "Z");
    const rehearsal = await post(`${api}/actions/workflows/release-publish.yml/dispatches`, {
      ref: "main",
      inputs: { release_tag: "v0.9.0", rehearsal: "true" },
    });
    assert.equal(rehearsal.status, 204);
    assert.equal(rehearsal.text, "");
    const runs = (
      await get(`${api}/actions/workflows/release-publish.yml/runs?event=workflow_dispatch&created=>=${t0}`, AUTH)
    ).json<{ total_count: number; workflow_runs: Run[] }>();
    assert.equal(runs.total_count, 1);
    clock.advance(7000);
    const rehearsalJobs = (await get(`${api}/actions/runs/${runs.workflow_runs[0]!.id}/jobs`, AUTH)).json<{
      jobs: Job[];
    }>();
    const release = rehearsalJobs.jobs.find((j) => j.name === "release")!;
    assert.equal(release.conclusion, "success");
    assert.equal(release.steps.find((s) => s.name === "Create GitHub Release")!.conclusion, "skipped");
    assert.deepEqual(sim.world.versions("plasmite"), ["0.8.0"], "a rehearsal publishes nothing");

    const live = await post(`${api}/actions/workflows/release-publish.yml/dispatches`, {
      ref: "main",
      inputs: { release_tag: "v0.9.0", rehearsal: false },
      return_run_details: true,
    });
    assert.equal(live.status, 200);
    const details = live.json<{ workflow_run_id: number; run_url: string; html_url: string }>();
    assert.match(details.run_url, new RegExp(`/actions/runs/${details.workflow_run_id}$`));
    assert.equal(sim.world.actions.dispatchCount("release-publish.yml"), before + 2);
    clock.advance(7000);
    const done = (await get(details.run_url, AUTH)).json<Run>();
    assert.equal(done.conclusion, "success");
    const liveJobs = (await get(`${details.run_url}/jobs`, AUTH)).json<{ jobs: Job[] }>();
    assert.equal(
      liveJobs.jobs.find((j) => j.name === "release")!.steps.find((s) => s.name === "Create GitHub Release")!
        .conclusion,
      "success",
    );
    assert.deepEqual(sim.world.versions("plasmite"), ["0.8.0", "0.9.0"]);
    assert.deepEqual([...sim.world.artifacts("plasmite", "0.9.0").published].sort(), [
      "crates",
      "github",
      "homebrew",
      "npm",
      "pypi",
    ]);
    // the build's dist tarball is byte-identical to the GitHub release asset
    const asset = sim.world
      .artifacts("plasmite", "0.9.0")
      .assets.find((a) => a.name === "plasmite_0.9.0_darwin_arm64.tar.gz")!;
    const buildRun = sim.world.actions.runs(REPO).find((r) => r.workflow.file === "release.yml")!;
    const dist = buildRun.artifacts.find((a) => a.name === "dist-aarch64-apple-darwin")!;
    const inner = unzipSync(new Uint8Array(dist.zip))["plasmite_0.9.0_darwin_arm64.tar.gz"]!;
    assert.equal(createHash("sha256").update(inner).digest("hex"), asset.content.sha256());
  });

  it("scripts failures per workflow: the failed job, skipped dependants, job URLs; partial publishes catch up later", async () => {
    sim.world.actions.script("release-publish.yml", [
      { conclusion: "failure", failJob: "publish-npm", rehearsal: false },
    ]);
    sim.world.actions.onTagPushed(REPO, "v0.9.1", SHA);
    clock.advance(7000);
    const first = await post(`${api}/actions/workflows/release-publish.yml/dispatches`, {
      ref: "main",
      inputs: { release_tag: "v0.9.1" },
      return_run_details: true,
    });
    const id = first.json<{ workflow_run_id: number }>().workflow_run_id;
    clock.advance(7000);
    const run = (await get(`${api}/actions/runs/${id}`, AUTH)).json<Run>();
    assert.equal(run.conclusion, "failure");
    const jobs = (await get(`${api}/actions/runs/${id}/jobs`, AUTH)).json<{ jobs: Job[] }>().jobs;
    const by = (n: string) => jobs.find((j) => j.name === n)!;
    assert.equal(by("publish-npm").conclusion, "failure");
    assert.match(by("publish-npm").html_url, new RegExp(`/actions/runs/${id}/job/\\d+$`));
    assert.equal(by("publish-crates-io").conclusion, "success");
    assert.equal(by("release").conclusion, "skipped");
    assert.deepEqual([...sim.world.artifacts("plasmite", "0.9.1").published].sort(), ["crates", "pypi"]);

    const again = await post(`${api}/actions/workflows/release-publish.yml/dispatches`, {
      ref: "main",
      inputs: { release_tag: "v0.9.1", rehearsal: "false" },
      return_run_details: true,
    });
    clock.advance(7000);
    const rerun = (
      await get(`${api}/actions/runs/${again.json<{ workflow_run_id: number }>().workflow_run_id}`, AUTH)
    ).json<Run>();
    assert.equal(rerun.conclusion, "success");
    assert.deepEqual([...sim.world.artifacts("plasmite", "0.9.1").published].sort(), [
      "crates",
      "github",
      "homebrew",
      "npm",
      "pypi",
    ]);
  });

  it("fails release-publish at resolve-build-run when no successful build exists for the tag", async () => {
    const res = await post(`${api}/actions/workflows/release-publish.yml/dispatches`, {
      ref: "main",
      inputs: { release_tag: "v9.9.9", rehearsal: "true" },
      return_run_details: true,
    });
    clock.advance(7000);
    const id = res.json<{ workflow_run_id: number }>().workflow_run_id;
    const jobs = (await get(`${api}/actions/runs/${id}/jobs`, AUTH)).json<{ jobs: Job[] }>().jobs;
    assert.equal(jobs[0]!.name, "resolve-build-run");
    assert.equal(jobs[0]!.conclusion, "failure");
    assert.ok(jobs.slice(1).every((j) => j.conclusion === "skipped"));
  });

  it("filters runs by created (search syntax) and paginates with a Link header", async () => {
    const all = await get(`${api}/actions/runs?per_page=2`, AUTH);
    assert.equal(all.status, 200);
    assert.match(all.headers.get("link") ?? "", /rel="next"/);
    const future = new Date(clock.now() + 60_000).toISOString();
    const none = (await get(`${api}/actions/runs?created=>=${future}`, AUTH)).json<{ total_count: number }>();
    assert.equal(none.total_count, 0);
    const bad = await get(`${api}/actions/runs?created=yesterday`, AUTH);
    assert.equal(bad.status, 422);
  });

  it("rejects malformed control pushes", async () => {
    const res = await post(`${sim.urls.githubApi}/_sim/push`, { repo: REPO, tag: "v1.0.0", sha: "xyz" }, {});
    assert.equal(res.status, 400);
  });
});
