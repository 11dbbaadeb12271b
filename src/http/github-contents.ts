import type { Octokit } from "@octokit/rest";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { githubGet } from "./github.ts";

/** The JSON form GitHub answers when it ignores the raw media type. */
const ContentFileBody = z.object({
  type: z.string(),
  encoding: z.string().nullish(),
  content: z.string().nullish(),
  size: z.number().nullish(),
});

export interface ContentsRequest {
  owner: string;
  repo: string;
  path: string;
  ref: string;
  signal?: AbortSignal;
  /** Size cap for the file (the contents API itself stops at 1 MB for JSON). */
  maxBytes: number;
}

/**
 * One repository file through the contents API (raw media type), as text; null when the file or ref is absent (404).
 * Used for tap formulae and release manifests.
 */
export async function readRepoFile(octokit: Octokit, req: ContentsRequest): Promise<string | null> {
  const where = `${req.owner}/${req.repo}:${req.path}@${req.ref}`;
  const data = await githubGet(where, () =>
    octokit.rest.repos.getContent({
      owner: req.owner,
      repo: req.repo,
      path: req.path,
      ref: req.ref,
      mediaType: { format: "raw" },
      ...(req.signal ? { request: { signal: req.signal } } : {}),
    }),
  );
  return data === null ? null : contentsText(data, where, req.maxBytes);
}

/**
 * The file text from a contents API answer: raw text (Octokit returns a string for `…raw; charset=utf-8`),
 * raw bytes (an ArrayBuffer when the charset is missing), or the JSON file object with base64 content.
 */
export function contentsText(data: unknown, where: string, maxBytes: number): string {
  const capped = (bytes: Buffer): string => {
    if (bytes.length > maxBytes) throw tooLarge(where, bytes.length, maxBytes);
    return bytes.toString("utf8");
  };
  if (typeof data === "string") return capped(Buffer.from(data, "utf8"));
  if (data instanceof ArrayBuffer) return capped(Buffer.from(data));
  if (ArrayBuffer.isView(data)) return capped(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (Array.isArray(data)) throw new AppError("E_UPSTREAM_MALFORMED", `${where} is a directory, not a file`);
  const parsed = ContentFileBody.safeParse(data);
  if (!parsed.success) {
    throw new AppError(
      "E_UPSTREAM_MALFORMED",
      `${where}: unexpected contents API answer (neither raw text nor a file)`,
    );
  }
  const file = parsed.data;
  if (file.type !== "file") throw new AppError("E_UPSTREAM_MALFORMED", `${where} is a ${file.type}, not a file`);
  if (typeof file.size === "number" && file.size > maxBytes) throw tooLarge(where, file.size, maxBytes);
  if (file.encoding !== "base64" || typeof file.content !== "string") {
    throw new AppError(
      "E_UPSTREAM_MALFORMED",
      `${where}: contents API answered encoding ${file.encoding ?? "none"} without inline content`,
    );
  }
  return capped(Buffer.from(file.content, "base64"));
}

function tooLarge(where: string, size: number, max: number): AppError {
  return new AppError("E_HTTP_TOO_LARGE", `${where} is ${size} bytes, over the ${max}-byte cap`, { details: { size } });
}
