# syntax=docker/dockerfile:1
# Build:  docker build -t oneroster-gateway .
# Run:    docker run -p 8080:8080 --stop-timeout 30 \
#           -v "$PWD/gateway.yaml:/etc/oneroster-gateway/gateway.yaml:ro" \
#           -e GATEWAY_CONFIG=/etc/oneroster-gateway/gateway.yaml -e GATEWAY_TOKEN_SECRET=... \
#           oneroster-gateway
# Without GATEWAY_CONFIG the image serves the bundled demo (gateway.example.yaml). No other
# config is copied in: a real one (with its secrets) is mounted at run time, never baked.
#
# Stop grace: at SIGTERM the gateway answers /readyz 503 for server.drainDelayMs, then lets
# requests in flight finish for up to server.shutdownGraceMs (10 s by default), then writes its
# last log lines. Docker's own default (10 s) kills it before that: give it
# drainDelayMs + shutdownGraceMs + 5 s (`--stop-timeout`, compose's `stop_grace_period`,
# Kubernetes' terminationGracePeriodSeconds). compose.yaml uses 30 s.
#
# Node 24 (LTS): the version CI tests beside Node 20 (.ci/run).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# Cached pages are Buffers of tens to hundreds of KB. Above this size glibc maps each one on its
# own and gives it back when it is freed, where its heap would keep evicted pages' memory
# (bench/memory.mjs: RSS after an eviction-heavy fill 145 -> 107 MiB at maxMemoryBytes 32 MiB).
ENV MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json gateway.example.yaml ./
# The node image ships an unprivileged "node" user (uid 1000).
USER node
EXPOSE 8080
# Asks /healthz where the config says the gateway listens (server.host and server.port, PORT
# over both as in serve), reading the same GATEWAY_CONFIG: a port set in the config is followed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/main.js", "healthcheck", "--timeout", "3000"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
