import { indexPath, type CrateRecord, type CrateVersion } from "../model-crates.ts";
import { json, text, type ServiceDef, type ServiceRuntime } from "../server.ts";
import { isoSeconds } from "../time.ts";

/** One sparse-index line, in the field order crates.io writes (`links`, `v`, `features2` only when set). */
function indexLine(c: CrateRecord, v: CrateVersion): string {
  const line: Record<string, unknown> = {
    name: c.name,
    vers: v.num,
    deps: [],
    cksum: v.indexDivergence?.cksum ?? v.checksum,
    features: v.features,
    yanked: v.indexDivergence?.yanked ?? v.yanked,
  };
  if (v.links !== null) line["links"] = v.links;
  if (v.rustVersion !== null) line["rust_version"] = v.rustVersion;
  line["pubtime"] = isoSeconds(v.createdAt);
  return JSON.stringify(line);
}

/** index.crates.io: `/config.json` and `/{prefix}/{name}` NDJSON in publish order; yanks flip lines in place. */
export function cratesIndexService(rt: ServiceRuntime): ServiceDef {
  const world = rt.world;
  return {
    service: "crates-index",
    handle(req) {
      const path = req.segments.join("/");
      if (path === "config.json") {
        return json(
          200,
          { dl: `${world.urls.cratesStatic}/crates`, api: world.urls.cratesApi },
          { "cache-control": "public,max-age=600" },
        );
      }
      const name = req.segments[req.segments.length - 1] ?? "";
      const crate = name === name.toLowerCase() && indexPath(name) === path ? world.crates.getForIndex(name) : null;
      const versions = crate ? crate.versions.filter((v) => !v.hidden) : [];
      if (!crate || versions.length === 0) return text(404, "Not Found\n", "text/plain; charset=utf-8");
      const body = versions.map((v) => `${indexLine(crate, v)}\n`).join("");
      const reply = text(200, body, "text/plain; charset=utf-8", { "cache-control": "public,max-age=600" });
      reply.cache = { lastModified: Math.max(...versions.map((v) => v.updatedAt)) };
      return reply;
    },
  };
}

/** static.crates.io: `/crates/{name}/{name}-{version}.crate`. */
export function cratesStaticService(rt: ServiceRuntime): ServiceDef {
  const world = rt.world;
  return {
    service: "crates-static",
    handle(req) {
      const [root, name, file] = req.segments;
      if (root !== "crates" || !name || !file || req.segments.length !== 3)
        return text(404, "Not Found\n", "text/plain");
      const crate = world.crates.get(name);
      const version = crate?.versions.find((v) => `${crate.name}-${v.num}.crate` === file);
      if (!crate || !version || crate.name !== name) return text(404, "Not Found\n", "text/plain");
      const content = version.content;
      return {
        status: 200,
        headers: {
          "content-type": "application/gzip",
          "cache-control": "public,max-age=31536000,immutable",
          etag: `"${content.sha256().slice(0, 32)}"`,
        },
        body: { size: content.size, open: () => content.stream() },
      };
    },
  };
}
