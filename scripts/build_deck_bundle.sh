#!/usr/bin/env bash
# Rebuild assets/vendor/deck.gl-wall-<version>.min.js: the parts of deck.gl the wall's 3-D panel uses
# (core, layers, JSON converter), tree-shaken from the npm packages with esbuild. Needs node and npm; run it only
# to change the deck.gl version — the result is vendored, so the product itself never touches npm.
set -euo pipefail
VERSION="${1:-9.1.14}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
echo '{"name": "gridwall-deck-bundle", "private": true, "version": "0.0.0"}' > package.json
npm install --no-audit --no-fund --ignore-scripts "@deck.gl/core@$VERSION" "@deck.gl/layers@$VERSION" \
    "@deck.gl/json@$VERSION" esbuild@0.25.10 >/dev/null
cat > entry.js <<JS
export {Deck, MapView} from "@deck.gl/core";
export {PolygonLayer, SolidPolygonLayer, ColumnLayer} from "@deck.gl/layers";
export {JSONConverter, JSONConfiguration} from "@deck.gl/json";
JS
echo 'export class WgslReflect { constructor() { throw new Error("WGSL reflection is not in this bundle (WebGL only)"); } }' > no-wgsl.js
./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=deck --target=es2020 \
    --legal-comments=none --alias:wgsl_reflect=./no-wgsl.js --metafile=meta.json --outfile=bundle.js
node -e '
const m = require("./meta.json"), pk = {};
for (const f of Object.keys(m.outputs["bundle.js"].inputs)) {
  const mm = f.match(/node_modules\/((@[^/]+\/)?[^/]+)/); if (mm) pk[mm[1]] = 1; }
const v = process.argv[1];
const head = ["/*! deck.gl for the gridwall 3-D panel: a tree-shaken build of npm packages (https://registry.npmjs.org/),",
  " * made with esbuild 0.25.10 from an entry exporting only what the panel uses:",
  " *   export {Deck, MapView} from \"@deck.gl/core\";  // " + v,
  " *   export {PolygonLayer, SolidPolygonLayer, ColumnLayer} from \"@deck.gl/layers\";  // " + v,
  " *   export {JSONConverter, JSONConfiguration} from \"@deck.gl/json\";  // " + v,
  " * esbuild entry.js --bundle --minify --format=iife --global-name=deck --target=es2020 --legal-comments=none",
  " *   --alias:wgsl_reflect=./no-wgsl.js   (WebGPU shader reflection left out: the panel draws with WebGL only)",
  " * Packages in it, with their licences (MIT: Copyright Vis.gl contributors and others; ISC: earcut, by Mapbox):",
  ...Object.keys(pk).sort().map(p => { const j = require("./node_modules/" + p + "/package.json");
                                      return " *   " + p + "@" + j.version + " (" + j.license + ")"; }),
  " * Vendored so that nothing is loaded from a CDN (scripts/build_deck_bundle.sh). */"];
require("fs").writeFileSync("head.txt", head.join("\n") + "\n");' "$VERSION"
cat head.txt bundle.js > "$ROOT/assets/vendor/deck.gl-wall-$VERSION.min.js"
python3 "$ROOT/scripts/offline_deck_bundle.py" "$ROOT/assets/vendor/deck.gl-wall-$VERSION.min.js"
echo "wrote assets/vendor/deck.gl-wall-$VERSION.min.js; point app/panel3d.py SCRIPTS at it"
