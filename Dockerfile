# One image for all four services: `docker run predstream features|model|metric|plot|up ...`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# onnxruntime-node (optional, for ONNX models) ships every platform's runtime: keep Linux's only.
RUN npm run build && npm prune --omit=dev \
    && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32

FROM node:20-bookworm-slim
ENV NODE_ENV=production LOGS_DIR=/app/logs
WORKDIR /app
# A font for the labels of error_distribution.png.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY data ./data
COPY models ./models
COPY static ./static
COPY assets ./assets
RUN mkdir -p /app/logs && chown node:node /app/logs
USER node
ENTRYPOINT ["node", "--max-semi-space-size=8", "--no-parallel-scavenge", "/app/dist/cli.js"]
CMD ["--help"]
