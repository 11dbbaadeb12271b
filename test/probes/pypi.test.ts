import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { nameFromUrl, pypiProbe } from "../../src/channels/pypi/probe.ts";
import { endpointsAt, planFor, probeContext, rejects, serve, type Handler } from "../helpers/probe-harness.ts";

const context = (base: string, deep = false) => probeContext(endpointsAt(base), deep);
const plan = (project: string, version: string) => planFor(version, { pypi: { project, files: [] } });

// ---------------------------------------------------------------- fixtures (see test/fixtures/pypi/README.md)

const FIXTURES = new URL("../fixtures/pypi/", import.meta.url);
const load = <T = ProjectDoc>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as T;

interface FileDoc extends Record<string, unknown> {
  filename: string;
  url: string;
  yanked?: boolean;
  yanked_reason?: string | null;
}
interface ProjectDoc extends Record<string, unknown> {
  info: Record<string, unknown> & { version: string };
  releases: Record<string, FileDoc[]>;
  urls: FileDoc[];
}
interface ReleaseDoc extends Record<string, unknown> {
  info: ProjectDoc["info"];
  urls: FileDoc[];
}

const AZURE = load("azure-cli-monitor.json");
const AZURE_UPDATED = load("azure-cli-monitor-updated.json");
const SAMPLE = load("sampleproject.json");
const SAMPLE_400 = load<ReleaseDoc>("sampleproject-4.0.0.json");

/** `/pypi/{p}/{v}/json` is the project JSON of that release minus `releases` (warehouse legacy/api/json.py). */
function releaseOf(project: ProjectDoc, version: string): ReleaseDoc {
  const { releases, ...rest } = structuredClone(project);
  const files = releases[version];
  assert.ok(files, `fixture has no release ${version}`);
  return { ...rest, info: { ...rest.info, version }, urls: files };
}

const NOT_FOUND = { message: "Not Found" };

// ---------------------------------------------------------------- loopback PyPI

/** PEP 503 normalization, as warehouse applies it before redirecting. */
const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

/**
 * Warehouse's JSON routes: a non-normalized project name answers 301 to the normalized URL; unknown project or
 * version answers 404 `{"message": "Not Found"}`. `releases` maps a requested version string to a release doc,
 * which lets a test model PEP 440 canonical lookup (0.8 -> 0.8.0).
 */
function pypi(projects: Record<string, { project?: ProjectDoc; releases?: Record<string, ReleaseDoc> }>): Handler {
  return (req, base) => {
    const m = /^\/pypi\/([^/]+)\/(?:([^/]+)\/)?json$/.exec(req.path);
    if (!m) return { status: 404, body: "404 Not Found", headers: { "content-type": "text/plain" } };
    const name = decodeURIComponent(m[1]!);
    const version = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (normalize(name) !== name) {
      const to = `/pypi/${normalize(name)}/${version === undefined ? "" : `${m[2]}/`}json`;
      return { status: 301, headers: { location: `${base}${to}` } };
    }
    const p = projects[name];
    const doc = version === undefined ? p?.project : p?.releases?.[version];
    return doc ? { status: 200, body: doc } : { status: 404, body: NOT_FOUND };
  };
}

// ---------------------------------------------------------------- harness

// ---------------------------------------------------------------- tests

describe("nameFromUrl", () => {
  const cases: [string, string | null][] = [
    ["https://pypi.org/pypi/foo-bar/json", "foo-bar"],
    ["https://pypi.org/pypi/foo-bar/0.8.0/json", "foo-bar"],
    ["http://127.0.0.1:9/mirror/pypi/plasmite/json", "plasmite"],
    ["https://pypi.org/simple/foo/", null],
  ];
  for (const [url, name] of cases) it(`${url} -> ${String(name)}`, () => assert.equal(nameFromUrl(url), name));
});

describe("pypi probe", () => {
  it("reads the project JSON and the release JSON concurrently", async () => {
    const srv = await serve(
      pypi({ "azure-cli-monitor": { project: AZURE, releases: { "0.1.7": releaseOf(AZURE, "0.1.7") } } }),
    );
    const { ctx, evidence } = context(srv.base);
    const obs = await pypiProbe.observe(plan("azure-cli-monitor", "0.1.7"), ctx);
    await srv.close();

    assert.equal(obs.project_found, true);
    assert.equal(obs.normalized_name, "azure-cli-monitor");
    assert.equal(obs.latest_version, "0.1.7");
    assert.equal(obs.versions.length, 22);
    assert.deepEqual(obs.versions[0], { version: "0.0.1", yanked: false });
    assert.deepEqual(obs.notes, []);
    assert.deepEqual(obs.release, {
      version: "0.1.7",
      yanked: false,
      yanked_reason: null,
      files: [
        {
          filename: "azure_cli_monitor-0.1.7-py2.py3-none-any.whl",
          packagetype: "bdist_wheel",
          sha256: "0b11e9a9f9a0f8ed20295fa4ff1e7257c1b0692067f098317717e2b9c716895e",
          size: 40529,
          yanked: false,
          yanked_reason: null,
          // 2018 responses had no upload_time_iso_8601; upload_time is UTC without a zone.
          upload_time: "2018-05-22T17:25:23Z",
          url: "https://files.pythonhosted.org/packages/1b/ce/259302ad8df592b91633be2faae6a6ef69310d8f81ecd96fbff91209711e/azure_cli_monitor-0.1.7-py2.py3-none-any.whl",
        },
        {
          filename: "azure-cli-monitor-0.1.7.tar.gz",
          packagetype: "sdist",
          sha256: "d6612c2ebc787004d6046c907ed23cf5f407d01fadfc0276751a16322f0c8571",
          size: 31581,
          yanked: false,
          yanked_reason: null,
          upload_time: "2018-05-22T17:25:49Z",
          url: "https://files.pythonhosted.org/packages/fb/56/d8482cdfd010c15468f00b9d439d3c05f858546f05f67ecd22c06ff00135/azure-cli-monitor-0.1.7.tar.gz",
        },
      ],
    });
    assert.equal(obs.downloads, null);
    assert.deepEqual(srv.seen.map((s) => s.path).sort(), [
      "/pypi/azure-cli-monitor/0.1.7/json",
      "/pypi/azure-cli-monitor/json",
    ]);
    assert.equal(evidence.length, 2);
  });

  it("follows the 301 to the normalized name and reports it", async () => {
    const srv = await serve(
      pypi({ "azure-cli-monitor": { project: AZURE, releases: { "0.1.7": releaseOf(AZURE, "0.1.7") } } }),
    );
    const { ctx, evidence } = context(srv.base);
    const obs = await pypiProbe.observe(plan("Azure_CLI.Monitor", "0.1.7"), ctx);
    await srv.close();
    assert.equal(obs.project, "Azure_CLI.Monitor");
    assert.equal(obs.normalized_name, "azure-cli-monitor");
    assert.equal(obs.project_found, true);
    assert.equal(obs.release?.version, "0.1.7");
    assert.deepEqual(srv.seen.map((s) => s.path).sort(), [
      "/pypi/Azure_CLI.Monitor/0.1.7/json",
      "/pypi/Azure_CLI.Monitor/json",
      "/pypi/azure-cli-monitor/0.1.7/json",
      "/pypi/azure-cli-monitor/json",
    ]);
    assert.deepEqual(evidence.map((e) => e.status).sort(), [200, 200, 301, 301]);
  });

  it("a version is yanked only when all its files are (the 0.1.6 sdist alone is yanked)", async () => {
    const srv = await serve(
      pypi({ "azure-cli-monitor": { project: AZURE, releases: { "0.1.6": releaseOf(AZURE, "0.1.6") } } }),
    );
    const obs = await pypiProbe.observe(plan("azure-cli-monitor", "0.1.6"), context(srv.base).ctx);
    await srv.close();
    assert.deepEqual(
      obs.versions.find((v) => v.version === "0.1.6"),
      { version: "0.1.6", yanked: false },
    );
    const sdist = obs.release?.files.find((f) => f.packagetype === "sdist");
    assert.equal(sdist?.yanked, true);
    assert.equal(sdist?.yanked_reason, null);
    assert.equal(sdist?.size, 32541);
    const wheel = obs.release?.files.find((f) => f.packagetype === "bdist_wheel");
    assert.equal(wheel?.yanked, false);
  });

  it("records a yanked release with its reason", async () => {
    const reason = "Broken wheel metadata, use 0.2.16";
    const project = structuredClone(AZURE_UPDATED);
    for (const f of project.releases["0.2.15"]!) Object.assign(f, { yanked: true, yanked_reason: reason });
    const release = releaseOf(project, "0.2.15");
    release.info = { ...release.info, yanked: true, yanked_reason: reason };
    const srv = await serve(pypi({ "azure-cli-monitor": { project, releases: { "0.2.15": release } } }));
    const obs = await pypiProbe.observe(plan("azure-cli-monitor", "0.2.15"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.release?.yanked, true);
    assert.equal(obs.release?.yanked_reason, reason);
    assert.deepEqual(
      obs.release?.files.map((f) => [f.filename, f.yanked, f.yanked_reason, f.upload_time]),
      [
        ["azure_cli_monitor-0.2.15-py2.py3-none-any.whl", true, reason, "2019-06-18T13:58:55.337076Z"],
        ["azure-cli-monitor-0.2.15.tar.gz", true, reason, "2019-06-18T14:00:05.556539Z"],
      ],
    );
    assert.deepEqual(
      obs.versions.find((v) => v.version === "0.2.15"),
      { version: "0.2.15", yanked: true },
    );
    assert.equal(obs.versions.length, 39);
  });

  it("lists releases without files ([]) as not yanked", async () => {
    const srv = await serve(pypi({ sampleproject: { project: SAMPLE, releases: { "4.0.0": SAMPLE_400 } } }));
    const obs = await pypiProbe.observe(plan("sampleproject", "4.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.deepEqual(obs.versions, [
      { version: "1.0", yanked: false },
      { version: "1.2.0", yanked: false },
      { version: "1.3.0", yanked: false },
      { version: "1.3.1", yanked: false },
      { version: "2.0.0", yanked: false },
      { version: "3.0.0", yanked: false },
      { version: "4.0.0", yanked: false },
    ]);
    assert.equal(obs.latest_version, "4.0.0");
    assert.deepEqual(
      obs.release?.files.map((f) => [f.filename, f.sha256, f.upload_time]),
      [
        [
          "sampleproject-4.0.0-py3-none-any.whl",
          "c23e447ea90d796d1e645c35c4b2de125040add12a845825546f91c93f391b6b",
          "2024-11-06T22:37:09.220617Z",
        ],
        [
          "sampleproject-4.0.0.tar.gz",
          "0ace7980f82c5815ede4cd7bf9f6693684cec2ae47b9b7ade9add533b8627c6b",
          "2024-11-06T22:37:10.868088Z",
        ],
      ],
    );
  });

  it("a canonical-form match (4.0 -> 4.0.0) is not the requested release, but is kept in a note", async () => {
    const srv = await serve(pypi({ sampleproject: { project: SAMPLE, releases: { "4.0": SAMPLE_400 } } }));
    const obs = await pypiProbe.observe(plan("sampleproject", "4.0"), context(srv.base, true).ctx);
    await srv.close();
    assert.equal(obs.release, null);
    assert.equal(obs.project_found, true);
    assert.equal(obs.notes?.length, 1);
    assert.match(obs.notes?.[0] ?? "", /answered release 4\.0\.0 \(2 file\(s\)\) for requested version 4\.0/);
    assert.equal(obs.downloads, null, "nothing is downloaded for a release that is not the one asked for");
  });

  it("an unknown project is project_found false and release null", async () => {
    const srv = await serve(pypi({}));
    const obs = await pypiProbe.observe(plan("no-such-project", "1.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.deepEqual(obs, {
      channel: "pypi",
      project: "no-such-project",
      normalized_name: null,
      project_found: false,
      latest_version: null,
      versions: [],
      release: null,
      downloads: null,
      notes: [],
    });
  });

  it("an unknown version of a known project is release null", async () => {
    const srv = await serve(pypi({ sampleproject: { project: SAMPLE } }));
    const obs = await pypiProbe.observe(plan("sampleproject", "9.9.9"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.project_found, true);
    assert.equal(obs.release, null);
    assert.deepEqual(obs.notes, []);
  });

  it("a persistent 500 is an AppError after the client's retries", async () => {
    const srv = await serve((req) =>
      req.path.endsWith("/4.0.0/json") ? { status: 200, body: SAMPLE_400 } : { status: 500, body: "oops" },
    );
    await rejects(
      pypiProbe.observe(plan("sampleproject", "4.0.0"), context(srv.base).ctx),
      "E_HTTP_STATUS",
      /HTTP 500/,
    );
    await srv.close();
    assert.equal(srv.seen.filter((s) => s.path === "/pypi/sampleproject/json").length, 2);
  });

  it("a 403 is an AppError, not 'not found'", async () => {
    const srv = await serve(() => ({ status: 403, body: "Forbidden" }));
    await rejects(
      pypiProbe.observe(plan("sampleproject", "4.0.0"), context(srv.base).ctx),
      "E_HTTP_STATUS",
      /HTTP 403/,
    );
    await srv.close();
  });

  it("a non-JSON 200 is E_UPSTREAM_MALFORMED naming the URL", async () => {
    const srv = await serve((req) =>
      req.path.endsWith("/4.0.0/json")
        ? { status: 200, body: "<!DOCTYPE html><title>Fastly error</title>" }
        : { status: 200, body: SAMPLE },
    );
    await rejects(
      pypiProbe.observe(plan("sampleproject", "4.0.0"), context(srv.base).ctx),
      "E_UPSTREAM_MALFORMED",
      /\/pypi\/sampleproject\/4\.0\.0\/json: body is not JSON/,
    );
    await srv.close();
  });

  it("a file without a filename is E_UPSTREAM_MALFORMED naming the field", async () => {
    const broken = structuredClone(SAMPLE_400);
    delete (broken.urls[1] as Record<string, unknown>)["filename"];
    const srv = await serve(pypi({ sampleproject: { project: SAMPLE, releases: { "4.0.0": broken } } }));
    await rejects(
      pypiProbe.observe(plan("sampleproject", "4.0.0"), context(srv.base).ctx),
      "E_UPSTREAM_MALFORMED",
      /urls\.1\.filename/,
    );
    await srv.close();
  });

  it("a project JSON without info.version is E_UPSTREAM_MALFORMED", async () => {
    const broken = structuredClone(SAMPLE);
    delete (broken.info as Record<string, unknown>)["version"];
    const srv = await serve(pypi({ sampleproject: { project: broken, releases: { "4.0.0": SAMPLE_400 } } }));
    await rejects(
      pypiProbe.observe(plan("sampleproject", "4.0.0"), context(srv.base).ctx),
      "E_UPSTREAM_MALFORMED",
      /info\.version/,
    );
    await srv.close();
  });
});

describe("pypi probe: --deep", () => {
  it("streams every file of the release and records sha256 by filename", async () => {
    const big = Buffer.alloc(1024 * 1024 + 3);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
    const release = structuredClone(SAMPLE_400);
    const files: Record<string, Buffer | string> = { "/files/a.whl": "abc", "/files/b.tar.gz": big };
    const srv = await serve((req, b) => {
      const f = files[req.path];
      if (f !== undefined) return { status: 200, body: f };
      return pypi({ sampleproject: { project: SAMPLE, releases: { "4.0.0": release } } })(req, b);
    });
    release.urls[0]!.url = `${srv.base}/files/a.whl`;
    release.urls[1]!.url = `${srv.base}/files/b.tar.gz`;
    const obs = await pypiProbe.observe(plan("sampleproject", "4.0.0"), context(srv.base, true).ctx);
    await srv.close();
    assert.deepEqual(obs.downloads, {
      "sampleproject-4.0.0-py3-none-any.whl": {
        sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        bytes: 3,
      },
      "sampleproject-4.0.0.tar.gz": { sha256: createHash("sha256").update(big).digest("hex"), bytes: big.length },
    });
  });

  it("a file URL answering 404 is an AppError", async () => {
    const release = structuredClone(SAMPLE_400);
    const srv = await serve((req, b) =>
      req.path.startsWith("/files/")
        ? { status: 404, body: "Not Found" }
        : pypi({ sampleproject: { project: SAMPLE, releases: { "4.0.0": release } } })(req, b),
    );
    for (const f of release.urls) f.url = `${srv.base}/files/${f.filename}`;
    await rejects(
      pypiProbe.observe(plan("sampleproject", "4.0.0"), context(srv.base, true).ctx),
      "E_HTTP_STATUS",
      /HTTP 404 for a file download/,
    );
    await srv.close();
  });

  it("no release means nothing to download", async () => {
    const srv = await serve(pypi({ sampleproject: { project: SAMPLE } }));
    const obs = await pypiProbe.observe(plan("sampleproject", "9.9.9"), context(srv.base, true).ctx);
    await srv.close();
    assert.equal(obs.downloads, null);
    assert.equal(srv.seen.length, 2);
  });
});
