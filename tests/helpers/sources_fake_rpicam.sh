#!/bin/sh
# A stand-in for rpicam-vid / libcamera-vid in tests. It records its name and
# arguments (one per line) in $FAKE_CAMERA_DIR/run.<pid>, then writes raw
# JPEGs to stdout with ffmpeg at the requested size and rate, like
# `rpicam-vid --codec mjpeg -o -`. With FAKE_CAMERA_CRASH_AFTER=N it writes N
# frames, says so on stderr and exits with status 3, like a camera that fails.
dir="${FAKE_CAMERA_DIR:?FAKE_CAMERA_DIR must be set}"
{ basename "$0"; for a in "$@"; do printf '%s\n' "$a"; done; } > "$dir/run.$$"
width=640; height=480; rate=30
while [ $# -gt 0 ]; do
  case "$1" in
    --width) width="$2"; shift ;;
    --height) height="$2"; shift ;;
    --framerate) rate="$2"; shift ;;
  esac
  shift
done
limit=""
if [ -n "${FAKE_CAMERA_CRASH_AFTER:-}" ]; then limit="-frames:v $FAKE_CAMERA_CRASH_AFTER"; fi
# shellcheck disable=SC2086
ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i "testsrc=size=${width}x${height}:rate=${rate}" \
  $limit -f mjpeg -q:v 5 - || exit $?
if [ -n "$limit" ]; then
  echo "fake camera: sensor timeout after $FAKE_CAMERA_CRASH_AFTER frames" >&2
  exit 3
fi
