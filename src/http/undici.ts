/**
 * The parts of undici this tool uses, loaded from undici's own files instead of its index: Agent, ProxyAgent, and
 * `request` through a given dispatcher. undici's index loads everything it offers on import (fetch, WebSocket,
 * EventSource, the cache stores and node:sqlite, cookies, the mocks): 110 files and 1.1 MB, where these are 35 files
 * and 0.3 MB. That was ~13 MB of RSS and ~60 ms of start-up in every command that makes a request
 * (docs/benchmarks.md, "Memory"). `test/http/undici-parts.test.ts` checks these are undici's own classes and that a
 * request behaves as undici's.
 */
import type { Agent as AgentType, Dispatcher, ProxyAgent as ProxyAgentType } from "undici";
import api from "undici/lib/api/index.js";
import AgentClass from "undici/lib/dispatcher/agent.js";
import DispatcherClass from "undici/lib/dispatcher/dispatcher.js";
import ProxyAgentClass from "undici/lib/dispatcher/proxy-agent.js";
import util from "undici/lib/core/util.js";

// As undici's index does: request(), stream(), pipeline(), upgrade() and connect() on every dispatcher (a ProxyAgent
// tunnels with connect()). Idempotent: the same functions on the same prototype when the index is loaded too.
Object.assign(DispatcherClass.prototype, api);

export const Agent = AgentClass;
export type Agent = AgentType;
export const ProxyAgent = ProxyAgentClass;
export type ProxyAgent = ProxyAgentType;
export type { Dispatcher };

/** The options of undici's `request(url, options)`, with the dispatcher given (this tool never uses the global one). */
export type RequestOptions = Omit<Dispatcher.RequestOptions, "origin" | "path"> & { dispatcher: Dispatcher };

/** undici's `request(url, options)`: the URL split into origin and path, sent through `options.dispatcher`. */
export function request(url: string | URL, options: RequestOptions): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  const u = util.parseURL(url);
  return dispatcher.request({ ...rest, origin: u.origin, path: `${u.pathname}${u.search}` });
}
