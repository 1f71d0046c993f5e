#!/bin/sh
# A stand-in for rpicam-hello / libcamera-hello in tests. It records its name
# and arguments (one per line) in $FAKE_CAMERA_DIR/hello.<pid>, then, given
# --list-cameras, prints the file FAKE_CAMERA_LIST names on stdout, as
# rpicam-apps prints its camera list, and exits with status 0 (it does so
# for "No cameras available!" too).
dir="${FAKE_CAMERA_DIR:?FAKE_CAMERA_DIR must be set}"
{ basename "$0"; for a in "$@"; do printf '%s\n' "$a"; done; } > "$dir/hello.$$"
[ "$1" = "--list-cameras" ] || { echo "fake rpicam-hello: expected --list-cameras" >&2; exit 1; }
cat "${FAKE_CAMERA_LIST:?FAKE_CAMERA_LIST must be set}"
