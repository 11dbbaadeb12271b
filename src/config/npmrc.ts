import { existsSync, realpathSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { createRequire } from "node:module";
import Config from "@npmcli/config";
import npmDefinitions from "@npmcli/config/lib/definitions/index.js";
import nerfDart from "@npmcli/config/lib/nerf-dart.js";
import { AppError, errorMessage } from "../errors.ts";

/**
 * npm's configuration as the npm CLI itself reads it, through npm's own loader (@npmcli/config): builtin, global
 * (`$PREFIX/etc/npmrc`, NPM_CONFIG_GLOBALCONFIG), user (`~/.npmrc`, NPM_CONFIG_USERCONFIG), the project `.npmrc`
 * found from the working directory, and `npm_config_*` variables, with `${VAR}` expansion. Only the parts a
 * registry read needs are exposed: which registry serves a package, its credentials, TLS and proxies.
 */
export interface NpmrcView {
  /** The registry for a package: `@scope:registry` for a scoped name, else `registry`. Ends with "/". */
  registryFor(pkg: string): string;
  /** Whether `@scope:registry` is set for the package's scope. */
  hasScopedRegistry(pkg: string): boolean;
  /** The Authorization header npm would send to `url`, or null (credentials keyed `//host/path/:_authToken`...). */
  authorizationFor(url: string): string | null;
  /** PEM certificates from `ca` / `cafile` (null: the system store), and `strict-ssl`. */
  tls: { ca: string[] | null; strictSSL: boolean };
  /** The proxy npm would use for `url` (`https-proxy` / `proxy`, then the *_PROXY variables), honouring `noproxy`. */
  proxyFor(url: string): string | null;
}

const { definitions, flatten, nerfDarts, shorthands } = npmDefinitions;

/** npm's own default registry, as the npm config library defines it (never hard-coded here). */
export function npmDefaultRegistry(): string {
  const registry = (npmDefinitions.definitions as Record<string, { default?: unknown } | undefined>)["registry"];
  return typeof registry?.default === "string" ? registry.default : "";
}

export interface NpmrcOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Loads npm's configuration; a broken .npmrc (a cafile that cannot be read, ...) is a config error naming it. */
export async function loadNpmrc(options: NpmrcOptions): Promise<NpmrcView> {
  const conf = new Config({
    definitions,
    shorthands,
    flatten,
    nerfDarts,
    npmPath: npmInstallDir(options.env),
    argv: [process.execPath, "monitor"],
    env: options.env,
    cwd: options.cwd,
    execPath: process.execPath,
    platform: process.platform,
    warn: false,
  });
  try {
    await conf.load();
  } catch (err) {
    throw new AppError("E_CONFIG_INVALID", `cannot load npm's configuration (.npmrc): ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return view(conf, options.env);
}

function view(conf: Config, env: NodeJS.ProcessEnv): NpmrcView {
  const flat = conf.flat;
  const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
  const scopeKey = (pkg: string) => (pkg.startsWith("@") && pkg.includes("/") ? `${pkg.split("/")[0]}:registry` : null);
  const caRaw = flat["ca"];
  const ca = Array.isArray(caRaw) ? caRaw.map(String) : typeof caRaw === "string" && caRaw ? [caRaw] : null;
  return {
    registryFor(pkg) {
      const key = scopeKey(pkg);
      return withSlash(str(key ? flat[key] : null) ?? str(flat["registry"]) ?? "");
    },
    hasScopedRegistry(pkg) {
      const key = scopeKey(pkg);
      return key !== null && str(flat[key]) !== null;
    },
    authorizationFor(url) {
      return authorization(conf, url);
    },
    tls: { ca, strictSSL: flat["strictSSL"] !== false },
    proxyFor(url) {
      const u = new URL(url);
      const https = u.protocol === "https:";
      const configured = https ? (str(flat["httpsProxy"]) ?? str(flat["proxy"])) : str(flat["proxy"]);
      const fromEnv = https
        ? (env["https_proxy"] ?? env["HTTPS_PROXY"])
        : (env["https_proxy"] ?? env["HTTPS_PROXY"] ?? env["http_proxy"] ?? env["HTTP_PROXY"] ?? env["proxy"]);
      const proxy = configured ?? str(fromEnv);
      const noProxy = str(flat["noProxy"]) ?? str(env["no_proxy"] ?? env["NO_PROXY"]);
      if (!proxy || bypassesProxy(u.hostname, noProxy)) return null;
      return proxy;
    },
  };
}

/**
 * npm-registry-fetch's lookup: walk the URL's path upward (`//host/a/b/`, `//host/a/`, `//host/`) until a level
 * has credentials. A URL on a host without credentials gets none.
 */
function authorization(conf: Config, url: string): string | null {
  let key = nerfDart(url);
  const root = `//${new URL(url).host}/`;
  for (;;) {
    const creds = conf.getCredentialsByURI(`https:${key}`);
    if (creds.token) return `Bearer ${creds.token}`;
    if (creds.auth) return `Basic ${creds.auth}`;
    if (key === root || key.length <= root.length) return null;
    key = key.replace(/[^/]+\/$/, "");
  }
}

/** `noproxy` entries are host suffixes (`.example.com`, `example.com`) or `*`. */
function bypassesProxy(hostname: string, noProxy: string | null): boolean {
  if (!noProxy) return false;
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return noProxy
    .split(/[,\s]+/)
    .map((e) =>
      e
        .trim()
        .toLowerCase()
        .replace(/^\*?\./, ""),
    )
    .filter((e) => e !== "")
    .some((e) => e === "*" || host === e || host.endsWith(`.${e}`));
}

function withSlash(url: string): string {
  return url === "" || url.endsWith("/") ? url : `${url}/`;
}

/**
 * Where the npm CLI on PATH is installed: its `npmrc` is npm's builtin config level (distributions use it to
 * set `globalconfig`). Without an npm on PATH there is no builtin level, as with npm itself absent.
 */
function npmInstallDir(env: NodeJS.ProcessEnv): string {
  for (const dir of (env["PATH"] ?? "").split(delimiter)) {
    const bin = join(dir, process.platform === "win32" ? "npm.cmd" : "npm");
    if (!dir || !existsSync(bin)) continue;
    try {
      const cli = realpathSync(bin);
      if (cli.endsWith(join("bin", "npm-cli.js"))) return dirname(dirname(cli));
    } catch {
      // an unreadable entry: keep looking
    }
  }
  return dirname(createRequire(import.meta.url).resolve("@npmcli/config/package.json"));
}
