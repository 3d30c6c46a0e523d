#!/usr/bin/env bash
# The main job: set up, start worker-light on loopback, and drive it with the controller CLI.
# (The end-to-end demo with worker-heavy replaces this as the controller's flow lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
LIGHT="$BUILD_DIR/services/light/worker-light"
CTL="$BUILD_DIR/services/controller/controller"

run_dir=$(mktemp -d /tmp/workerpair-demo-XXXXXX)
cleanup() {
  [[ -n "${light_pid:-}" ]] && kill -TERM "$light_pid" 2>/dev/null && wait "$light_pid" || true
  rm -rf "$run_dir"
}
trap cleanup EXIT

"$LIGHT" --root="$run_dir/workspaces" --listen=127.0.0.1:0 --port_file="$run_dir/light.port" \
  --log_level=warn &
light_pid=$!
for _ in $(seq 100); do [[ -s "$run_dir/light.port" ]] && break; sleep 0.1; done
export WORKERPAIR_LIGHT="127.0.0.1:$(cat "$run_dir/light.port")"
echo "== worker-light listening on $WORKERPAIR_LIGHT"

step() { echo; echo "\$ controller $*"; "$CTL" "$@"; }
step ping
step ws create demo
scene='<mujoco model="ramp">
  <worldbody>
    <geom name="floor" type="plane" size="5 5 0.1"/>
    <body name="ball" pos="0 0 1"><freejoint/><geom type="sphere" size="0.1"/></body>
    <site name="zone_goal_bin" pos="2 0 0.1" size="0.2 0.2 0.1" type="box"/>
  </worldbody>
</mujoco>'
echo; echo "\$ controller write demo scenes/ramp.xml < scene"
"$CTL" write demo scenes/ramp.xml <<<"$scene"
step ls demo --recursive
step grep demo 'zone_(goal|forbid)\w*'
step edit demo scenes/ramp.xml 'pos="0 0 1"' 'pos="0 0 1.5"'
step cat demo scenes/ramp.xml --lines=4:1
echo; echo "\$ controller cat demo ../../etc/passwd   # escapes are refused"
"$CTL" cat demo ../../etc/passwd || echo "(exit code $?)"
echo; echo "== demo finished; worker-light shuts down cleanly"
