import { publicUrl } from "../http/public-url.ts";

/**
 * Server-side HTML with escaping by default: every value interpolated into a `markup` template is escaped unless it
 * is itself the result of `markup` (or `trusted`). (Not named `html`: Prettier would reformat such templates as
 * HTML and change the output.) Upstream strings (finding messages, URLs, versions, names) can
 * therefore never become markup.
 */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A fragment written by this program (no upstream text inside). */
export function trusted(text: string): SafeHtml {
  return new SafeHtml(text);
}

function fragment(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(fragment).join("");
  if (typeof value === "string") return escapeHtml(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return escapeHtml(JSON.stringify(value) ?? "");
}

export function markup(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += fragment(values[i]) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

/**
 * A link target for an upstream URL: only http(s), credentials, query and fragment removed (signed download URLs
 * and tokens in queries never reach the page). null when the URL is not a plain web URL (javascript:, data:, …).
 */
export function safeHref(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  return publicUrl(parsed.toString());
}

/** `<a>` for an upstream URL, or the escaped text when it is not a web URL. */
export function externalLink(url: string, label?: string): SafeHtml {
  const href = safeHref(url);
  const text = label ?? href ?? url;
  return href ? markup`<a href="${href}" rel="noopener noreferrer nofollow">${text}</a>` : markup`<span>${text}</span>`;
}
