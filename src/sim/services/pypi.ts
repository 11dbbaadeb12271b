import { pypiProvenanceReply } from "./provenance.ts";
import { pypiFilePath, type PypiFile, type PypiProject, type PypiRelease } from "../model-pypi.ts";
import { json, redirect, text, type Reply, type ServiceDef, type ServiceRuntime } from "../server.ts";
import { isoMicros, isoNoZone } from "../time.ts";
import { compareVersions, isPrerelease, pep440Canonical, pep503 } from "../versions.ts";

const HEADERS = {
  "cache-control": "max-age=900, public",
  vary: "Accept-Encoding",
  "access-control-allow-origin": "*",
  "x-cache": "MISS",
};

function renderFile(filesBase: string, release: PypiRelease, f: PypiFile): Record<string, unknown> {
  const d = f.content.digests();
  return {
    comment_text: "",
    "core-metadata": false,
    digests: { blake2b_256: d.blake2b256, md5: d.md5, sha256: d.sha256 },
    downloads: -1,
    filename: f.filename,
    has_sig: false,
    md5_digest: d.md5,
    packagetype: f.packagetype,
    python_version: f.pythonVersion,
    requires_python: f.requiresPython,
    size: f.content.size,
    upload_time: isoNoZone(f.uploadedAt),
    upload_time_iso_8601: isoMicros(f.uploadedAt),
    url: `${filesBase}${pypiFilePath(f)}`,
    yanked: release.yanked,
    yanked_reason: release.yankedReason,
  };
}

/** `info.version`: ordered by yanked ASC, pre-release last, newest first (warehouse legacy/api/json.py). */
function latest(releases: PypiRelease[]): PypiRelease | null {
  const sorted = [...releases].sort(
    (a, b) =>
      Number(a.yanked) - Number(b.yanked) ||
      Number(isPrerelease(a.version)) - Number(isPrerelease(b.version)) ||
      compareVersions(b.version, a.version),
  );
  return sorted[0] ?? null;
}

function info(base: string, p: PypiProject, release: PypiRelease): Record<string, unknown> {
  return {
    author: null,
    author_email: `${p.meta.owner} <${p.meta.owner}@users.noreply.example>`,
    bugtrack_url: null,
    classifiers: [
      "License :: OSI Approved :: MIT License",
      "Programming Language :: Python :: 3",
      "Programming Language :: Rust",
    ],
    description: `# ${p.name}\n\n${p.meta.summary}\n`,
    description_content_type: "text/markdown",
    docs_url: null,
    download_url: null,
    downloads: { last_day: -1, last_month: -1, last_week: -1 },
    dynamic: null,
    home_page: null,
    keywords: null,
    license: null,
    license_expression: p.meta.license,
    license_files: null,
    maintainer: null,
    maintainer_email: null,
    name: p.name,
    package_url: `${base}/project/${p.normalized}/`,
    platform: null,
    project_url: `${base}/project/${p.normalized}/`,
    project_urls: { Homepage: p.meta.homepage, Source: p.meta.source },
    provides_extra: null,
    release_url: `${base}/project/${p.normalized}/${release.version}/`,
    requires_dist: null,
    requires_python: p.meta.requiresPython,
    summary: p.meta.summary,
    version: release.version,
    yanked: release.yanked,
    yanked_reason: release.yankedReason,
  };
}

function notFound(): Reply {
  return json(404, { message: "Not Found" });
}

function ok(body: unknown, p: PypiProject, lastModified: number): Reply {
  const reply = json(200, body, {
    ...HEADERS,
    "content-type": "application/json",
    "x-pypi-last-serial": String(p.lastSerial),
  });
  reply.cache = { lastModified };
  return reply;
}

/** PyPI JSON API: `/pypi/{project}/json`, `/pypi/{project}/{version}/json`; 301 to the normalized name. */
export function pypiService(rt: ServiceRuntime): ServiceDef {
  const world = rt.world;
  return {
    service: "pypi",
    handle(req) {
      const s = req.segments;
      if (s[0] === "integrity" && s.length === 5 && s[4] === "provenance")
        return pypiProvenanceReply(world, s[1] ?? "", s[2] ?? "", s[3] ?? "");
      if (s[0] !== "pypi" || (s.length !== 3 && s.length !== 4) || s[s.length - 1] !== "json") return notFound();
      const asked = s[1] as string;
      const normalized = pep503(asked);
      const project = world.pypi.get(normalized);
      const releases = project ? [...project.releases.values()].filter((r) => !r.hidden) : [];
      if (!project || releases.length === 0) return notFound();
      if (asked !== normalized) {
        const rest = s.slice(2).map(encodeURIComponent).join("/");
        return redirect(301, `${world.urls.pypi}/pypi/${normalized}/${rest}`, { ...HEADERS });
      }
      const base = world.urls.pypi;
      const files = world.urls.pypiFiles;
      if (s.length === 3) {
        const top = latest(releases);
        if (!top) return notFound();
        const ordered = [...releases].sort((a, b) => compareVersions(a.version, b.version));
        const body = {
          info: info(base, project, top),
          last_serial: project.lastSerial,
          releases: Object.fromEntries(ordered.map((r) => [r.version, r.files.map((f) => renderFile(files, r, f))])),
          urls: top.files.map((f) => renderFile(files, top, f)),
          vulnerabilities: [],
          ownership: { roles: [{ role: "Owner", user: project.meta.owner }], organization: null },
        };
        return ok(
          body,
          project,
          Math.max(...releases.flatMap((r) => [r.createdAt, ...r.files.map((f) => f.uploadedAt)])),
        );
      }
      const wanted = pep440Canonical(s[2] as string);
      const release = releases.find((r) => pep440Canonical(r.version) === wanted);
      if (!release) return notFound();
      const body = {
        info: info(base, project, release),
        last_serial: project.lastSerial,
        urls: release.files.map((f) => renderFile(files, release, f)),
        vulnerabilities: [],
        ownership: { roles: [{ role: "Owner", user: project.meta.owner }], organization: null },
      };
      return ok(body, project, Math.max(release.createdAt, ...release.files.map((f) => f.uploadedAt)));
    },
  };
}

/** files.pythonhosted.org: `/packages/<b2[0:2]>/<b2[2:4]>/<b2[4:]>/<filename>`. */
export function pypiFilesService(rt: ServiceRuntime): ServiceDef {
  const world = rt.world;
  return {
    service: "pypi-files",
    handle(req) {
      const found = world.pypi.fileByPath(req.url.pathname);
      if (!found) return text(404, "Not Found\n", "text/plain; charset=utf-8");
      const content = found.file.content;
      return {
        status: 200,
        headers: {
          "content-type": "application/octet-stream",
          "cache-control": "max-age=365000000, immutable, public",
          etag: `"${content.digests().md5}"`,
        },
        body: { size: content.size, open: () => content.stream() },
      };
    },
  };
}
