/**
 * Secret scrubbing. Every secret value the process learns (tokens, webhook URLs, credentials inside URLs, values
 * interpolated from env vars with secret-like names) is registered here; `redact()` replaces them (and their
 * URL-encoded forms) with `[REDACTED]` in any text that leaves the process: logs, reports, errors, alert bodies.
 * `redactUrl()` is the one function every URL passes through before it is reported, stored or sent anywhere:
 * it drops the userinfo (`user:password@`) and redacts registered secrets.
 */
export class SecretRegistry {
  readonly #values = new Set<string>();

  add(value: string | undefined | null): void {
    if (!value || value.length < 6) return;
    this.#values.add(value);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) this.#values.add(encoded);
  }

  /**
   * Registers the credentials inside a URL (`https://user:password@host/`): the password, the user name when there
   * is a password, `user:password` (raw, decoded and in its Basic-auth base64 form). No-op for other strings.
   */
  addUrlCredentials(value: string): void {
    const info = USERINFO_IN_URL.exec(value)?.[2];
    if (info === undefined) return;
    const [user = "", ...rest] = info.split(":");
    const password = rest.join(":");
    for (const v of [info, safeDecode(info), password, safeDecode(password)]) this.add(v);
    if (password) this.add(user);
    const plain = `${safeDecode(user)}:${safeDecode(password)}`;
    this.add(Buffer.from(plain).toString("base64"));
  }

  get size(): number {
    return this.#values.size;
  }

  redact(text: string): string {
    let out = stripUserinfo(text);
    for (const v of this.#values) {
      if (out.includes(v)) out = out.split(v).join("[REDACTED]");
    }
    return out.replace(/(authorization["']?\s*[:=]\s*["']?)(bearer|token|basic)\s+[^\s"',}]+/gi, "$1$2 [REDACTED]");
  }

  /** A URL fit to leave the process: no userinfo, no registered secret (in its path or query either). */
  redactUrl(url: string): string {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return this.redact(url);
    }
    u.username = "";
    u.password = "";
    return this.redact(u.toString());
  }
}

/** `scheme://userinfo@`: group 1 is the scheme and `//`, group 2 the userinfo. */
const USERINFO_IN_URL = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]*)@/i;

const USERINFO_IN_URLS = new RegExp(USERINFO_IN_URL.source, "gi");

/** Drops the userinfo of every URL in a free text (every URL the HTTP client reports passes here). */
export function stripUserinfo(text: string): string {
  // replace() with a global expression starts from 0 whatever lastIndex holds; no "@", no userinfo.
  return text.includes("@") ? text.replace(USERINFO_IN_URLS, "$1") : text;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Env var names whose values are treated as secrets when interpolated into config. */
export const SECRET_NAME = /token|secret|password|passwd|webhook|api[_-]?key|credential|auth/i;
