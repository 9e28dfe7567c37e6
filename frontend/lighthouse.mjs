// Lighthouse (mobile, its default throttling) on the five pages the front end is held to, against a running
// server: `node lighthouse.mjs http://127.0.0.1:5000`. Uses Debian's Chromium (CHROME_PATH, default
// /usr/bin/chromium) and prints one line per page: the four category scores and the paint and shift figures.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const base = (process.argv[2] || "http://127.0.0.1:5000").replace(/\/$/, "");
const pages = process.argv.length > 3 ? process.argv.slice(3) : ["/", "/institutes/", "/institutes/america-makes", "/snapshot", "/login"];
const chrome = process.env.CHROME_PATH || "/usr/bin/chromium";
const work = mkdtempSync(path.join(tmpdir(), "lighthouse-"));
const figures = ["first-contentful-paint", "largest-contentful-paint", "cumulative-layout-shift", "total-blocking-time"];

console.log("| page | performance | accessibility | best practices | SEO | FCP | LCP | CLS | TBT |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
let worst = 100;
try {
  for (const page of pages) {
    const report = path.join(work, "report.json");
    execFileSync(path.join(here, "node_modules/.bin/lighthouse"), [
      base + page, "--quiet", "--output=json", `--output-path=${report}`,
      "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
    ], { env: { ...process.env, CHROME_PATH: chrome }, stdio: ["ignore", "ignore", "inherit"] });
    const result = JSON.parse(readFileSync(report, "utf8"));
    const scores = ["performance", "accessibility", "best-practices", "seo"].map((c) => Math.round(result.categories[c].score * 100));
    worst = Math.min(worst, ...scores);
    const values = figures.map((f) => result.audits[f].displayValue.replace(/\u00a0/g, " "));
    console.log(`| ${page} | ${scores.join(" | ")} | ${values.join(" | ")} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`lowest score: ${worst}`);
