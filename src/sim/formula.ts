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
