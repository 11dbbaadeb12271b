import { readFileSync } from "node:fs";

/** Hostile Homebrew formula shapes for the parser security test and `npm run bench`. */

const FIXTURES = new URL("../fixtures/homebrew/", import.meta.url);
export const plasmite = readFileSync(new URL("sandover-tap_plasmite_0.8.0_handwritten.rb", FIXTURES), "utf8");
export const hex = (c: string): string => c.repeat(64);

/** Hostile shapes, each a function of a repeat count `k`. */
export const HOSTILE: Record<string, (k: number) => string> = {
  // Each `\/` after an unterminated `/` used to rescan the rest of the line.
  "escaped slashes in an unterminated regex": (k) => `x = /${"\\/".repeat(k)}\n`,
  "escaped slashes inside an unterminated regex class": (k) => `x = /[${"\\/".repeat(k)}\n`,
  "regex openers after a division": (k) => `a = b ${"/ x ".repeat(k)}\n`,
  "empty quoted heredoc ids on one line": (k) => `x ${'<<"" '.repeat(k)}\n`,
  "quoted heredoc opener per line": (k) => 'x <<"\n'.repeat(k),
  "heredoc body line of spaces": (k) => `x = <<EOS\n${" ".repeat(k * 4)}x\nEOS\n`,
  "nested parentheses in a condition": (k) =>
    `class A < Formula\nif ${"(".repeat(k)}OS.mac?${")".repeat(k)}\nurl "u"\nsha256 "${hex("a")}"\nend\nend\n`,
  "nested conjunctions in a condition": (k) => `if ${"(OS.mac? && ".repeat(k)}x${")".repeat(k)}\nend\n`,
  "stray when after unpaired urls": (k) => `${'url "https://e.x/a"\n'.repeat(Math.ceil(k / 8))}${"when\n".repeat(k)}`,
  "stray else after unpaired shas": (k) => `${`sha256 "${hex("b")}"\n`.repeat(Math.ceil(k / 32))}${"else\n".repeat(k)}`,
  "version interpolations": (k) =>
    `class A < Formula\nversion "${"1.".repeat(k)}1"\nurl "${"#{version.major}".repeat(k)}"\nsha256 "${hex("c")}"\nend\n`,
  "deep do blocks": (k) => "on_macos do\n".repeat(k),
  "unclosed interpolation nesting": (k) => `url "${'#{"'.repeat(k)}`,
  "open parens": (k) => `url (${"(".repeat(k)}`,
  "comment lines": (k) => "# x\n".repeat(k),
  "generated backtracking bait": (k) => bait(k),
  "real formula repeated": (k) => plasmite.repeat(Math.max(1, Math.floor(k / 200))),
};

/** The repeat count whose input is about `chars` long. */
export function sized(shape: (k: number) => string, chars: number): number {
  const per = Math.max(1, shape(1000).length / 1000);
  return Math.max(1, Math.floor(chars / per));
}

/** Pieces that made scanners rescan or backtrack, mixed by a seeded xorshift32 (the same prefix for any k). */
const BAIT = ["\\/", "/", "[", "]", '<<"" ', "<<~EOS\n", "(", ")", " && ", "#{version}", '"', " ", "  ", "\n", "if "];

function bait(k: number): string {
  let x = 20261201;
  let out = "";
  for (let i = 0; i < k; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += BAIT[x % BAIT.length] ?? "";
  }
  return out;
}
