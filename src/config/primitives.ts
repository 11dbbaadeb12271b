import { z } from "zod";

/** Schema building blocks shared by the config file and the channels' config pieces. */
export const RepoSlug = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name");
export const Template = z.string().min(1);
export const PlatformId = z.string().regex(/^[a-z0-9]+_[a-z0-9]+$/, "must look like darwin_arm64");
export const HttpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
