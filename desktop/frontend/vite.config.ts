import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The node serves the built app with a Content-Security-Policy that allows
// no inline script and only same-origin fonts, so the build must emit none:
// no module-preload polyfill (it is an inline script) and no assets inlined
// as data: URLs.
//
// `npm run dev` proxies /api to a running node (`make run`, or ANCORE_API
// pointing at its address). The node refuses cross-site Origins, and the
// dev server's page is on another port, so the proxy drops the Origin header.
const nodeAPI = process.env.ANCORE_API ?? "http://127.0.0.1:7878";

export default defineConfig({
  base: "/",
  plugins: [react()],
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
