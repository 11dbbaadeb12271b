# syntax=docker/dockerfile:1
#
# release-monitor container image. See docs/deploy.md.
#
#   docker build -t release-monitor:0.1.0 .
#   docker run -d --name release-monitor -p 127.0.0.1:8080:8080 \
#     -v "$PWD/deploy/config/monitor.yaml:/config/monitor.yaml:ro" -v release-monitor-state:/var/lib/release-monitor \
#     --env-file deploy/monitor.env release-monitor:0.1.0                 # `monitor watch` (the default CMD)
#   docker run --rm release-monitor:0.1.0 verify v0.8.0 --config /app/examples/plasmite.yaml --sim clean
#
# The base tag is pinned to an exact Node release (both stages use the same one); bump both together.
# node:sqlite (the daemon's state db) is built into Node 24: no native modules, no build toolchain needed.
# test/deploy/dockerfile-lint.test.ts lints this file and test/deploy/docker-replay.test.ts replays its steps.

# ---- build: full dev install, bundle the CLI into dist/cli/ (main.js + chunks; esbuild, scripts/build.ts) ----
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build is its own step below.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, compiled JS, tini as PID 1, non-root ----
FROM node:24.21.0-bookworm-slim AS runtime
# tini reaps zombies and forwards SIGTERM to node (node as PID 1 would ignore it). /var/lib/release-monitor is the
# state volume (settings.state_dir in deploy/config/monitor.yaml), owned by the runtime user so a fresh named
# volume inherits a writable directory.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && install -d -o 1000 -g 1000 -m 0750 /var/lib/release-monitor \
  && ln -s /app/bin/monitor.js /usr/local/bin/monitor
ENV NODE_ENV=production \
  MONITOR_CONFIG=/config/monitor.yaml
WORKDIR /app
# The application is owned by root and read-only to the runtime user.
COPY --chown=root:root package.json package-lock.json ./
# --ignore-scripts: `prepare` runs the TypeScript build, which a production install cannot (and need not) do.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --chown=root:root --from=build /src/dist ./dist
COPY --chown=root:root --chmod=0755 bin ./bin
COPY --chown=root:root examples ./examples
# uid/gid 1000 is the image's `node` user; numeric so Kubernetes runAsNonRoot can verify it.
USER 1000:1000
VOLUME ["/var/lib/release-monitor"]
EXPOSE 8080
# No curl in slim images: Node's fetch. MONITOR_HEALTHCHECK_URL overrides the URL when settings.server.listen
# uses another port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.MONITOR_HEALTHCHECK_URL || 'http://127.0.0.1:8080/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# -s: stay a subreaper when `docker run --init` / compose `init: true` puts another init in front of tini.
ENTRYPOINT ["/usr/bin/tini", "-s", "--", "node", "/app/bin/monitor.js"]
CMD ["watch"]
