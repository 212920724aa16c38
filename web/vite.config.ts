import { defineConfig } from "vite";

// The workbench is served by the API at "/", its files under "/ui/".
// Nothing is loaded from another host at run time: every module is bundled.
export default defineConfig({
  base: "/ui/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 1024,
    // One file: no module is fetched later, so a page whose server has stopped still verifies.
    rollupOptions: { output: { inlineDynamicImports: true } },
  },
});
