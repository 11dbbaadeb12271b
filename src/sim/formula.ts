/**
 * Homebrew formula text in the structure of the real tap formula `sandover/homebrew-tap` `Formula/plasmite.rb`
 * (fixture sandover-tap_plasmite_0.8.0_handwritten.rb): top-level `version`, `on_macos do if Hardware::CPU.arm? …
 * else … end end`, `on_linux do if Hardware::CPU.intel? … else odie … end end`.
 */

export interface FormulaArtifactInput {
  url: string;
  sha256: string;
}

export interface FormulaInput {
  name: string;
  desc: string;
  homepage: string;
  version: string;
  license: string;
  /** By platform id: darwin_arm64, darwin_amd64, linux_amd64, linux_arm64. Missing platforms get `odie`. */
  artifacts: Partial<Record<string, FormulaArtifactInput>>;
  install: string[];
  test: string[];
}

export function formulaClassName(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}

function display(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function branch(indent: string, art: FormulaArtifactInput | undefined, odie: string): string[] {
  if (!art) return [`${indent}odie "${odie}"`];
  return [`${indent}url "${art.url}"`, `${indent}sha256 "${art.sha256}"`];
}

function osBlock(
  block: string,
  test: string,
  first: FormulaArtifactInput | undefined,
  second: FormulaArtifactInput | undefined,
  firstOnly: string,
  secondOnly: string,
): string[] {
  if (!first && !second) return [];
  return [
    `  ${block} do`,
    `    if Hardware::CPU.${test}?`,
    ...branch("      ", first, secondOnly),
    "    else",
    ...branch("      ", second, firstOnly),
    "    end",
    "  end",
    "",
  ];
}

export function renderFormula(input: FormulaInput): string {
  const a = input.artifacts;
  const n = display(input.name);
  const lines = [
    `class ${formulaClassName(input.name)} < Formula`,
    `  desc "${input.desc}"`,
    `  homepage "${input.homepage}"`,
    `  version "${input.version}"`,
    `  license "${input.license}"`,
    "",
    ...osBlock(
      "on_macos",
      "arm",
      a["darwin_arm64"],
      a["darwin_amd64"],
      `${n} is supported on Apple Silicon macOS only`,
      `${n} is supported on Intel macOS only`,
    ),
    ...osBlock(
      "on_linux",
      "intel",
      a["linux_amd64"],
      a["linux_arm64"],
      `${n} is supported on x86_64 Linux only`,
      `${n} is supported on arm64 Linux only`,
    ),
    "  def install",
    ...input.install.map((l) => `    ${l}`),
    "  end",
    "",
    "  test do",
    ...input.test.map((l) => `    ${l}`),
    "  end",
    "end",
    "",
  ];
  return lines.join("\n");
}

/** The placeholder the plasmite repo's stale template carries (`PLACEHOLDER_LINUX_ARM64_SHA256`). */
export function placeholderSha(platform: string): string {
  return `PLACEHOLDER_${platform.toUpperCase()}_SHA256`;
}

export interface CargoDistFormulaInput {
  name: string;
  desc: string;
  homepage: string;
  version: string;
  license: string;
  /** By platform id (darwin_arm64, darwin_amd64, linux_arm64, linux_amd64); a missing one has no branch. */
  artifacts: Partial<Record<string, FormulaArtifactInput>>;
  /** Platform id -> Rust target triple (`darwin_arm64` -> `aarch64-apple-darwin`). */
  targets: Readonly<Record<string, string>>;
}

const CARGO_DIST_OS = [
  { test: "OS.mac?", os: "darwin" },
  { test: "OS.linux?", os: "linux" },
] as const;
const CARGO_DIST_CPU = [
  { test: "Hardware::CPU.arm?", arch: "arm64" },
  { test: "Hardware::CPU.intel?", arch: "amd64" },
] as const;

/**
 * Formula text as cargo-dist's homebrew installer writes it (fixture
 * axodotdev-tap_oranda_0.6.5_cargo-dist-generated_non-github-urls.rb): `if OS.mac?` / `if OS.linux?` blocks with
 * `if Hardware::CPU.arm?` / `if Hardware::CPU.intel?` inside, `license` after them, `BINARY_ALIASES` keyed by
 * target triple, and an install per `OS && CPU` pair.
 */
export function renderCargoDistFormula(input: CargoDistFormulaInput): string {
  const a = input.artifacts;
  const urls: string[] = [];
  const installs: string[] = [];
  for (const { test: osTest, os } of CARGO_DIST_OS) {
    const branches = CARGO_DIST_CPU.flatMap(({ test, arch }) => {
      const art = a[`${os}_${arch}`];
      if (!art) return [];
      installs.push(`    if ${osTest} && ${test}`, `      bin.install "${input.name}"`, "    end");
      return [`    if ${test}`, `      url "${art.url}"`, `      sha256 "${art.sha256}"`, "    end"];
    });
    if (branches.length) urls.push(`  if ${osTest}`, ...branches, "  end");
  }
  const triples = Object.keys(a)
    .map((platform) => input.targets[platform] ?? platform)
    .sort();
  const aliases = triples.map((t) => `"${t}": {}`).join(", ");
  return [
    `class ${formulaClassName(input.name)} < Formula`,
    `  desc "${input.desc}"`,
    `  homepage "${input.homepage}"`,
    `  version "${input.version}"`,
    ...urls,
    `  license "${input.license}"`,
    "",
    `  BINARY_ALIASES = {${aliases}}`,
    "",
    "  def target_triple",
    '    cpu = Hardware::CPU.arm? ? "aarch64" : "x86_64"',
    '    os = OS.mac? ? "apple-darwin" : "unknown-linux-gnu"',
    "",
    '    "#{cpu}-#{os}"',
    "  end",
    "",
    "  def install_binary_aliases!",
    "    BINARY_ALIASES[target_triple.to_sym].each do |source, dests|",
    "      dests.each do |dest|",
    "        bin.install_symlink bin/source.to_s => dest",
    "      end",
    "    end",
    "  end",
    "",
    "  def install",
    ...installs,
    "",
    "    install_binary_aliases!",
    "",
    "    # Homebrew will automatically install these, so we don't need to do that",
    '    doc_files = Dir["README.*", "readme.*", "LICENSE", "LICENSE.*", "CHANGELOG.*"]',
    '    leftover_contents = Dir["*"] - doc_files',
    "",
    "    # Install any leftover files in pkgshare; these are probably config or",
    "    # sample files.",
    "    pkgshare.install(*leftover_contents) unless leftover_contents.empty?",
    "  end",
    "end",
    "",
  ].join("\n");
}
