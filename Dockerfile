# syntax=docker/dockerfile:1

# One image for every process: the API and workers (APP_ROLE), the CLI and the Ultravox simulator.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Scarf is a dependency's install-time telemetry ping; builds stay offline-friendly without it.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and only readable by the `node` user the process runs as: it cannot rewrite its own code.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
# 3000: the API (APP_ROLE=api or all); 9464: a worker-only process's /metrics and /health (METRICS_PORT).
EXPOSE 3000 9464
# Every Switchboard process answers /health on the port its role listens on (the simulator's service
# in docker-compose.yml turns this check off: it listens elsewhere).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e = process.env; const port = e.APP_ROLE === 'worker' ? e.METRICS_PORT || 9464 : e.PORT || 3000; fetch('http://127.0.0.1:' + port + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The old generation grows to twice what survived the last full collection before V8 collects again
# (its default is up to four times): a lower peak RSS for a little CPU (docs/benchmarks.md#heap-growth).
CMD ["node", "--heap-growing-percent=100", "dist/src/main.js"]
