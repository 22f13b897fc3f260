// Copies the browser builds of our npm dependencies into static/vendor/,
// where ui.go embeds them and index.html's import map points. Runs as npm's
// postinstall, so `npm ci --prefix ui` is the whole "build". Third-party code
// is never committed; static/vendor/ is git-ignored.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const uiDir = fileURLToPath(new URL('..', import.meta.url));
const modules = join(uiDir, 'node_modules');
const vendor = join(uiDir, 'static', 'vendor');

// [package, file inside the package, name in static/vendor]. The names must
// match the import map in static/index.html and vendorFiles in ui.go.
const files = [
  ['preact', 'dist/preact.mjs', 'preact.mjs'],
  ['preact', 'hooks/dist/hooks.mjs', 'preact-hooks.mjs'],
  ['preact', 'LICENSE', 'preact.LICENSE.txt'],
  ['htm', 'dist/htm.mjs', 'htm.mjs'],
  ['htm', 'LICENSE', 'htm.LICENSE.txt'],
  // The minified ES module build, about a third of the size of dist/hls.mjs.
  // Its transmuxer worker is not needed: the player plays fMP4 audio, which
  // hls.js passes through on the main thread (enableWorker: false).
  ['hls.js', 'dist/hls.min.mjs', 'hls.mjs'],
  ['hls.js', 'LICENSE', 'hls.js.LICENSE.txt'],
];

const readJSON = (file) => JSON.parse(readFileSync(file, 'utf8'));

// A lock file drifting from package.json would silently ship a different
// library than the one the app was written against; refuse instead.
const wanted = readJSON(join(uiDir, 'package.json')).dependencies;
for (const [name, version] of Object.entries(wanted)) {
  const installed = readJSON(join(modules, name, 'package.json')).version;
  if (installed !== version) {
    console.error(`vendor: ${name} ${installed} is installed but package.json pins ${version}`);
    process.exit(1);
  }
}

mkdirSync(vendor, { recursive: true });
// Start from a clean folder so files from an older layout cannot linger
// and be embedded; .gitkeep keeps the folder in git.
for (const entry of readdirSync(vendor)) {
  if (entry !== '.gitkeep') rmSync(join(vendor, entry), { recursive: true });
}
for (const [pkg, from, to] of files) {
  copyFileSync(join(modules, pkg, from), join(vendor, to));
}
console.log(`vendor: copied ${files.length} files into static/vendor/`);
