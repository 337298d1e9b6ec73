import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

// The node serves the built app with a Content-Security-Policy that allows
// no inline script and only same-origin fonts, so the build must emit none:
// no module-preload polyfill (it is an inline script) and no assets inlined
// as data: URLs.
//
// `npm run dev` proxies /api to a running node (`make run`, or ANCORE_API
// pointing at its address). The node refuses cross-site Origins, and the
// dev server's page is on another port, so the proxy drops the Origin header.
// The emoji picker (frimousse) reads Emojibase's data from
// `${emojibaseUrl}/en/{data,messages}.json`; the app serves those files
// itself, from the emojibase-data package, so it works with no internet.
const emojiFiles = ["data.json", "messages.json"];
const emojibasePrefix = "emojibase/en/";

function emojibaseData(): Plugin {
  const source = (file: string) => readFileSync(fileURLToPath(new URL(`./node_modules/emojibase-data/en/${file}`, import.meta.url)));
  return {
    name: "ancore-emojibase-data",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const file = emojiFiles.find((f) => req.url === `/${emojibasePrefix}${f}`);
        if (!file) return next();
        res.setHeader("Content-Type", "application/json");
        res.end(source(file));
      });
    },
    generateBundle() {
      for (const file of emojiFiles) this.emitFile({ type: "asset", fileName: emojibasePrefix + file, source: source(file) });
    },
  };
}

const nodeAPI = process.env.ANCORE_API ?? "http://127.0.0.1:7878";

export default defineConfig({
  base: "/",
  plugins: [react(), emojibaseData()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir: "../ui/static/app",
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    proxy: {
      "/api": {
        target: nodeAPI,
        changeOrigin: true,
        ws: true,
        configure: (proxy) => {
          proxy.on("proxyReq", (req) => req.removeHeader("origin"));
          proxy.on("proxyReqWs", (req) => req.removeHeader("origin"));
        },
      },
    },
  },
  test: {
    include: ["src/**/*.test.{ts,tsx}"],
    environment: "node",
    restoreMocks: true,
  },
});
