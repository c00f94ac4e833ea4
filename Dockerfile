# The bridge as a container: Node 24 LTS runs the TypeScript sources directly. The first stage
# installs the production dependencies; the second holds only what runs, as the unprivileged
# `node` user. The same image also runs the simulator (`simulator` instead of `start`).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY views ./views
COPY config ./config
USER node
EXPOSE 3000
# SIGTERM starts a graceful shutdown (open event streams are sent to another replica, Redis is
# closed) that ends within 10 s.
STOPSIGNAL SIGTERM
# Liveness only; a load balancer should route by /readyz, which also checks Redis and the
# portal registration.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "src/main.ts"]
CMD ["start"]
