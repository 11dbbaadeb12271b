/**
 * Secret scrubbing. Every secret value the process learns (tokens, webhook URLs, values interpolated from
 * env vars with secret-like names) is registered here; `redact()` replaces them (and their URL-encoded forms)
 * with `[REDACTED]` in any text that leaves the process: logs, reports, errors, alert bodies.
 */
export class SecretRegistry {
  readonly #values = new Set<string>();

  add(value: string | undefined | null): void {
    if (!value || value.length < 6) return;
    this.#values.add(value);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) this.#values.add(encoded);
  }

  get size(): number {
    return this.#values.size;
  }

  redact(text: string): string {
    let out = text;
    for (const v of this.#values) {
      if (out.includes(v)) out = out.split(v).join("[REDACTED]");
    }
    return out.replace(/(authorization["']?\s*[:=]\s*["']?)(bearer|token|basic)\s+[^\s"',}]+/gi, "$1$2 [REDACTED]");
  }
}

/** Env var names whose values are treated as secrets when interpolated into config. */
export const SECRET_NAME = /token|secret|password|passwd|webhook|api[_-]?key|credential|auth/i;
