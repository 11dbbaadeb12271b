/**
 * globMatch's ASCII path (no RegExp per call) agrees with the glob's regular expression, `^…$` with `*` as `[^/]*`
 * and the `i` flag, on every pattern and name over a small alphabet, and on real wheel and sdist names.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { globMatch } from "../../src/drift/findings.ts";

const byRegex = (pattern: string, name: string): boolean =>
  new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^/]*")}$`,
    "i",
  ).test(name);

function* strings(alphabet: string, maxLength: number): Generator<string> {
  yield "";
  let level = [""];
  for (let len = 1; len <= maxLength; len++) {
    level = level.flatMap((s) => [...alphabet].map((c) => s + c));
    yield* level;
  }
}

describe("globMatch", () => {
  it("agrees with the regular expression on every pattern up to 4 and name up to 5 characters", () => {
    const names = [...strings("aB/.", 5)];
    let compared = 0;
    for (const pattern of strings("Ab/*.", 4)) {
      for (const name of names) {
        assert.equal(
          globMatch(pattern, name),
          byRegex(pattern, name),
          `${JSON.stringify(pattern)} on ${JSON.stringify(name)}`,
        );
        compared++;
      }
    }
    assert.equal(compared, 781 * 1365);
  });

  it("matches real distribution file names, case-insensitively, and never across a slash", () => {
    const cases: [string, string, boolean][] = [
      [
        "plasmite-0.8.0-*-manylinux*_x86_64.whl",
        "plasmite-0.8.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        true,
      ],
      ["plasmite-0.8.0*.tar.gz", "Plasmite-0.8.0.tar.gz", true],
      ["plasmite-0.8.0-*-macosx*_arm64.whl", "plasmite-0.8.0-cp39-abi3-macosx_11_0_x86_64.whl", false],
      ["*.whl", "dist/plasmite.whl", false],
      ["dist/*.whl", "dist/plasmite.whl", true],
      ["plasmite-0.8.0-*-win_amd64.whl", "plasmite-0.8.0-cp39-abi3-win_amd64.whl", true],
      ["plasmité-*.tar.gz", "PLASMITÉ-1.tar.gz", true],
    ];
    for (const [pattern, name, want] of cases) {
      assert.equal(globMatch(pattern, name), want, `${pattern} on ${name}`);
      assert.equal(globMatch(pattern, name), byRegex(pattern, name));
    }
  });
});
