import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_INVALID_LINES, parseChecksumFile, parseSidecar } from "../../src/channels/github/checksums.ts";

const A = "90f37f90678cc0ffec07d2997a1299bdbcc1a49ed23d80decec47ebc46c89a77";
const B = "eec00a10b41b01b14fd2b04d01b11b4bd0e327ff675f3763b76a2445e0207b30";

describe("parseChecksumFile", () => {
  const table: {
    name: string;
    text: string;
    entries: [string, string][];
    invalid: [number, string][];
  }[] = [
    {
      name: "shasum -a 256 output (two spaces)",
      text: `${A}  plasmite_0.8.0_darwin_arm64.tar.gz\n${B}  plasmite_0.8.0_darwin_amd64.tar.gz\n`,
      entries: [
        ["plasmite_0.8.0_darwin_arm64.tar.gz", A],
        ["plasmite_0.8.0_darwin_amd64.tar.gz", B],
      ],
      invalid: [],
    },
    {
      name: "binary-mode marker, CRLF, BOM, no final newline",
      text: `\uFEFF${A} *a.tar.gz\r\n${B}  b.tar.gz`,
      entries: [
        ["a.tar.gz", A],
        ["b.tar.gz", B],
      ],
      invalid: [],
    },
    {
      name: "blank and whitespace-only lines are skipped; names keep inner spaces",
      text: `\n   \n${A}  name with spaces.tgz\n\t\n`,
      entries: [["name with spaces.tgz", A]],
      invalid: [],
    },
    {
      name: "hex case is kept as written",
      text: `${A.toUpperCase()}  a\n`,
      entries: [["a", A.toUpperCase()]],
      invalid: [],
    },
    {
      name: "anything else is an invalid line with its 1-based number",
      text: [
        `${A} a.tar.gz`, // one space, no mode marker
        `${A.slice(1)}  short.tar.gz`, // 63 hex
        `${A}0  long.tar.gz`, // 65 hex
        `SHA256 (c.tar.gz) = ${A}`, // BSD format
        `${A}\tc.tar.gz`, // tab
        ` ${A}  indented.tar.gz`,
        `${A}  `, // no name
        `${"g".repeat(64)}  nothex.tar.gz`,
        `${B}  ok.tar.gz`,
      ].join("\n"),
      entries: [["ok.tar.gz", B]],
      invalid: [
        [1, `${A} a.tar.gz`],
        [2, `${A.slice(1)}  short.tar.gz`],
        [3, `${A}0  long.tar.gz`],
        [4, `SHA256 (c.tar.gz) = ${A}`],
        [5, `${A}\tc.tar.gz`],
        [6, ` ${A}  indented.tar.gz`],
        [7, `${A}  `],
        [8, `${"g".repeat(64)}  nothex.tar.gz`],
      ],
    },
    { name: "empty file", text: "", entries: [], invalid: [] },
  ];

  for (const row of table) {
    it(row.name, () => {
      const { file, invalidTotal } = parseChecksumFile("sha256sums.txt", row.text);
      assert.equal(file.name, "sha256sums.txt");
      assert.deepEqual(
        file.entries.map((e) => [e.name, e.sha256]),
        row.entries,
      );
      assert.deepEqual(
        file.invalid_lines.map((l) => [l.line, l.text]),
        row.invalid,
      );
      assert.equal(invalidTotal, row.invalid.length);
    });
  }

  it("keeps at most 100 invalid lines, each cut to 200 characters, and counts them all", () => {
    const { file, invalidTotal } = parseChecksumFile("s", `${"x".repeat(500)}\n`.repeat(250));
    assert.equal(invalidTotal, 250);
    assert.equal(file.invalid_lines.length, MAX_INVALID_LINES);
    assert.equal(file.invalid_lines[0]?.text, `${"x".repeat(200)}…`);
    assert.equal(file.invalid_lines[99]?.line, 100);
  });

  it("never throws on binary garbage", () => {
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString("utf8");
    const { file } = parseChecksumFile("s", junk);
    assert.equal(file.entries.length, 0);
    assert.ok(file.invalid_lines.length > 0);
  });
});

describe("parseSidecar (checksums: { sidecar: .sha256 })", () => {
  const name = "rivet-aarch64-apple-darwin.tar.xz.sha256";
  const table: { name: string; text: string; expect: ReturnType<typeof parseSidecar> }[] = [
    {
      name: "cargo-dist's `<hex> *<name>` and the blank line after it",
      text: `${A} *rivet-aarch64-apple-darwin.tar.xz\n\n`,
      expect: { name, state: "read", sha256: A, named: "rivet-aarch64-apple-darwin.tar.xz" },
    },
    {
      name: "sha256sum's `<hex>  <name>`",
      text: `${A}  rivet-aarch64-apple-darwin.tar.xz\n`,
      expect: { name, state: "read", sha256: A, named: "rivet-aarch64-apple-darwin.tar.xz" },
    },
    { name: "bare hex, CRLF and BOM", text: `\uFEFF${A}\r\n`, expect: { name, state: "read", sha256: A, named: null } },
    { name: "bare hex without newline", text: A, expect: { name, state: "read", sha256: A, named: null } },
    { name: "empty", text: "\n", expect: { name, state: "invalid", text: "(empty)" } },
    { name: "not hex", text: "<html>nope</html>\n", expect: { name, state: "invalid", text: "<html>nope</html>" } },
    {
      name: "two lines is not a sidecar",
      text: `${A}  a\n${B}  b\n`,
      expect: { name, state: "invalid", text: `${A}  a (+1 more lines)` },
    },
    { name: "63 hex", text: `${A.slice(1)}\n`, expect: { name, state: "invalid", text: A.slice(1) } },
  ];
  for (const c of table) it(c.name, () => assert.deepEqual(parseSidecar(name, c.text), c.expect));
});
