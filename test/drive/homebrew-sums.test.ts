import assert from "node:assert/strict";
import { test } from "node:test";
import { sumsFromRelease } from "../../src/drive/steps/homebrew/index.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const artifacts = [
  { platform: "darwin_arm64", archive: "rivet-aarch64-apple-darwin.tar.xz" },
  { platform: "linux_amd64", archive: "rivet-x86_64-unknown-linux-gnu.tar.xz" },
];
const assets = ["rivet-aarch64-apple-darwin.tar.xz.sha256", "rivet-x86_64-unknown-linux-gnu.tar.xz.sha256"].map(
  (name) => ({ name, url: `https://api.example/${name}` }),
);
const bodies: Record<string, string> = {
  "https://api.example/rivet-aarch64-apple-darwin.tar.xz.sha256": `${A} *rivet-aarch64-apple-darwin.tar.xz\n\n`,
  "https://api.example/rivet-x86_64-unknown-linux-gnu.tar.xz.sha256": `${B}\n`,
};
const download = (url: string) => Promise.resolve(Buffer.from(bodies[url] ?? ""));

test("homebrew step: checksums: { sidecar: .sha256 } reads each archive's sidecar", async () => {
  const got = await sumsFromRelease({ sidecar: ".sha256" }, assets, artifacts, "v0.8.0", download);
  assert.deepEqual(got?.sums, { darwin_arm64: A, linux_amd64: B });
  assert.match(got?.source ?? "", /\.sha256 sidecars of release v0\.8\.0/);
});

test("homebrew step: a missing sidecar is no checksums yet (null), a bad one names the file", async () => {
  assert.equal(await sumsFromRelease({ sidecar: ".sha256" }, assets.slice(0, 1), artifacts, "v0.8.0", download), null);
  const bad = () => Promise.resolve(Buffer.from("not hex\n"));
  await assert.rejects(
    sumsFromRelease({ sidecar: ".sha256" }, assets, artifacts, "v0.8.0", bad),
    /rivet-aarch64-apple-darwin\.tar\.xz\.sha256/,
  );
});
