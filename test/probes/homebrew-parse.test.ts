import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { MAX_FORMULA_CHARS, parseFormula } from "../../src/channels/homebrew/parse-formula.ts";
import type { FormulaContext, ParsedFormula } from "../../src/channels/homebrew/types.ts";

// Real formulae: test/fixtures/homebrew/README.md.
const FIXTURES = new URL("../fixtures/homebrew/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), "utf8");

const hex = (c: string): string => c.repeat(64);

/** Compact view: `os/cpu resolved_url sha256`, in output order. */
function rows(f: ParsedFormula): string[] {
  return f.artifacts.map((a) => `${a.context.os ?? "*"}/${a.context.cpu ?? "*"} ${a.resolved_url} ${a.sha256}`);
}

const ctx = (os: FormulaContext["os"], cpu: FormulaContext["cpu"]): FormulaContext => ({ os, cpu });

describe("parseFormula: real formulae", () => {
  it("plasmite 0.8.0 (tap): three artifacts, linux/arm refused with odie", () => {
    const f = parseFormula(fixture("sandover-tap_plasmite_0.8.0_handwritten.rb"));
    const base = "https://github.com/sandover/plasmite/releases/download/v0.8.0/plasmite_0.8.0";
    assert.equal(f.kind, "formula");
    assert.equal(f.class_name, "Plasmite");
    assert.equal(f.version, "0.8.0");
    assert.deepEqual(rows(f), [
      `macos/arm ${base}_darwin_arm64.tar.gz 90f37f90678cc0ffec07d2997a1299bdbcc1a49ed23d80decec47ebc46c89a77`,
      `macos/intel ${base}_darwin_amd64.tar.gz eec00a10b41b01b14fd2b04d01b11b4bd0e327ff675f3763b76a2445e0207b30`,
      `linux/intel ${base}_linux_amd64.tar.gz 71d447fb869f82925ab09d1a9baa4fd236243ab129218b0d0ec41091dd55aef0`,
    ]);
    assert.deepEqual(
      f.artifacts.map((a) => a.line),
      [9, 12, 19],
    );
    assert.deepEqual(
      f.artifacts.map((a) => a.url === a.resolved_url),
      [true, true, true],
    );
    assert.deepEqual(f.unsupported, [ctx("linux", "arm")]);
    assert.deepEqual(f.warnings, []);
  });

  it("plasmite 0.7.2 (previous tap version): same structure, every sha256 differs", () => {
    const f = parseFormula(fixture("sandover-tap_plasmite_0.7.2_previous.rb"));
    const next = parseFormula(fixture("sandover-tap_plasmite_0.8.0_handwritten.rb"));
    assert.equal(f.version, "0.7.2");
    assert.deepEqual(
      f.artifacts.map((a) => a.context),
      next.artifacts.map((a) => a.context),
    );
    assert.deepEqual(
      f.artifacts.map((a) => a.sha256),
      [
        "7985f7e6f5a4a70cbd3580405c3491e325fb070507e7dbfccc96adc53505affd",
        "135ed0a48aa92e037c7648a73bda3e1be82316bb70dae92a550b6b17bcddb999",
        "d096bc585baee26c41e0f2c2c148d849432564a120fa2b633af5b31d6184e2f4",
      ],
    );
    assert.ok(f.artifacts.every((a) => a.url.includes("/v0.7.2/plasmite_0.7.2_")));
    assert.deepEqual(f.unsupported, [ctx("linux", "arm")]);
    assert.deepEqual(f.warnings, []);
  });

  it("plasmite repo template: the placeholder sha256 is returned as is, with a warning", () => {
    const f = parseFormula(fixture("sandover-plasmite-repo_homebrew-template_0.1.0_placeholder-sha.rb"));
    assert.equal(f.version, "0.1.0");
    assert.equal(f.artifacts.length, 4);
    const linuxArm = f.artifacts.find((a) => a.context.os === "linux" && a.context.cpu === "arm");
    assert.equal(linuxArm?.sha256, "PLACEHOLDER_LINUX_ARM64_SHA256");
    assert.equal(
      linuxArm?.url,
      "https://github.com/sandover/plasmite/releases/download/v0.1.0/plasmite_0.1.0_linux_arm64.tar.gz",
    );
    assert.deepEqual(f.unsupported, []);
    assert.equal(f.warnings.length, 1);
    assert.match(f.warnings[0] ?? "", /line 21: sha256 "PLACEHOLDER_LINUX_ARM64_SHA256" is not 64 hex/);
  });

  it("GoReleaser cask: sha256 before url, multi-line url with verified:, #{version} substituted", () => {
    const f = parseFormula(fixture("goreleaser-tap_goreleaser_2.17.1_goreleaser-cask.rb"));
    const base = "https://github.com/goreleaser/goreleaser/releases/download";
    assert.equal(f.kind, "cask");
    assert.equal(f.class_name, null);
    assert.equal(f.version, "2.17.1");
    assert.deepEqual(rows(f), [
      `macos/intel ${base}/v2.17.1/goreleaser_Darwin_x86_64.tar.gz ${"a92a68c61a6833ff67748f532cbebc7b8e49ba30de062ab463b221211ee6368f"}`,
      `macos/arm ${base}/v2.17.1/goreleaser_Darwin_arm64.tar.gz ${"b65624885c25da9a677b7ad11cf86a02123cc5a56af66f6b4ebb574658eada2e"}`,
      `linux/intel ${base}/v2.17.1/goreleaser_Linux_x86_64.tar.gz ${"a99bbc7ae0d8d897b07c4c497a9b62f222558804715ef219d1af05a7e417bc80"}`,
      `linux/arm ${base}/v2.17.1/goreleaser_Linux_arm64.tar.gz ${"702f03769ac8bcb0e47839c82243cc614ae995633599a98c63062e13ea85f829"}`,
    ]);
    assert.equal(f.artifacts[0]?.url, `${base}/v#{version}/goreleaser_Darwin_x86_64.tar.gz`);
    assert.deepEqual(f.warnings, []);
  });

  it("cargo-dist oranda formula: if OS.mac?/OS.linux? with nested CPU ifs, non-GitHub hosts", () => {
    const f = parseFormula(fixture("axodotdev-tap_oranda_0.6.5_cargo-dist-generated_non-github-urls.rb"));
    assert.equal(f.class_name, "Oranda");
    assert.equal(f.version, "0.6.5");
    assert.deepEqual(
      f.artifacts.map((a) => [a.context, a.resolved_url.split("/").pop()]),
      [
        [ctx("macos", "arm"), "oranda-aarch64-apple-darwin.tar.gz"],
        [ctx("macos", "intel"), "oranda-x86_64-apple-darwin.tar.gz"],
        [ctx("linux", "arm"), "oranda-aarch64-unknown-linux-gnu.tar.gz"],
        [ctx("linux", "intel"), "oranda-x86_64-unknown-linux-gnu.tar.gz"],
      ],
    );
    assert.ok(f.artifacts.every((a) => a.url.startsWith("https://axodotdev.artifacts.axodotdev.host/")));
    assert.equal(f.artifacts[3]?.sha256, "2db065e8b06253526a81595b9312b8c4468ff42f3f9fbe50a6ff21a42d3516d1");
    assert.deepEqual(f.warnings, []);
  });

  it("ripgrep (homebrew-core): one source archive; bottle, livecheck and head ignored; no version", () => {
    const f = parseFormula(fixture("homebrew-core_ripgrep_15.2.0_bottle-livecheck-head.rb"));
    assert.equal(f.class_name, "Ripgrep");
    assert.equal(f.version, null);
    assert.deepEqual(rows(f), [
      "*/* https://github.com/BurntSushi/ripgrep/archive/refs/tags/15.2.0.tar.gz 7605249d3eb0d5f170e3414498e3344e26b1e7a147aec518b57090b80036a562",
    ]);
    assert.deepEqual(f.unsupported, []);
    assert.deepEqual(f.warnings, []);
  });
});

describe("parseFormula: hand-written constructs", () => {
  it("resource and patch blocks (cookiecutter style) do not contribute artifacts", () => {
    const f = parseFormula(`class Cookiecutter < Formula
  include Language::Python::Virtualenv
  desc "Utility that creates projects from templates"
  url "https://files.pythonhosted.org/packages/cookiecutter-2.6.0.tar.gz"
  sha256 "${hex("a")}"
  license "BSD-3-Clause"
  revision 9

  resource "arrow" do
    url "https://files.pythonhosted.org/packages/arrow-1.3.0.tar.gz"
    sha256 "${hex("b")}"
  end

  resource "six" do
    url "https://files.pythonhosted.org/packages/six-1.16.0.tar.gz"
    sha256 "${hex("c")}"
  end

  patch do
    url "https://example.com/fix.patch"
    sha256 "${hex("d")}"
  end

  def install
    virtualenv_install_with_resources
  end
end
`);
    assert.deepEqual(rows(f), [`*/* https://files.pythonhosted.org/packages/cookiecutter-2.6.0.tar.gz ${hex("a")}`]);
    assert.equal(f.version, null);
    assert.deepEqual(f.warnings, []);
  });

  it("comments, =begin blocks, heredocs and regex literals hide fake stanzas; single quotes work", () => {
    const f = parseFormula(`# url "https://fake.example/commented.tar.gz"
class Ibazel < Formula
  desc "Tool # not a comment, url \\"quoted\\""
  url 'https://github.com/bazelbuild/bazel-watcher/archive/v0.1.tar.gz' # url "https://fake.example/trailing"
  sha256 '${hex("e")}'
  version '0.1'
=begin
  url "https://fake.example/in-begin.tar.gz"
  sha256 "${hex("f")}"
=end
  # sha256 "${hex("0")}"
  livecheck do
    url :stable
    regex(/href=["']?v?(\\d+(?:\\.\\d+)+)["' >]/i)
  end
  def install
    (testpath/"x").write <<~EOS
      url "https://fake.example/heredoc"
      end
    EOS
    bin.install "x" if File.exist?("x")
  end
end
`);
    assert.deepEqual(rows(f), [`*/* https://github.com/bazelbuild/bazel-watcher/archive/v0.1.tar.gz ${hex("e")}`]);
    assert.equal(f.version, "0.1");
    assert.deepEqual(f.warnings, []);
  });

  it("if/elsif/else and unless nesting: else flips the CPU, #{version…} forms resolve", () => {
    const f = parseFormula(`class Tool < Formula
  version "2.0.1"
  if OS.mac?
    if Hardware::CPU.arm?
      url "https://e.x/tool-#{version}-darwin-arm64.tgz"
      sha256 "${hex("1")}"
    else
      url "https://e.x/tool-#{version}-darwin-amd64.tgz"
      sha256 "${hex("2")}"
    end
  elsif OS.linux?
    unless Hardware::CPU.arm?
      url "https://e.x/tool-#{ version.major_minor }-linux-amd64.tgz"
      sha256 "${hex("3")}"
    else
      odie "no linux arm"
    end
  end
end
`);
    assert.deepEqual(rows(f), [
      `macos/arm https://e.x/tool-2.0.1-darwin-arm64.tgz ${hex("1")}`,
      `macos/intel https://e.x/tool-2.0.1-darwin-amd64.tgz ${hex("2")}`,
      `linux/intel https://e.x/tool-2.0-linux-amd64.tgz ${hex("3")}`,
    ]);
    assert.deepEqual(f.unsupported, [ctx("linux", "arm")]);
    assert.deepEqual(f.warnings, []);
  });

  it("on_arm / on_intel at top level, and version declared after the urls", () => {
    const f = parseFormula(`class Tool < Formula
  on_arm do
    url "https://e.x/#{version}/arm.tgz"
    sha256 "${hex("4")}"
  end
  on_intel do
    sha256 "${hex("5")}"
    url "https://e.x/#{version}/intel.tgz"
  end
  version "1.0"
end
`);
    assert.deepEqual(rows(f), [
      `*/arm https://e.x/1.0/arm.tgz ${hex("4")}`,
      `*/intel https://e.x/1.0/intel.tgz ${hex("5")}`,
    ]);
  });

  it("GoReleaser formula: Hardware::CPU ifs side by side, && is_64_bit?, 32-bit-only branch dropped", () => {
    const f = parseFormula(`class Foo < Formula
  version "0.3.0"
  on_macos do
    if Hardware::CPU.intel?
      url "https://github.com/o/foo/releases/download/v0.3.0/foo_Darwin_x86_64.tar.gz"
      sha256 "${hex("6")}"

      def install
        bin.install "foo"
      end
    end
    if Hardware::CPU.arm?
      url "https://github.com/o/foo/releases/download/v0.3.0/foo_Darwin_arm64.tar.gz"
      sha256 "${hex("7")}"

      define_method(:install) do
        bin.install "foo"
      end
    end
  end
  on_linux do
    if Hardware::CPU.intel? && Hardware::CPU.is_64_bit?
      url "https://github.com/o/foo/releases/download/v0.3.0/foo_Linux_x86_64.tar.gz"
      sha256 "${hex("8")}"
    end
    if Hardware::CPU.arm? && !Hardware::CPU.is_64_bit?
      url "https://github.com/o/foo/releases/download/v0.3.0/foo_Linux_armv6.tar.gz"
      sha256 "${hex("9")}"
    end
    if Hardware::CPU.arm? and Hardware::CPU.is_64_bit?
      url "https://github.com/o/foo/releases/download/v0.3.0/foo_Linux_arm64.tar.gz"
      sha256 "${hex("a")}"
    end
  end
end
`);
    assert.deepEqual(
      f.artifacts.map((a) => [a.context, a.resolved_url.split("/").pop(), a.sha256]),
      [
        [ctx("macos", "intel"), "foo_Darwin_x86_64.tar.gz", hex("6")],
        [ctx("macos", "arm"), "foo_Darwin_arm64.tar.gz", hex("7")],
        [ctx("linux", "intel"), "foo_Linux_x86_64.tar.gz", hex("8")],
        [ctx("linux", "arm"), "foo_Linux_arm64.tar.gz", hex("a")],
      ],
    );
    assert.deepEqual(f.warnings, []);
  });

  it("legacy `if OS.mac? && Hardware::CPU.arm?` conditions and an odie under OS.linux?", () => {
    const f = parseFormula(`class Bar < Formula
  if OS.mac? && Hardware::CPU.intel?
    url "https://e.x/bar-mac-intel.tgz"
    sha256 "${hex("1")}"
  end
  if OS.mac? && (Hardware::CPU.arm?)
    url "https://e.x/bar-mac-arm.tgz"
    sha256 "${hex("2")}"
  end
  if OS.linux?
    odie "Linux is not supported"
  end
end
`);
    assert.deepEqual(
      f.artifacts.map((a) => a.context),
      [ctx("macos", "intel"), ctx("macos", "arm")],
    );
    assert.deepEqual(f.unsupported, [ctx("linux", null)]);
  });

  it("cask `sha256 arm:, intel:` pairs with one url per CPU and resolves #{arch}", () => {
    const f = parseFormula(`cask "thing" do
  arch arm: "arm64", intel: "x64"
  version "3.4.5,1234"
  sha256 arm:   "${hex("b")}",
         intel: "${hex("c")}"
  url "https://dl.e.x/#{version.csv.second}/Thing-#{version.csv.first}-#{arch}.dmg",
      verified: "dl.e.x/"
  app "Thing.app"
  zap trash: "~/Library/Thing"
end
`);
    assert.equal(f.kind, "cask");
    assert.deepEqual(rows(f), [
      `*/arm https://dl.e.x/1234/Thing-3.4.5-arm64.dmg ${hex("b")}`,
      `*/intel https://dl.e.x/1234/Thing-3.4.5-x64.dmg ${hex("c")}`,
    ]);
    assert.deepEqual(f.warnings, []);
  });

  it("modifiers: `sha256 … if Hardware::CPU.arm?` and `odie … unless OS.mac?`", () => {
    const f = parseFormula(`class Baz < Formula
  url "https://e.x/baz.tgz"
  sha256 "${hex("1")}" if Hardware::CPU.arm?
  sha256 "${hex("2")}" unless Hardware::CPU.arm?
  odie "macOS only" unless OS.mac?
end
`);
    assert.deepEqual(rows(f), [`*/arm https://e.x/baz.tgz ${hex("1")}`, `*/intel https://e.x/baz.tgz ${hex("2")}`]);
    assert.deepEqual(f.unsupported, [ctx("linux", null)]);
  });

  it("the first top-level version wins; nested versions only resolve their own block", () => {
    const f = parseFormula(`cask "dual" do
  on_arm do
    version "2.0"
    sha256 "${hex("1")}"
    url "https://e.x/#{version}/arm.zip"
  end
  on_intel do
    sha256 "${hex("2")}"
    url "https://e.x/#{version}/intel.zip"
  end
  version "1.0"
  version "1.1"
end
`);
    assert.equal(f.version, "1.0");
    assert.deepEqual(rows(f), [
      `*/arm https://e.x/2.0/arm.zip ${hex("1")}`,
      `*/intel https://e.x/1.0/intel.zip ${hex("2")}`,
    ]);
    assert.match(f.warnings.join("\n"), /another top-level version "1\.1"/);
  });

  it("__END__ stops reading (patch data after it is not formula code)", () => {
    const f = parseFormula(`class X < Formula
  url "https://e.x/a.tgz"
  sha256 "${hex("d")}"
  patch :DATA
end
__END__
url "https://e.x/after-end.tgz"
end
`);
    assert.deepEqual(rows(f), [`*/* https://e.x/a.tgz ${hex("d")}`]);
    assert.deepEqual(f.warnings, []);
  });

  it("contradictory and non-platform conditions are flagged, not guessed", () => {
    const f = parseFormula(`class Odd < Formula
  on_linux do
    if OS.mac?
      url "https://e.x/never.tgz"
      sha256 "${hex("1")}"
    end
  end
  if build.head? || Hardware::CPU.arm?
    url "https://e.x/maybe.tgz"
    sha256 "${hex("2")}"
  end
end
`);
    assert.deepEqual(rows(f), [`*/* https://e.x/maybe.tgz ${hex("2")}`]);
    const text = f.warnings.join("\n");
    assert.match(text, /line 3: condition contradicts the enclosing block/);
    assert.match(text, /line 9: url under a condition that is not a platform check/);
  });

  it("unknown constructs become warnings, never errors", () => {
    const f = parseFormula(`class X < Formula
  url "https://e.x/#{name}-1.tgz"
  sha256 "short"
  url "https://e.x/two.tgz"
  [1, 2].each do |n|
    url "https://e.x/in-each-#{n}.tgz"
  end
  url some_method
  sha256 :no_check
end
end
"unterminated
`);
    assert.equal(f.class_name, "X");
    assert.deepEqual(
      f.artifacts.map((a) => [a.url, a.sha256]),
      [
        ["https://e.x/#{name}-1.tgz", "short"],
        ["https://e.x/two.tgz", ":no_check"],
      ],
    );
    const text = f.warnings.join("\n");
    for (const expected of [
      /line 12: string is not terminated/,
      /line 3: sha256 "short" is not 64 hex characters/,
      /line 4: second url for any-os\/any-cpu in the same block/,
      /line 6: url inside unsupported block `each do` \(line 5\) ignored/,
      /line 8: url is not a string literal/,
      /line 9: sha256 :no_check/,
      /line 11: unexpected `end`/,
      /line 2: url interpolation not resolved: #\{name\}/,
    ]) {
      assert.match(text, expected);
    }
  });

  it("urls without sha256 (git urls) and sha256 without url are reported", () => {
    const f = parseFormula(`class G < Formula
  on_macos do
    url "https://github.com/o/g.git", tag: "v1.0", revision: "abc"
  end
  on_linux do
    sha256 "${hex("3")}"
  end
end
`);
    assert.deepEqual(rows(f), ["macos/* https://github.com/o/g.git null"]);
    assert.match(f.warnings.join("\n"), /line 3: url has no sha256/);
    assert.match(f.warnings.join("\n"), /line 6: sha256 has no url/);
  });

  it("a shared url pairs with the platform-specific sha256s below it", () => {
    const f = parseFormula(`class S < Formula
  url "https://e.x/s-1.0.tgz"
  on_linux do
    sha256 "${hex("3")}"
  end
  on_macos do
    sha256 "${hex("4")}"
  end
end
`);
    assert.deepEqual(rows(f), [
      `linux/* https://e.x/s-1.0.tgz ${hex("3")}`,
      `macos/* https://e.x/s-1.0.tgz ${hex("4")}`,
    ]);
    assert.deepEqual(f.warnings, []);
  });

  it("a file with neither a formula class nor a cask says so", () => {
    const f = parseFormula(`puts "hello"\n`);
    assert.equal(f.kind, "formula");
    assert.equal(f.class_name, null);
    assert.deepEqual(f.artifacts, []);
    assert.match(f.warnings.join("\n"), /no `class … < Formula` or `cask … do` found/);
  });
});

// ---------------------------------------------------------------- hostile input

/** xorshift32: deterministic, so a failure reproduces from the printed seed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const SNIPPETS = [
  'url "',
  'sha256 "',
  '"',
  "'",
  "#{",
  "}",
  "{",
  " do\n",
  "end\n",
  "\n",
  "if ",
  "else\n",
  "elsif ",
  "unless ",
  "on_macos do\n",
  "on_linux do\n",
  "on_arm do\n",
  "on_intel do\n",
  "Hardware::CPU.arm?",
  "OS.mac?",
  " && ",
  " || ",
  "!",
  "<<~EOS\n",
  "EOS\n",
  "<<-X ",
  "=begin\n",
  "=end\n",
  "__END__\n",
  "%w[",
  "%r{",
  "%(",
  "/",
  "(",
  ")",
  "[",
  "]",
  "|x|",
  'odie "x"\n',
  'version "1.0"\n',
  "class A < Formula\n",
  'cask "a" do\n',
  "#",
  "\\",
  ":",
  "::",
  ";",
  "def x\n",
  'resource "r" do\n',
  "bottle do\n",
  "#{version}",
  "?",
  "\r\n",
  "\t",
  "\u0000",
  "é",
  "😀",
  "\ud800",
  "arm: ",
  "intel: ",
  "sha256 arm: ",
  "then ",
  "when ",
  "case ",
  "begin\n",
  "rescue\n",
  hex("f"),
  "PLACEHOLDER",
];

function soup(rand: () => number): string {
  const n = Math.floor(rand() * 300);
  let out = "";
  for (let i = 0; i < n; i++) out += SNIPPETS[Math.floor(rand() * SNIPPETS.length)] ?? "";
  return out;
}

function mutate(rand: () => number, src: string): string {
  let s = src;
  const edits = 1 + Math.floor(rand() * 12);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (s.length + 1));
    const len = Math.floor(rand() * 40);
    switch (Math.floor(rand() * 6)) {
      case 0: // delete a range
        s = s.slice(0, at) + s.slice(at + len);
        break;
      case 1: // insert a snippet
        s = s.slice(0, at) + (SNIPPETS[Math.floor(rand() * SNIPPETS.length)] ?? "") + s.slice(at);
        break;
      case 2: // duplicate a range
        s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at);
        break;
      case 3: // random code unit
        s = s.slice(0, at) + String.fromCharCode(Math.floor(rand() * 0x10000)) + s.slice(at + 1);
        break;
      case 4: // truncate
        s = s.slice(0, at);
        break;
      default: {
        // swap two lines
        const lines = s.split("\n");
        const a = Math.floor(rand() * lines.length);
        const b = Math.floor(rand() * lines.length);
        [lines[a], lines[b]] = [lines[b] ?? "", lines[a] ?? ""];
        s = lines.join("\n");
      }
    }
  }
  return s;
}

function randomUnits(rand: () => number): string {
  const n = Math.floor(rand() * 2000);
  let out = "";
  for (let i = 0; i < n; i++) out += String.fromCharCode(Math.floor(rand() * (rand() < 0.8 ? 128 : 0x10000)));
  return out;
}

/**
 * CPU milliseconds spent in `fn` (user + system). Parallel test processes inflate wall time, not CPU time, so the
 * bounds below stay meaningful under `--test-concurrency` while still catching super-linear behaviour.
 */
function cpuMs<T>(fn: () => T): { value: T; ms: number } {
  const start = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}

const OSES = new Set([null, "macos", "linux"]);
const CPUS = new Set([null, "arm", "intel"]);

function assertWellFormed(f: ParsedFormula, label: string): void {
  assert.ok(f.kind === "formula" || f.kind === "cask", label);
  assert.ok(f.class_name === null || typeof f.class_name === "string", label);
  assert.ok(f.version === null || typeof f.version === "string", label);
  assert.ok(Array.isArray(f.artifacts) && Array.isArray(f.unsupported) && Array.isArray(f.warnings), label);
  for (const a of f.artifacts) {
    assert.equal(typeof a.url, "string", label);
    assert.equal(typeof a.resolved_url, "string", label);
    assert.ok(a.sha256 === null || typeof a.sha256 === "string", label);
    assert.ok(OSES.has(a.context.os) && CPUS.has(a.context.cpu), label);
    assert.ok(Number.isInteger(a.line) && a.line >= 1, label);
  }
  for (const u of f.unsupported) assert.ok(OSES.has(u.os) && CPUS.has(u.cpu), label);
  assert.ok(f.warnings.length <= 101, label);
  assert.ok(!f.warnings.some((w) => w.startsWith("internal parser error")), `${label}: ${f.warnings.join(" | ")}`);
}

describe("parseFormula: hostile input never throws and stays fast", () => {
  const realFormulae = [
    "sandover-tap_plasmite_0.8.0_handwritten.rb",
    "sandover-tap_plasmite_0.7.2_previous.rb",
    "sandover-plasmite-repo_homebrew-template_0.1.0_placeholder-sha.rb",
    "goreleaser-tap_goreleaser_2.17.1_goreleaser-cask.rb",
    "axodotdev-tap_oranda_0.6.5_cargo-dist-generated_non-github-urls.rb",
    "homebrew-core_ripgrep_15.2.0_bottle-livecheck-head.rb",
  ].map(fixture);

  it("6000 mutated formulae, token soups and random code units", () => {
    const seed = 20261122;
    const rand = prng(seed);
    let slowest = 0;
    let total = 0;
    for (let i = 0; i < 6000; i++) {
      const kind = i % 3;
      const input =
        kind === 0
          ? mutate(rand, realFormulae[i % realFormulae.length] ?? "")
          : kind === 1
            ? soup(rand)
            : randomUnits(rand);
      let run: { value: ParsedFormula; ms: number };
      try {
        run = cpuMs(() => parseFormula(input));
      } catch (err) {
        assert.fail(`seed ${seed} case ${i} threw: ${String(err)}\n${JSON.stringify(input.slice(0, 500))}`);
      }
      slowest = Math.max(slowest, run.ms);
      total += run.ms;
      assertWellFormed(run.value, `seed ${seed} case ${i}`);
    }
    // Inputs are at most a few tens of KiB: a few ms each when linear.
    assert.ok(slowest < 1_000, `slowest input took ${slowest.toFixed(1)} CPU ms`);
    assert.ok(total < 20_000, `6000 inputs took ${total.toFixed(0)} CPU ms`);
  });

  it("pathological shapes finish in bounded time", () => {
    const cases: [string, string][] = [
      ["200k nested do blocks", "on_macos do\n".repeat(200_000)],
      ["500k open parens", `url (${"(".repeat(500_000)}`],
      ["unclosed interpolation nesting", `url "${'#{"'.repeat(100_000)}`],
      [
        "100k url/sha256 pairs",
        `class A < Formula\n${`url "https://e.x/a"\nsha256 "${hex("a")}"\n`.repeat(100_000)}end\n`,
      ],
      ["100k if lines", "if OS.mac? && Hardware::CPU.arm?\n".repeat(100_000)],
      ["100k heredoc openers", "x <<~EOS\n".repeat(100_000)],
      ["one 1M-character line", `url "${"a".repeat(1_000_000)}"`],
      ["interpolation regex bait", `class A < Formula\nurl "#{${" ".repeat(1_000_000)}"\nsha256 "x"\nend\n`],
      ["nested %-literal brackets", `%w[${"[".repeat(300_000)}`],
      ["slashes", "/".repeat(300_000)],
      ["escaped slashes after an unterminated regex", `x = /${"\\/".repeat(400_000)}`],
      ["heredoc body line of spaces (regex backtracking bait)", `x = <<EOS\n${" ".repeat(500_000)}x\nEOS\n`],
      ["ends only", "end\n".repeat(200_000)],
      ["over the size cap", `class A < Formula\n${"#".repeat(MAX_FORMULA_CHARS)}\nend\n`],
    ];
    // Each input is up to the 1 MiB cap (~100k-300k lines/blocks): linear work takes well under a second of CPU,
    // while anything quadratic in that size would take minutes.
    for (const [label, input] of cases) {
      const { value, ms } = cpuMs(() => parseFormula(input));
      assertWellFormed(value, label);
      assert.ok(ms < 5_000, `${label}: ${ms.toFixed(0)} CPU ms`);
    }
  });

  it("caps stanzas and warnings", () => {
    const f = parseFormula(`class A < Formula\n${`url "https://e.x/a"\nsha256 "bad"\n`.repeat(10_000)}end\n`);
    assert.equal(f.artifacts.length, 2_500); // 5000 stanzas = 2500 pairs
    assert.equal(f.warnings.length, 101);
    assert.match(f.warnings[100] ?? "", /^\d+ more warnings not shown$/);
  });
});
