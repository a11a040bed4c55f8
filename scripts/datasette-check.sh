#!/usr/bin/env bash
# Opens a freshly synced archive with Datasette and sqlite-utils (from PyPI, in a virtualenv under
# .build/venv-datasette) and checks that events_fts is detected as the full-text table of events and
# finds rows. The archive comes from `cloudron-audit demo` (a simulated Cloudron, nothing leaves the machine).
#
#   scripts/datasette-check.sh            # uses $CLOUDRON_AUDIT_BIN, else builds with `swift build`
#
# Exit: 0 checked, 1 a check failed, 2 skipped (python3/venv missing or PyPI not reachable; the reason
# is printed on a line starting with SKIP).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.build/venv-datasette"

skip() { echo "SKIP: $*"; exit 2; }
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v python3 >/dev/null || skip "python3 is not installed"
python3 -c 'import venv, ensurepip' 2>/dev/null || skip "python3 has no venv/ensurepip module (apt-get install python3-venv)"

if ! "$venv/bin/python" -c 'import datasette, sqlite_utils' 2>/dev/null; then
    mkdir -p "$root/.build"
    python3 -m venv "$venv" || skip "python3 -m venv $venv failed"
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check datasette sqlite-utils >"$venv.pip.log" 2>&1; then
        skip "pip cannot install datasette and sqlite-utils (no PyPI access?): $(tail -n 1 "$venv.pip.log")"
    fi
fi

bin="${CLOUDRON_AUDIT_BIN:-}"
if [ -z "$bin" ]; then
    (cd "$root" && swift build --product cloudron-audit >/dev/null) || fail "swift build failed"
    bin="$(cd "$root" && swift build --show-bin-path)/cloudron-audit"
fi
[ -x "$bin" ] || fail "no cloudron-audit binary at $bin"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" demo --db "$work/audit.db" --events 500 >"$work/demo.log" || fail "cloudron-audit demo failed: $(tail -n 3 "$work/demo.log")"
echo "synced a demo archive: $work/audit.db"

"$venv/bin/python" - "$work/audit.db" <<'PY'
import asyncio, sys
import sqlite_utils
from datasette.app import Datasette

path = sys.argv[1]

def check(condition, message):
    if not condition:
        print("FAIL: " + message)
        sys.exit(1)

# sqlite-utils: the same FTS detection rule Datasette uses (a virtual table with content="events").
db = sqlite_utils.Database(path)
check(db["events"].detect_fts() == "events_fts", "sqlite-utils detects %r as the FTS table of events" % db["events"].detect_fts())
hits = list(db["events"].search("login", limit=5))
check(len(hits) > 0, "sqlite-utils found no event for 'login'")
# The index's text is not stored (schema 11): each hit's current version's raw JSON holds the word.
for row in hits:
    raw = db.execute("SELECT raw FROM event_versions WHERE event_id = ? AND version = ?", [row["id"], row["version"]]).fetchone()[0]
    check("login" in raw.lower(), "sqlite-utils search returned an event without the word: %s" % raw[:200])
db.conn.close()

async def datasette_checks():
    ds = Datasette(files=[path])
    await ds.invoke_startup()
    name = next(iter(ds.databases.keys() - {"_internal", "_memory"}))
    database = ds.get_database(name)
    fts = await database.fts_table("events")
    check(fts == "events_fts", "Datasette detects %r as the FTS table of events" % fts)
    response = await ds.client.get("/%s/events.json?_search=login&_shape=objects&_size=5" % name)
    check(response.status_code == 200, "Datasette search answered %d: %s" % (response.status_code, response.text[:300]))
    rows = response.json()["rows"]
    check(len(rows) > 0, "Datasette's table search (?_search=login) found no row")
    response = await ds.client.get("/%s/events.json?_search=nosuchwordanywhere&_shape=objects" % name)
    check(response.status_code == 200 and response.json()["rows"] == [], "a search for a missing word returned rows")
    return len(rows)

found = asyncio.run(datasette_checks())
print("OK: events_fts is the FTS table of events (sqlite-utils and Datasette)")
print("OK: full-text search through Datasette's ?_search= found %d rows for 'login'" % found)
PY
