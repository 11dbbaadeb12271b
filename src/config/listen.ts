/**
 * The one token rule for the status server, applied to the effective listen address however it was given
 * (settings.server.listen or `watch --listen`): off loopback, settings.server.token is required.
 */

export function listenHost(listen: string): string {
  return listen
    .trim()
    .replace(/:[0-9]+$/, "")
    .replace(/^\[|\]$/g, "");
}

/** 127.0.0.0/8, ::1 and localhost (any case, no trailing dot). An empty host means every interface: not loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(h);
}

/** The config issue when `listen` is off loopback without a token, else null. `from` names where listen came from. */
export function tokenRuleIssue(listen: string, token: string | undefined, from: string): string | null {
  if ((token ?? "").length > 0 || isLoopbackHost(listenHost(listen))) return null;
  return `settings.server.token: required when the server listens off loopback (${from} is ${listen})`;
}
