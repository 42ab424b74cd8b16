# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, run with production dependencies only, as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# the image's own config: 0.0.0.0:8443 with TLS, certs/data/logs under /app; `gatehouse …` commands
# run with `docker exec` read it too
ENV GATEHOUSE_CONFIG=/app/config/gatehouse.container.yaml
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
# the shipped alert rules, for the evidence bundle (compliance.alertRulesFile)
COPY deploy/monitoring/alerts.yaml ./deploy/monitoring/alerts.yaml
# `gatehouse` on PATH for `docker compose exec gatehouse gatehouse user …`
RUN ln -s /app/bin/gatehouse.js /usr/local/bin/gatehouse \
 && mkdir -p /app/data /app/logs /app/certs \
 && chown node:node /app/data /app/logs /app/certs \
 && chmod 0700 /app/data /app/certs
USER node
EXPOSE 8443
# A new named volume starts as a copy of these folders, ownership included, so the node user can
# write its generated certificate, keys and audit log on first start.
VOLUME ["/app/data", "/app/logs", "/app/certs"]
# node, not curl (not in the image): GET https://127.0.0.1:8443/healthz, certificate not verified
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/bin/healthcheck.js"]
ENTRYPOINT ["node", "/app/bin/gatehouse.js"]
CMD ["serve"]
