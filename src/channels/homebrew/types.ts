// ---------------------------------------------------------------- plan piece

export interface ExpectedFormulaArtifact {
  platform: string;
  url: string;
  /** The GitHub asset the URL should point at, when it is one of this release's assets. */
  asset_name: string | null;
}

export interface HomebrewPlan {
  tap_owner: string;
  tap_repo: string;
  path: string;
  ref: string;
  version: string;
  artifacts: ExpectedFormulaArtifact[];
}

// ---------------------------------------------------------------- observation

export interface FormulaContext {
  os: "macos" | "linux" | null;
  cpu: "arm" | "intel" | null;
}

export interface FormulaArtifact {
  url: string;
  /** The url with `#{version}` substituted. */
  resolved_url: string;
  /** Raw sha256 argument; may be a placeholder such as PLACEHOLDER_LINUX_ARM64_SHA256. */
  sha256: string | null;
  context: FormulaContext;
  line: number;
}

export interface ParsedFormula {
  kind: "formula" | "cask";
  class_name: string | null;
  version: string | null;
  artifacts: FormulaArtifact[];
  /** Platforms the formula refuses with `odie`. */
  unsupported: FormulaContext[];
  warnings: string[];
}

export interface HomebrewObservation {
  channel: "homebrew";
  tap: string;
  path: string;
  ref: string;
  found: boolean;
  formula: ParsedFormula | null;
}
