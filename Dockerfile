# syntax=docker/dockerfile:1
# otel-friction container image. Build: docker build -t otel-friction .
# No Docker engine runs on the development machines, so this file is kept to standard steps;
# the image's config file is checked by the test suite (otel-friction validate).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY proto ./proto
RUN npm run build && npm pack --pack-destination /pkg

# Production dependencies only. better-sqlite3 (the outbox) is a native addon: its install script
# is the one we run, with a compiler in this stage so the final image needs none.
FROM node:20-bookworm-slim AS runtime-deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /pkg/ /tmp/pkg/
COPY package-lock.json /tmp/pkg/package-lock.json
RUN tar -xzf /tmp/pkg/otel-friction-*.tgz --strip-components=1 -C /app \
 && cp /tmp/pkg/package-lock.json /app/package-lock.json \
 && npm ci --omit=dev --ignore-scripts \
 && npm rebuild better-sqlite3 \
 && node -e "new (require('better-sqlite3'))(':memory:').close()" \
 && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    OTEL_FRICTION_CONFIG=/etc/otel-friction/config.yaml
WORKDIR /app
COPY --from=runtime-deps /app /app
RUN mkdir -p /var/lib/otel-friction && chown node:node /var/lib/otel-friction
COPY deploy/docker/config.yaml /etc/otel-friction/config.yaml
USER node
VOLUME ["/var/lib/otel-friction"]
EXPOSE 4317 4318 13133
# --max-semi-space-size=1: see docs/architecture.md ("A small young generation").
# Node installs its own SIGTERM/SIGINT handlers, so it drains correctly as PID 1; run with
# `docker run --init` (or a pod) if you want zombie reaping too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:13133/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/cli.js"]
CMD ["run"]
