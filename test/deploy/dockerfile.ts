/**
 * A small Dockerfile parser and linter (hadolint is not installable here: it ships as a prebuilt binary, from no
 * registry this project may use). The parser follows the Dockerfile reference closely enough for this repository's
 * Dockerfile: parser directives, comments, `\` continuations, `--flag=value` options, exec (JSON) vs shell form and
 * stages. The rules are the hadolint/Docker best practices that matter for this image; their ids name the hadolint
 * rule they mirror where there is one.
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** `--name=value` options before the arguments (COPY --chown, RUN --mount, HEALTHCHECK --interval, ...). */
  flags: Record<string, string>;
  /** The arguments after the options, continuations joined. */
  args: string;
  /** The JSON array when the arguments are in exec form, else null. */
  exec: string[] | null;
  line: number;
}

export interface Stage {
  index: number;
  name: string | null;
  image: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  directives: Record<string, string>;
  stages: Stage[];
}

const DIRECTIVE = /^#\s*([a-z]+)\s*=\s*(\S+)\s*$/i;

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const directives: Record<string, string> = {};
  let i = 0;
  // Parser directives: only at the very top, before any comment, blank line or instruction.
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i] ?? "");
    if (!m) break;
    directives[m[1]!.toLowerCase()] = m[2]!;
  }
  const stages: Stage[] = [];
  const preamble: Instruction[] = [];
  while (i < lines.length) {
    const startLine = i + 1;
    let raw = lines[i++] ?? "";
    if (/^\s*(#|$)/.test(raw)) continue;
    while (/\\\s*$/.test(raw) && i < lines.length) {
      raw = raw.replace(/\s*\\\s*$/, "");
      const next = lines[i++] ?? "";
      // Comment lines inside a continuation are dropped, as Docker does.
      if (/^\s*#/.test(next)) {
        raw += " \\";
        continue;
      }
      raw += ` ${next.trim()}`;
    }
    raw = raw.replace(/\\\s*$/, "").trim();
    const m = /^(\S+)\s*(.*)$/s.exec(raw);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    let rest = m[2]!;
    const flags: Record<string, string> = {};
    for (;;) {
      const f = /^--([a-z-]+)(?:=(\S*))?\s*/i.exec(rest);
      if (!f) break;
      // RUN may repeat --mount; keep them all.
      const name = f[1]!.toLowerCase();
      flags[name] = flags[name] === undefined ? (f[2] ?? "") : `${flags[name]} ${f[2] ?? ""}`;
      rest = rest.slice(f[0].length);
    }
    const ins: Instruction = { keyword, flags, args: rest.trim(), exec: parseExec(rest), line: startLine };
    if (keyword === "FROM") {
      const fm = /^(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(ins.args);
      stages.push({ index: stages.length, name: fm?.[2] ?? null, image: fm?.[1] ?? ins.args, instructions: [ins] });
    } else if (stages.length) {
      stages.at(-1)!.instructions.push(ins);
    } else {
      preamble.push(ins);
    }
  }
  if (preamble.some((p) => p.keyword !== "ARG")) throw new Error("Dockerfile: only ARG may come before the first FROM");
  return { directives, stages };
}

/** HEALTHCHECK's command: the arguments after `CMD`, in exec form when they are a JSON array. */
export function healthcheckCommand(ins: Instruction): { exec: string[] | null; shell: string | null } {
  const m = /^CMD\s+(.*)$/is.exec(ins.args);
  if (!m) return { exec: null, shell: null };
  const exec = parseExec(m[1]!);
  return exec ? { exec, shell: null } : { exec: null, shell: m[1]! };
}

function parseExec(text: string): string[] | null {
  const t = text.trim();
  if (!t.startsWith("[")) return null;
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? v : null;
  } catch {
    return null;
  }
}

/** COPY/ADD arguments: sources and destination (shell form or JSON form). */
export function copyPaths(ins: Instruction): { sources: string[]; dest: string } {
  const parts = ins.exec ?? ins.args.split(/\s+/).filter(Boolean);
  if (parts.length < 2) throw new Error(`line ${ins.line}: ${ins.keyword} needs a source and a destination`);
  return { sources: parts.slice(0, -1), dest: parts.at(-1)! };
}

export interface LintOptions {
  /** The server's default port (settings.server.listen). */
  port: number;
  /** The state directory the image declares as a VOLUME. */
  stateDir: string;
  /** Required ENV entries. */
  env: Record<string, string>;
}

export interface Finding {
  rule: string;
  line: number;
  message: string;
}

/** Rule ids and what they check; DLxxxx ids are hadolint's, RMxxx are ours. */
export const RULES = {
  DL3006: "every base image has an explicit tag",
  DL3007: "no `latest`, anywhere",
  RM001: "base image tags pin an exact version (x.y.z) or a digest",
  RM002: "multi-stage: a build stage compiles, the final stage installs production dependencies only",
  DL3002: "the final stage runs as a non-root, numeric USER",
  RM003: "one exec-form HEALTHCHECK probing /healthz without curl or wget",
  DL3009: "apt-get: `apt-get update` and `rm -rf /var/lib/apt/lists/*` in the same RUN as the install",
  DL3015: "apt-get install uses --no-install-recommends and -y",
  DL3005: "no apt-get upgrade / dist-upgrade",
  DL3027: "apt-get, not apt",
  RM004: "every COPY in the final stage sets --chown; no `chown -R` layers",
  DL3020: "COPY, not ADD",
  DL3025: "ENTRYPOINT and CMD in exec (JSON) form, one each",
  RM005: "an init (tini) installed in the image is the ENTRYPOINT, with `--` before the command",
  RM006: "EXPOSE the server's default port",
  RM007: "VOLUME (JSON form) for the state directory",
  DL3000: "WORKDIR is absolute",
  DL3003: "no `cd` in RUN (use WORKDIR)",
  DL4006: "RUN with a pipe sets SHELL -o pipefail",
  DL3016: "npm ci from the lockfile, never npm install",
  RM008: "required ENV set (MONITOR_CONFIG ...)",
  RM009: "no secrets in ENV or ARG",
  DL4000: "no MAINTAINER",
} as const;
export type RuleId = keyof typeof RULES;

export function lintDockerfile(df: Dockerfile, options: LintOptions): Finding[] {
  const out: Finding[] = [];
  const add = (rule: RuleId, line: number, message: string) => out.push({ rule, line, message });
  const stageNames = new Set(df.stages.map((s) => s.name).filter((n): n is string => n !== null));
  const final = df.stages.at(-1);
  if (!final) return [{ rule: "RM002", line: 1, message: "no FROM" }];
  const all = df.stages.flatMap((s) => s.instructions);

  for (const s of df.stages) {
    const from = s.instructions[0]!;
    if (stageNames.has(s.image)) continue;
    const image = s.image.replace(/^[^/]+\.[^/]+\//, ""); // registry host
    const digest = image.includes("@sha256:");
    const tag = image.includes(":") ? image.slice(image.lastIndexOf(":") + 1) : null;
    if (!digest && tag === null) add("DL3006", from.line, `FROM ${s.image}: no tag`);
    else if (!digest && !/^v?\d+\.\d+\.\d+(?:[-.][A-Za-z0-9.-]+)?$/.test(tag ?? "")) {
      add("RM001", from.line, `FROM ${s.image}: tag "${tag}" is not an exact x.y.z version`);
    }
  }
  for (const ins of all) {
    if (/(^|[\s:=])latest(\s|$|")/.test(`${ins.args} ${Object.values(ins.flags).join(" ")}`)) {
      add("DL3007", ins.line, `${ins.keyword} mentions latest`);
    }
    if (ins.keyword === "MAINTAINER") add("DL4000", ins.line, "MAINTAINER is deprecated (use a LABEL)");
    if (ins.keyword === "ADD") add("DL3020", ins.line, "use COPY for files");
    if (ins.keyword === "WORKDIR" && !ins.args.startsWith("/"))
      add("DL3000", ins.line, `WORKDIR ${ins.args} is relative`);
    if (
      (ins.keyword === "ENV" || ins.keyword === "ARG") &&
      /\b\w*(TOKEN|SECRET|PASSWORD|WEBHOOK)\w*\s*=\s*\S/i.test(ins.args)
    ) {
      add("RM009", ins.line, `${ins.keyword} bakes a secret into the image`);
    }
  }

  // Multi-stage: compile in a build stage, production install in the final one.
  const runs = (s: Stage) => s.instructions.filter((x) => x.keyword === "RUN");
  const earlier = df.stages.slice(0, -1);
  if (earlier.length === 0) add("RM002", final.instructions[0]!.line, "single stage: build in a separate stage");
  if (!earlier.some((s) => runs(s).some((r) => /\bnpm run build\b/.test(r.args)))) {
    add("RM002", final.instructions[0]!.line, "no build stage runs `npm run build`");
  }
  for (const r of runs(final)) {
    if (/\bnpm run build\b|\btsc\b/.test(r.args)) add("RM002", r.line, "the final stage compiles TypeScript");
  }
  const prodInstall = runs(final).find((r) => /\bnpm ci\b/.test(r.args));
  if (!prodInstall) add("RM002", final.instructions[0]!.line, "the final stage does not `npm ci --omit=dev`");
  else {
    if (!/--omit=dev\b/.test(prodInstall.args)) add("RM002", prodInstall.line, "npm ci without --omit=dev");
    if (!/--ignore-scripts\b/.test(prodInstall.args)) {
      add("RM002", prodInstall.line, "npm ci --omit=dev runs `prepare` (the TypeScript build): add --ignore-scripts");
    }
  }
  if (
    !final.instructions.some((x) => x.keyword === "COPY" && x.flags["from"] !== undefined && /\bdist\b/.test(x.args))
  ) {
    add("RM002", final.instructions[0]!.line, "the final stage does not copy dist/ from the build stage");
  }

  // Non-root user.
  const users = final.instructions.filter((x) => x.keyword === "USER");
  const user = users.at(-1);
  if (!user) add("DL3002", final.instructions[0]!.line, "no USER in the final stage (runs as root)");
  else {
    const uid = user.args.split(":")[0] ?? "";
    if (uid === "root" || uid === "0") add("DL3002", user.line, "last USER is root");
    else if (!/^\d+$/.test(uid))
      add("DL3002", user.line, `USER ${user.args}: use a numeric uid (Kubernetes runAsNonRoot)`);
  }

  // HEALTHCHECK.
  const hcs = final.instructions.filter((x) => x.keyword === "HEALTHCHECK");
  if (hcs.length !== 1) add("RM003", final.instructions[0]!.line, `expected one HEALTHCHECK, found ${hcs.length}`);
  for (const hc of hcs) {
    const cmd = healthcheckCommand(hc);
    if (!cmd.exec) add("RM003", hc.line, "HEALTHCHECK CMD is not in exec form");
    const text = (cmd.exec ?? [cmd.shell ?? hc.args]).join(" ");
    if (!text.includes("/healthz")) add("RM003", hc.line, "HEALTHCHECK does not probe /healthz");
    if (/\b(curl|wget)\b/.test(text)) add("RM003", hc.line, "HEALTHCHECK uses curl/wget (not in slim images)");
  }

  // apt.
  for (const s of df.stages) {
    for (const r of runs(s)) {
      const cmds = r.args.split(/&&|;|\|\|/).map((c) => c.trim());
      if (cmds.some((c) => /^apt\s/.test(c))) add("DL3027", r.line, "use apt-get");
      if (cmds.some((c) => /apt-get\s+(-\S+\s+)*(dist-)?upgrade\b/.test(c))) add("DL3005", r.line, "apt-get upgrade");
      const inst = cmds.findIndex((c) => /apt-get\s+(-\S+\s+)*install\b/.test(c));
      if (inst < 0) continue;
      const c = cmds[inst]!;
      if (!/\s(-y|--yes|-qq?y|--assume-yes)\b/.test(c)) add("DL3015", r.line, "apt-get install without -y");
      if (!/--no-install-recommends\b/.test(c))
        add("DL3015", r.line, "apt-get install without --no-install-recommends");
      if (!cmds.slice(0, inst).some((x) => /apt-get\s+(-\S+\s+)*update\b/.test(x))) {
        add("DL3009", r.line, "apt-get install without apt-get update in the same RUN");
      }
      if (!cmds.slice(inst + 1).some((x) => /rm -rf \/var\/lib\/apt\/lists\/?\*?/.test(x))) {
        add("DL3009", r.line, "apt lists not removed in the same RUN");
      }
    }
  }

  // Ownership.
  for (const x of final.instructions) {
    if (x.keyword === "COPY" && x.flags["chown"] === undefined) add("RM004", x.line, "COPY without --chown");
  }
  for (const r of df.stages.flatMap(runs)) {
    if (/\bchown\s+(-\S*R|--recursive)/.test(r.args))
      add("RM004", r.line, "recursive chown duplicates the layer: COPY --chown");
    if (/(^|&&|;)\s*cd\s/.test(r.args)) add("DL3003", r.line, "cd in RUN: use WORKDIR");
    if (/[^|]\|[^|]/.test(r.args.replace(/"[^"]*"|'[^']*'/g, ""))) {
      const shell = df.stages
        .flatMap((s) => s.instructions)
        .find((x) => x.keyword === "SHELL" && x.line < r.line && (x.exec ?? []).includes("pipefail"));
      if (!shell) add("DL4006", r.line, 'pipe in RUN without SHELL [..., "-o", "pipefail", ...]');
    }
    if (/\bnpm\s+(install|i)\b/.test(r.args)) add("DL3016", r.line, "npm install: use npm ci (lockfile)");
  }

  // ENTRYPOINT / CMD / init.
  for (const kw of ["ENTRYPOINT", "CMD"]) {
    const list = final.instructions.filter((x) => x.keyword === kw);
    if (list.length !== 1)
      add("DL3025", final.instructions[0]!.line, `expected one ${kw} in the final stage, found ${list.length}`);
    for (const x of list) if (!x.exec) add("DL3025", x.line, `${kw} is in shell form`);
  }
  const entry = final.instructions.find((x) => x.keyword === "ENTRYPOINT");
  const init = entry?.exec?.[0]?.split("/").at(-1);
  if (!entry || !init || !["tini", "dumb-init"].includes(init)) {
    add("RM005", entry?.line ?? final.instructions[0]!.line, "ENTRYPOINT does not start with an init (tini)");
  } else {
    if (!entry.exec!.includes("--")) add("RM005", entry.line, `${init} without -- before the command`);
    if (!runs(final).some((r) => new RegExp(`(apt-get|apk)\\s.*\\b${init}\\b`).test(r.args))) {
      add("RM005", entry.line, `${init} is not installed in the final stage`);
    }
  }

  // EXPOSE / VOLUME / ENV.
  const exposed = final.instructions
    .filter((x) => x.keyword === "EXPOSE")
    .flatMap((x) => x.args.split(/\s+/))
    .map((p) => Number(p.split("/")[0]));
  if (!exposed.includes(options.port)) add("RM006", final.instructions[0]!.line, `EXPOSE ${options.port} missing`);
  const volumes = final.instructions.filter((x) => x.keyword === "VOLUME");
  if (!volumes.some((v) => v.exec?.includes(options.stateDir))) {
    add("RM007", volumes[0]?.line ?? final.instructions[0]!.line, `no VOLUME ["${options.stateDir}"] in JSON form`);
  }
  const env = new Map<string, string>();
  for (const x of final.instructions.filter((y) => y.keyword === "ENV")) {
    for (const m of x.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g))
      env.set(m[1]!, m[2]!.replace(/^"|"$/g, ""));
  }
  for (const [k, v] of Object.entries(options.env)) {
    if (env.get(k) !== v)
      add("RM008", final.instructions[0]!.line, `ENV ${k}=${v} missing (have ${env.get(k) ?? "none"})`);
  }
  return out;
}

/** Is `relPath` (posix, relative to the context) excluded by these .dockerignore lines? Last match wins. */
export function dockerignoreExcludes(dockerignore: string, relPath: string): boolean {
  const rules = dockerignore
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, "");
      return { negate, re: globRegExp(pattern) };
    });
  const parts = relPath.split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let excluded = false;
  for (const r of rules) {
    if (candidates.some((c) => r.re.test(c))) excluded = !r.negate;
  }
  return excluded;
}

/** Docker's pattern syntax (Go filepath.Match plus `**`); unlike shell globs, `*` matches dot files too. */
function globRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      const slash = pattern[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
