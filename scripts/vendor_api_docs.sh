#!/usr/bin/env bash
# Refresh api/static/: Swagger UI (swagger-ui-dist) and ReDoc (redoc's standalone bundle) for /docs and /redoc,
# taken unchanged from the npm registry. Needs npm; run it only to change a version — the files are vendored (and
# carried in the wheel, pyproject package-data), so the service never loads them from a CDN.
set -euo pipefail
SWAGGER="${1:-5.36.0}"
REDOC="${2:-2.5.4}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "swagger-ui-dist@$SWAGGER" "redoc@$REDOC" >/dev/null
mkdir sw rd
tar xzf "swagger-ui-dist-$SWAGGER.tgz" -C sw
tar xzf "redoc-$REDOC.tgz" -C rd
OUT="$ROOT/api/static"
cp sw/package/swagger-ui-bundle.js sw/package/swagger-ui.css sw/package/favicon-32x32.png "$OUT/"
cp sw/package/LICENSE "$OUT/swagger-ui.LICENSE"
# ReDoc's sidebar shows Redocly's logo from cdn.redoc.ly: a blank image instead (exactly one such URL, or stop)
python3 - rd/package/bundles/redoc.standalone.js "$OUT/redoc.standalone.js" <<'PY'
import sys
code = open(sys.argv[1], encoding="utf-8").read()
old = 'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"'
assert code.count(old) == 1, f"expected {old} once, found it {code.count(old)} times"
blank = 'src:"data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"'
open(sys.argv[2], "w", encoding="utf-8").write(code.replace(old, blank))
PY
cp rd/package/LICENSE "$OUT/redoc.LICENSE"
printf 'swagger-ui-dist %s\nredoc %s\n' "$SWAGGER" "$REDOC" > "$OUT/VERSIONS"
echo "wrote api/static/ (swagger-ui-dist $SWAGGER, redoc $REDOC)"
