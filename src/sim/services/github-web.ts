import type { Repo } from "../model-github.ts";
import { redirect, text, type Reply, type ServiceDef, type ServiceRuntime } from "../server.ts";
import { signedAssetUrl } from "./github-download.ts";

function page(status: number, title: string): Reply {
  return text(
    status,
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${title} · GitHub</title></head><body><h1>${title}</h1></body></html>\n`,
    "text/html; charset=utf-8",
  );
}

/**
 * github.com: `/{o}/{r}/releases/download/{tag}/{name}` answers 302 to a signed URL on the download host;
 * `/{o}/{r}/raw/{ref}/{path}` serves file bytes (the contents API's download_url); HTML pages otherwise.
 */
export function githubWebService(rt: ServiceRuntime): ServiceDef {
  const world = rt.world;
  return {
    service: "github-web",
    handle(req) {
      const [owner, name, kind, sub, ...rest] = req.segments;
      const repo: Repo | null = owner && name ? world.github.repo(owner, name) : null;
      if (!repo) return page(404, "Page not found");
      if (kind === "releases" && sub === "download" && rest.length >= 2) {
        const assetName = rest[rest.length - 1] as string;
        const tag = rest.slice(0, -1).join("/");
        const release = repo.publishedReleaseByTag(tag);
        const asset = release?.assets.find((a) => a.name === assetName);
        if (!asset) return page(404, "Not Found");
        asset.downloadCount++;
        return redirect(302, signedAssetUrl(world, repo, asset), {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-cache",
        });
      }
      if (kind === "raw" && sub !== undefined && rest.length > 0) {
        const commit = repo.resolveRef(sub);
        const file = commit?.files.get(rest.join("/"));
        if (!file) return text(404, "404: Not Found", "text/plain; charset=utf-8");
        return text(200, file, "text/plain; charset=utf-8", { "cache-control": "max-age=300" });
      }
      if (kind === "releases" && sub === "tag" && rest.length > 0) {
        const release = repo.publishedReleaseByTag(rest.join("/"));
        return release
          ? page(200, `Release ${release.name ?? release.tagName} · ${repo.slug}`)
          : page(404, "Not Found");
      }
      if (kind === undefined) return page(200, repo.slug);
      return page(404, "Not Found");
    },
  };
}
