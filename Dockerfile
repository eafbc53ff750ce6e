# Cistern's app image: one image, three commands (api, worker, registry) or the all-in-one start.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
# MALLOC_ARENA_MAX: see README, "Memory".
ENV NODE_ENV=production DATA_DIR=/data HOST=0.0.0.0 MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/dist ./dist
COPY --from=build /app/apps/api/dist ./apps/api/dist
COPY --from=build /app/apps/worker/dist ./apps/worker/dist
COPY --from=build /app/apps/registry/dist ./apps/registry/dist
# `cistern-token create …` (dist/cistern-token.js, see README "Docker Compose").
RUN ln -s /app/dist/cistern-token.js /usr/local/bin/cistern-token \
 && mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 24816 24817 24818
CMD ["node", "dist/start-all.js"]
