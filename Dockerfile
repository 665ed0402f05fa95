# syntax=docker/dockerfile:1
# Build:  docker build -t oneroster-gateway .
# Run:    docker run -p 8080:8080 \
#           -v "$PWD/gateway.yaml:/app/config/gateway.yaml:ro" \
#           -e GATEWAY_CONFIG=/app/config/gateway.yaml -e GATEWAY_TOKEN_SECRET=... \
#           oneroster-gateway
# Without GATEWAY_CONFIG the image serves the bundled demo (gateway.example.yaml).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Cached pages are Buffers of tens to hundreds of KB. Above this size glibc maps each one on its
# own and gives it back when it is freed, where its heap would keep evicted pages' memory
# (bench/memory.mjs: RSS after an eviction-heavy fill 145 -> 107 MiB at maxMemoryBytes 32 MiB).
ENV MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json gateway.example.yaml ./
COPY config ./config
# The node image ships an unprivileged "node" user (uid 1000).
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
