import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { startSim } from "../../src/sim/index.ts";
import { UA } from "./helpers.ts";

const SIZE = 64 * 1024 * 1024;

describe("sim: large streamed assets", () => {
  it("streams a 64 MiB asset through the 302 chain, hashing to its advertised digest", async () => {
    const sim = await startSim();
    try {
      sim.world.addProject({ name: "big", repo: "sim/big", githubPlatforms: ["linux_amd64"], assetBytes: SIZE });
      sim.world.publish("big", "1.0.0", { channels: ["github"] });
      const release = (await (
        await fetch(`${sim.urls.githubApi}/repos/sim/big/releases/tags/v1.0.0`, { headers: { "user-agent": UA } })
      ).json()) as { assets: { name: string; size: number; digest: string; browser_download_url: string }[] };
      const asset = release.assets.find((a) => a.name === "big_1.0.0_linux_amd64.tar.gz");
      assert.ok(asset);
      assert.equal(asset.size, SIZE);
      const res = await fetch(asset.browser_download_url, { headers: { "user-agent": UA } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-length"), String(SIZE));
      assert.equal(new URL(res.url).host, new URL(sim.urls.githubDownload).host);
      const hash = createHash("sha256");
      let bytes = 0;
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      assert.equal(bytes, SIZE);
      assert.equal(`sha256:${hash.digest("hex")}`, asset.digest);
      const sums = await (
        await fetch(release.assets.find((a) => a.name === "sha256sums.txt")!.browser_download_url)
      ).text();
      assert.equal(sums, `${asset.digest.slice(7)}  ${asset.name}\n`);
    } finally {
      await sim.close();
    }
  });
});
