#!/usr/bin/env bash
# `make install` into a temporary DESTDIR, then what a user gets from it: the binary runs and says the
# version the source declares; the bash completion loads and completes subcommands; the zsh completion
# parses; the fish completion completes this command; the man page renders with `man -l`, and
# `man cloudron-audit` finds it under the prefix. Run by `make test` (INSTALL_BUILD=debug by default: a
# release build takes minutes on a loaded machine, and installs the same files).
#
#   scripts/check-install.sh                        # the debug build
#   INSTALL_BUILD=release scripts/check-install.sh  # the release build with the static Swift runtime
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$(mktemp -d)"
trap 'rm -rf "$dest"' EXIT
fail() { echo "check-install: $*" >&2; exit 1; }

log="$dest/install.log"
make --no-print-directory -C "$root" install DESTDIR="$dest" PREFIX=/usr/local INSTALL_BUILD="${INSTALL_BUILD:-debug}" \
    >"$log" 2>&1 || { cat "$log" >&2; fail "make install failed"; }
prefix="$dest/usr/local"

for file in bin/cloudron-audit share/man/man1/cloudron-audit.1 share/bash-completion/completions/cloudron-audit \
            share/zsh/site-functions/_cloudron-audit share/fish/vendor_completions.d/cloudron-audit.fish; do
    [ -s "$prefix/$file" ] || fail "$file is missing or empty"
done
[ "$(stat -c %a "$prefix/bin/cloudron-audit")" = 755 ] || fail "the binary is not mode 755"
[ "$(stat -c %a "$prefix/share/man/man1/cloudron-audit.1")" = 644 ] || fail "the man page is not mode 644"
leftover="$(find "$dest" -path "$prefix" -prune -o -type f ! -name install.log -print)"
[ -z "$leftover" ] || fail "files outside PREFIX: $leftover"

# The version the source declares, read independently of the binary.
declared="$(sed -n 's/.*static let current = "\([^"]*\)".*/\1/p' "$root/Sources/Client/CloudronAuditVersion.swift")"
[ -n "$declared" ] || fail "no version found in CloudronAuditVersion.swift"
version="$(cd / && env -i "$prefix/bin/cloudron-audit" --version)" || fail "the installed binary does not run"
[ "$version" = "$declared" ] || fail "--version says '$version', the source declares '$declared'"

# bash: the completion registers a function for the command, which offers the subcommands.
bash --norc --noprofile -c '
    source "$1"
    spec="$(complete -p cloudron-audit)" || exit 1
    function="$(sed -n "s/.*-F \([^ ]*\).*/\1/p" <<<"$spec")"
    COMP_WORDS=(cloudron-audit sy); COMP_CWORD=1; COMP_LINE="cloudron-audit sy"; COMP_POINT=${#COMP_LINE}
    "$function" cloudron-audit sy cloudron-audit
    printf "%s\n" "${COMPREPLY[@]}"
' bash "$prefix/share/bash-completion/completions/cloudron-audit" >"$dest/bash.out" 2>&1 \
    || { cat "$dest/bash.out" >&2; fail "the bash completion does not load"; }
grep -qx sync "$dest/bash.out" || fail "the bash completion does not complete 'sy' to 'sync': $(cat "$dest/bash.out")"
zsh -n "$prefix/share/zsh/site-functions/_cloudron-audit" || fail "the zsh completion does not parse"
head -1 "$prefix/share/zsh/site-functions/_cloudron-audit" | grep -q '^#compdef cloudron-audit' \
    || fail "the zsh completion does not declare #compdef cloudron-audit"
grep -q -- "complete -c 'cloudron-audit'\|complete -c cloudron-audit" "$prefix/share/fish/vendor_completions.d/cloudron-audit.fish" \
    || fail "the fish completion does not complete cloudron-audit"

# The man page: rendered by man-db from the file, and found by name under the prefix's man folder.
rendered="$(MANWIDTH=100 man -l "$prefix/share/man/man1/cloudron-audit.1" 2>"$dest/man.err")" \
    || { cat "$dest/man.err" >&2; fail "man -l cannot render the page"; }
[ ! -s "$dest/man.err" ] || fail "man -l warns: $(cat "$dest/man.err")"
for expected in NAME SYNOPSIS "cloudron-audit" "Archive a Cloudron server" sync verify report; do
    grep -q -- "$expected" <<<"$rendered" || fail "the rendered man page lacks '$expected'"
done
byname="$(MANPATH="$prefix/share/man" MANWIDTH=100 man cloudron-audit 2>&1)" || fail "man cloudron-audit: $byname"
[ "$byname" = "$rendered" ] || fail "man cloudron-audit does not show the installed page"
echo "install check: make install (INSTALL_BUILD=${INSTALL_BUILD:-debug}) into a DESTDIR: binary $version, completions, man page: ok"
