# The api, consumer, webhook dispatcher and topic-creation image for docker-compose.yml.
# Build stage: compiles the TypeScript; runtime stage: production dependencies
# and dist/ only, run as the unprivileged `node` user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# The young-generation size npm start gives the replicas and consumers (scripts/stack/app-components.ts): fewer garbage collections under load.
ENV NODE_OPTIONS=--max-semi-space-size=64
WORKDIR /app
# Owned by root and only readable by the service user: the code cannot be changed by the process running it.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
