// Builds static/vendor/uswds/css/uswds.min.css: the USWDS packages the portal uses (uswds-portal.scss),
// compiled from USWDS's Sass sources, then trimmed to the rules a template, a script or a view names.
// Run with `make assets` (npm install, then this script); the built file is committed, node_modules is not.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";
import { PurgeCSS } from "purgecss";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const target = path.join(root, "static/vendor/uswds/css/uswds.min.css");

const compiled = sass.compile(path.join(here, "uswds-portal.scss"), {
  loadPaths: [path.join(here, "node_modules/@uswds/uswds/packages")],
  style: "compressed",
  quietDeps: true,
});

const [purged] = await new PurgeCSS().purge({
  content: [
    path.join(root, "templates/**/*.html"),
    path.join(root, "static/js/*.js"),
    path.join(root, "static/vendor/uswds/js/*.js"),
    path.join(root, "portal/**/*.py"),
  ],
  css: [{ raw: compiled.css }],
  // Class names such as tablet:grid-col-4 keep their colon.
  defaultExtractor: (content) => content.match(/[A-Za-z0-9_:-]+/g) || [],
  safelist: {
    // Classes templates build from a value (usa-alert--{{ kind }}) and states USWDS's script sets.
    greedy: [/^usa-alert--/, /^is-/, /^usa-js-/, /--expanded$/, /--active$/],
  },
  fontFace: false,
  keyframes: true,
  variables: false,
});

// USWDS writes font-display: fallback; "optional" keeps a late font from moving text that is already laid out.
// Sass starts compressed output that holds non-ASCII text with a byte-order mark; the banner goes first, so drop it.
const css = purged.css.replace(/^\uFEFF/, "").replaceAll("font-display:fallback", "font-display:optional");
const banner = "/*! U.S. Web Design System 3.14.0 (CC0 and its licences: LICENSE.md), trimmed by frontend/build.mjs */\n";
await writeFile(target, banner + css);
const before = Buffer.byteLength(compiled.css);
const after = Buffer.byteLength(css);
console.log(`uswds.min.css: ${before} bytes compiled, ${after} bytes kept`);
