// Bundles the dashboard into ../dist (embedded into the moonbase binary):
// index.html, app.js and app.css, everything from the npm packages of
// package-lock.json, nothing loaded from elsewhere at run time.
// `node build.mjs --report` also prints the gzipped sizes.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const out = new URL("../dist/", import.meta.url).pathname;
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { app: "src/main.js" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  outdir: out,
  logLevel: "warning",
  legalComments: "none",
});
await esbuild.build({
  entryPoints: { app: "src/app.css" },
  bundle: true,
  minify: true,
  outdir: out,
  logLevel: "warning",
});
copyFileSync("index.html", out + "index.html");
if (process.argv.includes("--report")) {
  let total = 0;
  for (const f of ["index.html", "app.js", "app.css"]) {
    const b = readFileSync(out + f);
    const gz = gzipSync(b, { level: 9 }).length;
    total += gz;
    console.log(`${f.padEnd(11)} ${String(b.length).padStart(8)} bytes, ${String(gz).padStart(7)} gzipped`);
  }
  console.log(`total gzipped ${total} bytes`);
}
