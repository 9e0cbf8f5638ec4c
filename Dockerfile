# syntax=docker/dockerfile:1
# otel-friction container image.
#   docker build -t ghcr.io/otel-friction/otel-friction:0.1.0 .
#   docker run --rm -p 4317:4317 -p 4318:4318 -p 13133:13133 -v otel-friction:/var/lib/otel-friction \
#     ghcr.io/otel-friction/otel-friction:0.1.0
# No Docker engine runs on the development machines, so test/deploy/dockerfile.test.ts runs this
# file's RUN, COPY, ENTRYPOINT and HEALTHCHECK itself, in a temporary directory standing in for
# the image (/app, /pkg, /tmp/pkg, /etc/otel-friction, /var/lib/otel-friction are mapped there; a
# command touching any other absolute path fails the test). Keep them plain POSIX shell, one
# command per `&&`.

# 1. Build: compile TypeScript with the dev dependencies and pack the npm tarball (exactly the
#    files a user would get from the registry: dist/, proto/, package.json).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json README.md ./
COPY src ./src
COPY proto ./proto
RUN npm run build && mkdir -p /pkg && npm pack --pack-destination /pkg

# 2. Production dependencies only, from the lockfile. better-sqlite3 (the outbox) is a native
#    addon and the only install script we run: `npm rebuild` of that one package runs it
#    (prebuild-install, else node-gyp with the compiler of this stage; the final image has none).
#    Its sources and object files are then dropped; the addon is loaded once as a check.
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
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj* node_modules/better-sqlite3/build/Release/*.a node_modules/better-sqlite3/build/Release/test_extension.node \
 && node -e "new (require('better-sqlite3'))(':memory:').close()"

# 3. Runtime: node, tini and the app; no compiler, no npm cache, not root.
FROM node:20-bookworm-slim AS runtime
# tini is PID 1: it forwards SIGTERM/SIGINT to node (which drains within shutdown_timeout and
# exits 0) and reaps zombies, so `docker run` needs no `--init` (with --init it is merely nested).
RUN apt-get update && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    OTEL_FRICTION_CONFIG=/etc/otel-friction/config.yaml
WORKDIR /app
COPY --from=runtime-deps /app /app
COPY deploy/docker/config.yaml /etc/otel-friction/config.yaml
# uid/gid 1000 is the image's `node` user; numeric so Kubernetes' runAsNonRoot can verify it.
RUN mkdir -p /var/lib/otel-friction && chown 1000:1000 /var/lib/otel-friction
USER 1000:1000
VOLUME ["/var/lib/otel-friction"]
# OTLP gRPC, OTLP HTTP, admin (/healthz, /readyz, /metrics, /api/v1/...)
EXPOSE 4317 4318 13133
# Liveness, on the admin endpoint the config reads from OTEL_FRICTION_ADMIN_ENDPOINT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const e=process.env.OTEL_FRICTION_ADMIN_ENDPOINT||':13133',i=e.lastIndexOf(':'),h=e.slice(0,i);fetch('http://'+(h===''||h==='0.0.0.0'||h==='[::]'?'127.0.0.1':h)+':'+e.slice(i+1)+'/healthz',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# --max-semi-space-size=1: see docs/architecture.md ("A small young generation"); V8 reads it only
# at start-up. More V8 flags (--max-old-space-size) go in NODE_OPTIONS.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=1", "/app/dist/cli.js"]
CMD ["run"]
