// Copy Swagger UI's files from the pinned npm package into dist/, so /docs needs no CDN.
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const source = join(root, "node_modules", "swagger-ui-dist");
const target = join(root, "dist", "swagger-ui");
mkdirSync(target, { recursive: true });
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "oauth2-redirect.html", "LICENSE", "NOTICE"]) {
  cpSync(join(source, name), join(target, name));
}
console.log(`swagger-ui-dist copied to ${target}`);
