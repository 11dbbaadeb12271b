import type { ActiveFault } from "./faults.ts";
import { json, text, type Reply, type SimRequest } from "./server.ts";
import type { ServiceName } from "./services.ts";
import type { World } from "./world.ts";

const STATUS_TEXT: Record<number, string> = {
  401: "Unauthorized",
  403: "Forbidden",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** Real capture: GitHub 503 with an HTML body under a JSON content type (pygithub Exceptions.testNonJsonDataReturnedByGithub). */
export const GITHUB_HTML_AS_JSON_BODY =
  "<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>";

/** Real 403 body for crates.io crawler-policy blocks (registry-contracts.md §2.1). */
export const CRATES_BLOCKED_DETAIL =
  "We are unable to process your request at this time. This usually means that you are in violation of our crawler policy (https://crates.io/policies#crawlers). Please open an issue at https://github.com/rust-lang/crates.io or email help@crates.io and provide the request id ";

function family(service: ServiceName): "github" | "crates" | "npm" | "pypi" | "cdn" {
  if (service === "github-api") return "github";
  if (service === "crates-api") return "crates";
  if (service === "npm") return "npm";
  if (service === "pypi") return "pypi";
  return "cdn";
}

function errorBody(service: ServiceName, status: number): Reply {
  const message = STATUS_TEXT[status] ?? `HTTP ${status}`;
  switch (family(service)) {
    case "github":
      return json(status, {
        message: status === 500 ? "Server Error" : message,
        documentation_url: "https://docs.github.com/rest",
        status: String(status),
      });
    case "crates":
      return json(status, { errors: [{ detail: message }] });
    case "npm":
      return json(status, { error: message });
    case "pypi":
      return json(status, { message });
    case "cdn":
      return text(status, `${status} ${message}\n`, "text/plain; charset=utf-8");
  }
}

function htmlPage(status: number): string {
  const message = STATUS_TEXT[status] ?? `HTTP ${status}`;
  return [
    "<!DOCTYPE html>",
    "<html>",
    `<head><meta charset="utf-8"><title>${status} ${message}</title></head>`,
    "<body>",
    `<h1>${status} ${message}</h1>`,
    "<p>We had issues producing the response to your request. Sorry about that. Please try to refresh and contact us if the problem persists.</p>",
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/** The response a scripted fault produces (kinds that still answer with a normal HTTP response). */
export function faultReply(fault: ActiveFault, req: SimRequest, world: World): Reply {
  const retryAfter: Record<string, string> =
    fault.retryAfterSec !== undefined ? { "retry-after": String(fault.retryAfterSec) } : {};
  const nowSec = Math.floor(world.now() / 1000);
  switch (fault.kind) {
    case "401":
      if (family(req.service) === "github") {
        // Real GitHub answer to a revoked or mistyped token (any endpoint).
        return json(401, {
          message: "Bad credentials",
          documentation_url: "https://docs.github.com/rest",
          status: "401",
        });
      }
      return errorBody(req.service, 401);
    case "403":
      if (family(req.service) === "github") {
        // Real GitHub answer to a fine-grained token without the permission the endpoint needs.
        return json(403, {
          message: "Resource not accessible by personal access token",
          documentation_url: "https://docs.github.com/rest",
          status: "403",
        });
      }
      return errorBody(req.service, 403);
    case "500":
    case "502":
    case "503": {
      const reply = errorBody(req.service, Number(fault.kind));
      Object.assign(reply.headers, retryAfter);
      return reply;
    }
    case "html": {
      if (fault.jsonContentType) {
        return text(fault.status ?? 503, GITHUB_HTML_AS_JSON_BODY, "application/json; charset=utf-8", retryAfter);
      }
      return text(fault.status ?? 502, htmlPage(fault.status ?? 502), "text/html; charset=utf-8", retryAfter);
    }
    case "429": {
      const fam = family(req.service);
      if (fam === "github") {
        return json(
          429,
          {
            message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            documentation_url:
              "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            status: "429",
          },
          retryAfter,
        );
      }
      const reply = errorBody(req.service, 429);
      Object.assign(reply.headers, retryAfter);
      return reply;
    }
    case "403-ratelimit": {
      const fam = family(req.service);
      if (fam === "github") {
        if (fault.retryAfterSec !== undefined) {
          return json(
            403,
            {
              message:
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 5747:146C5C:C94FAE:1027DAA:67EDE45F.",
              documentation_url:
                "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
              status: "403",
            },
            retryAfter,
          );
        }
        const limit = req.authenticated ? world.githubRateLimit.authenticated : world.githubRateLimit.anonymous;
        return json(
          403,
          {
            message: req.authenticated
              ? `API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID 5747:146C5C:C94FAE:1027DAA:67EDE45F and timestamp ${new Date(world.now()).toISOString().replace("T", " ").slice(0, 19)} UTC.`
              : `API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.) If you reach out to GitHub Support for help, please include the request ID 5747:146C5C:C94FAE:1027DAA:67EDE45F and timestamp ${new Date(world.now()).toISOString().replace("T", " ").slice(0, 19)} UTC.`,
            documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            status: "403",
          },
          {
            "x-ratelimit-limit": String(limit),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": String(nowSec + (fault.resetAfterSec ?? 3600)),
            "x-ratelimit-used": String(limit),
            "x-ratelimit-resource": "core",
          },
        );
      }
      if (fam === "crates") return json(403, { errors: [{ detail: `${CRATES_BLOCKED_DETAIL}sim-${fault.id}.` }] });
      if (fam === "npm") return json(403, { error: "Forbidden" });
      if (fam === "pypi") return json(403, { message: "Forbidden" });
      return text(403, "403 Forbidden\n", "text/plain; charset=utf-8", retryAfter);
    }
    default:
      return errorBody(req.service, 500);
  }
}
