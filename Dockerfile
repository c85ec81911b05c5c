# claude-tiers in a container, for compose.yaml (documented in the README's "Scaling out"; not used by the tests).
FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies first (no scripts: the build needs the sources), then the sources and the build.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && chown -R node:node /app && mkdir -p /work /home/node/state && chown node:node /work /home/node/state
USER node
ENV CLAUDE_TIERS_STATE_DIR=/home/node/state
ENTRYPOINT ["node", "/app/dist/src/index.js"]
