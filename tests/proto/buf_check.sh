#!/usr/bin/env bash
# buf lint (STANDARD, proto/buf.yaml) and buf breaking against the committed baseline image of
# the released API (proto/baseline/v1.binpb); any finding fails. Then a self-check: a copy of
# proto/ with one field renamed must be reported as breaking, so a silent buf (a wrong path, an
# empty module) cannot pass.
#
# Updating the baseline on a release (after lint and breaking pass against the old one):
#   cd proto && npx --yes @bufbuild/buf build -o baseline/v1.binpb && git add baseline/v1.binpb
#
# Usage: tests/proto/buf_check.sh <source dir>
set -euo pipefail
source_dir=${1:?usage: buf_check.sh SOURCE_DIR}
buf=(npx --yes @bufbuild/buf)
if ! command -v npx >/dev/null; then
  echo "npx not found: install nodejs/npm (buf ships as the npm package @bufbuild/buf)" >&2
  exit 1
fi
cd "$source_dir/proto"
echo "== buf lint"
"${buf[@]}" lint
echo "== buf breaking against baseline/v1.binpb"
"${buf[@]}" breaking --against baseline/v1.binpb

echo "== self-check: a renamed field is breaking"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r . "$scratch/proto"
# PayloadInfo.sha256 is on every job's header; renaming it breaks JSON and generated code.
sed -i 's/^\(\s*string \)sha256\( = 2;\)/\1sha256_renamed\2/' "$scratch/proto/workerpair/v1/heavy.proto"
if cmp -s workerpair/v1/heavy.proto "$scratch/proto/workerpair/v1/heavy.proto"; then
  echo "self-check could not rename PayloadInfo.sha256 in heavy.proto; update this script" >&2
  exit 1
fi
if (cd "$scratch/proto" && "${buf[@]}" breaking --against baseline/v1.binpb >"$scratch/out" 2>&1); then
  echo "buf breaking accepted a renamed field: the check is not working" >&2
  exit 1
fi
grep -q 'sha256' "$scratch/out" || { cat "$scratch/out" >&2; exit 1; }
echo "buf lint and buf breaking: clean"
