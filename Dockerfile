# syntax=docker/dockerfile:1
# The one fedmesh image: `fedmesh server`, `fedmesh webhooks`, `fedmesh agent` (and the chart's `helm test`
# checks, which run its Node.js). Build from the repository root:
#   docker build -t fedmesh:0.1.0 .
# The base is pinned to an exact Node.js and Debian release; pin it by digest too for reproducible builds:
#   docker build --build-arg NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:<digest> -t fedmesh:0.1.0 .
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: compile the TypeScript, then keep only the runtime dependencies ------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, from the lock file, so that a source change does not reinstall them. No install scripts:
# `prepare` would compile before the sources are here.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN ./node_modules/.bin/tsc -p tsconfig.json \
 && find dist -name '*.test.js' -delete -o -name '*.test.js.map' -delete \
 && rm -rf dist/bench \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && chmod 0755 bin/fedmesh.js

# --- runtime ---------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
# The agent programs the node with ip, bridge (iproute2) and nft (nftables); nothing else is added.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 nftables \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/fedmesh
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
RUN ln -s /opt/fedmesh/bin/fedmesh.js /usr/local/bin/fedmesh
ENV NODE_ENV=production
# Non-root by default (the server, the webhooks and the tests run so); the chart runs only the agent as root, with
# the single capability NET_ADMIN, because Kubernetes grants added capabilities to root processes only.
USER 65532:65532
ENTRYPOINT ["fedmesh"]
CMD ["--help"]
