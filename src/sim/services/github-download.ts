import { createHmac } from "node:crypto";
import type { ReleaseAsset, Repo } from "../model-github.ts";
import { text, type Reply, type ServiceDef, type ServiceRuntime } from "../server.ts";
import { httpDate, isoSeconds } from "../time.ts";
import type { World } from "../world.ts";
import { actionsResultsDownload } from "./github-actions.ts";

/** Signed URLs expire after five minutes, like the real CDN's short-lived `se=` links. */
const URL_TTL_MS = 5 * 60_000;

function signature(world: World, uuid: string, expiry: string): string {
  return createHmac("sha256", `release-monitor-sim-download\0${world.seed}`)
    .update(`${uuid}\n${expiry}`)
    .digest("base64");
}

/** `…/github-production-release-asset/<repo id>/<uuid>?sp=r&sv=…&se=<expiry>&…&sig=…` on the download host. */
export function signedAssetUrl(world: World, repo: Repo, asset: ReleaseAsset): string {
  const se = isoSeconds(world.now() + URL_TTL_MS);
  const q = new URLSearchParams({
    sp: "r",
    sv: "2018-11-09",
    sr: "b",
    spr: "https",
    se,
    rscd: `attachment; filename=${asset.name}`,
    rsct: "application/octet-stream",
    skoid: "96c2d410-5711-43a1-aedd-ab1947aa7ab0",
    sktid: "398a6654-997b-47e9-b12b-9515b896b4de",
    sig: signature(world, asset.uuid, se),
  });
  return `${world.urls.githubDownload}/github-production-release-asset/${repo.id}/${asset.uuid}?${q.toString()}`;
}

function azureError(status: number, code: string, message: string, detail: string): Reply {
  const body = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Error><Code>${code}</Code><Message>${message}\nRequestId:00000000-0000-0000-0000-000000000000\nTime:${new Date().toISOString()}</Message>`,
    `<AuthenticationErrorDetail>${detail}</AuthenticationErrorDetail></Error>`,
  ].join("");
  return text(status, body, "application/xml");
}

/** The CDN host behind the 302s: serves asset bytes (streamed) for a valid, unexpired signature. */
export function githubDownloadService(rt: ServiceRuntime): ServiceDef {
  const world = rt.world;
  return {
    service: "github-download",
    handle(req) {
      if (req.segments[0] === "actions-results") return actionsResultsDownload(req, world);
      const [root, repoId, uuid] = req.segments;
      if (req.segments.length !== 3 || root !== "github-production-release-asset" || !repoId || !uuid) {
        return azureError(404, "ResourceNotFound", "The specified resource does not exist.", "");
      }
      if (req.header("authorization") !== undefined) {
        return azureError(
          400,
          "InvalidAuthenticationInfo",
          "Authentication information is not given in the correct format. Check the value of Authorization header.",
          "Only one auth mechanism allowed; the sig query parameter or the Authorization header should be specified",
        );
      }
      const se = req.query.get("se") ?? "";
      const sig = req.query.get("sig") ?? "";
      if (sig !== signature(world, uuid, se)) {
        return azureError(
          403,
          "AuthenticationFailed",
          "Server failed to authenticate the request.",
          "Signature did not match.",
        );
      }
      const expiry = Date.parse(se);
      if (Number.isNaN(expiry) || world.now() > expiry) {
        return azureError(
          403,
          "AuthenticationFailed",
          "Server failed to authenticate the request.",
          `Signed expiry time [${se}] has passed.`,
        );
      }
      const repo = world.github.repoById(Number(repoId));
      const asset = repo?.releases.flatMap((r) => r.assets).find((a) => a.uuid === uuid);
      if (!asset) return azureError(404, "BlobNotFound", "The specified blob does not exist.", "");
      const content = asset.content;
      return {
        status: 200,
        headers: {
          "content-type": "application/octet-stream",
          "content-disposition": `attachment; filename=${asset.name}`,
          "last-modified": httpDate(asset.updatedAt),
          etag: `"0x8DD${content.sha256().slice(0, 12).toUpperCase()}"`,
          "x-ms-blob-type": "BlockBlob",
          "x-ms-server-encrypted": "true",
          "x-ms-version": "2025-01-05",
        },
        body: { size: content.size, open: () => content.stream() },
      };
    },
  };
}
