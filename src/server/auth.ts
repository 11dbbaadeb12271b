import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/**
 * Bearer-token check. Both sides are hashed to equal-length digests first, so timingSafeEqual compares without
 * leaking the token's length or content through timing.
 *
 * `Authorization: Bearer <token>` works everywhere. On GET/HEAD only, `Authorization: Basic` with the token as the
 * password (any user name) is accepted too, so a person can open the status page in a browser (which prompts for
 * Basic credentials). POST never accepts Basic: a browser re-sends cached Basic credentials on cross-site
 * requests, and the check endpoint must not be triggerable that way.
 */
export function tokenMatches(expected: string, given: string): boolean {
  const a = createHash("sha256").update(expected, "utf8").digest();
  const b = createHash("sha256").update(given, "utf8").digest();
  return timingSafeEqual(a, b);
}

export function presentedToken(req: IncomingMessage, allowBasic: boolean): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const bearer = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
  if (bearer) return bearer[1] ?? null;
  if (!allowBasic) return null;
  const basic = /^Basic[ ]+([A-Za-z0-9+/=]+)[ ]*$/i.exec(header);
  if (!basic) return null;
  const decoded = Buffer.from(basic[1] ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) : null;
}

export function authorized(token: string | null, req: IncomingMessage, allowBasic: boolean): boolean {
  if (token === null) return true;
  const given = presentedToken(req, allowBasic);
  return given !== null && tokenMatches(token, given);
}
