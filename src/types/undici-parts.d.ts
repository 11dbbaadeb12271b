// undici's own files that src/http/undici.ts loads instead of its index (undici has no `exports` map; the index's
// types describe the same classes).
declare module "undici/lib/dispatcher/dispatcher.js" {
  import type { Dispatcher } from "undici";
  const DispatcherClass: { prototype: Dispatcher };
  export default DispatcherClass;
}

declare module "undici/lib/api/index.js" {
  const api: Record<"request" | "stream" | "pipeline" | "upgrade" | "connect", unknown>;
  export default api;
}

declare module "undici/lib/dispatcher/agent.js" {
  import type { Agent } from "undici";
  const AgentClass: typeof Agent;
  export default AgentClass;
}

declare module "undici/lib/dispatcher/proxy-agent.js" {
  import type { ProxyAgent } from "undici";
  const ProxyAgentClass: typeof ProxyAgent;
  export default ProxyAgentClass;
}

declare module "undici/lib/core/util.js" {
  const util: { parseURL(url: string | URL): URL };
  export default util;
}
