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
EXPOSE 3000
# The old generation grows to twice what survived the last full collection before V8 collects again
# (its default is up to four times): a lower peak RSS for a little CPU (docs/benchmarks.md#heap-growth).
CMD ["node", "--heap-growing-percent=100", "dist/src/main.js"]
