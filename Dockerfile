FROM node:20-bookworm-slim AS build
WORKDIR /app
# Lockfile first so the dependency layer is cached across source-only changes.
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Files stay root-owned so the unprivileged service cannot modify its own code.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Run once before the services by compose's broker-setup (topology and the services' users).
COPY scripts/broker-setup.mjs scripts/dot-env.mjs ./scripts/
USER node
EXPOSE 3000 3001 3002
# One image for all three services: override the command to run inventory or notification.
CMD ["node", "dist/apps/order/apps/order/src/main.js"]
