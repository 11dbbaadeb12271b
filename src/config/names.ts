import { z } from "zod";
import validateNpmName from "validate-npm-package-name";
import { quote } from "../quote.ts";

/**
 * Package names as each registry defines them. A name goes into request paths (`<registry>/<name>`), so one that
 * the registry could never hold (`../../-/whoami`) is a config error naming its field, never a "missing" finding.
 */

/** crates.io: ASCII letters, digits, `-` and `_`, starting with a letter, at most 64 characters. */
const CRATE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** PEP 508 / PEP 426 project names (case-insensitive). */
const PYPI_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;
/** One path segment of a formula path template: no `.`/`..`, no separators or control characters. */
const PATH_SEGMENT = /^[A-Za-z0-9_.+@{}-]+$/;

export const CrateName = z.string().superRefine((v, ctx) => {
  if (!CRATE_NAME.test(v)) {
    ctx.addIssue({
      code: "custom",
      message: `${quote(v)} is not a crates.io name (ASCII letters, digits, - and _, starting with a letter, at most 64 characters)`,
    });
  }
});

export const NpmPackageName = z.string().superRefine((v, ctx) => {
  const result = validateNpmName(v);
  if (result.validForOldPackages) return;
  ctx.addIssue({
    code: "custom",
    message: `${quote(v)} is not a valid npm package name (${(result.errors ?? []).join("; ")})`,
  });
});

export const PypiProjectName = z.string().superRefine((v, ctx) => {
  if (!PYPI_NAME.test(v)) {
    ctx.addIssue({
      code: "custom",
      message: `${quote(v)} is not a PyPI project name (PEP 508: letters, digits, . _ -, starting and ending with a letter or digit)`,
    });
  }
});

/** A formula path template inside the tap: relative, `/`-separated plain segments, ending in `.rb`. */
export const FormulaPath = z.string().superRefine((v, ctx) => {
  const segments = v.split("/");
  const ok = v.endsWith(".rb") && segments.every((s) => PATH_SEGMENT.test(s) && s !== "." && s !== "..");
  if (!ok) {
    ctx.addIssue({
      code: "custom",
      message: `${quote(v)} is not a formula path in the tap (relative, like Formula/{name}.rb: no "..", no leading "/", ending in .rb)`,
    });
  }
});
