#!/bin/sh
# A stand-in for rpicam-vid / libcamera-vid in tests. It records its name and
# arguments (one per line) in $FAKE_CAMERA_DIR/run.<pid>, then writes raw
# JPEGs to stdout with ffmpeg at the requested size and rate, like
# `rpicam-vid --codec mjpeg -o -`. With FAKE_CAMERA_CRASH_AFTER=N it writes N
# frames, says so on stderr and exits with status 3, like a camera that fails.
#
# With FAKE_CAMERA_FRAMES=DIR it writes DIR's *.jpg files instead, in name
# order and in a loop at the requested rate, so a test knows every byte the
# camera sent; with --camera N it reads DIR/cameraN when that exists, so two
# cameras send different frames, and with --width W --height H it reads
# DIR/WxH when that exists, so a run at another size sends other frames.
#
# With FAKE_CAMERA_EXCLUSIVE=1 it holds the camera as rpicam-vid does: while
# another run of it still holds camera N (a lock on $FAKE_CAMERA_DIR/cameraN.lock,
# kept by every process of the run until the last has exited), it prints
# rpicam-apps' "failed to acquire camera" and exits with status 255.
#
# While the file FAKE_CAMERA_ABSENT names exists, it does what rpicam-vid does
# on a Pi with no camera attached: prints rpicam-apps' message on stderr and
# exits with status 255 (its main() returns -1).
dir="${FAKE_CAMERA_DIR:?FAKE_CAMERA_DIR must be set}"
# Written aside and renamed, so a test that sees run.<pid> sees all of it.
{ basename "$0"; for a in "$@"; do printf '%s\n' "$a"; done; } > "$dir/.run.$$"
mv "$dir/.run.$$" "$dir/run.$$"
if [ -n "${FAKE_CAMERA_ABSENT:-}" ] && [ -e "$FAKE_CAMERA_ABSENT" ]; then
  echo "ERROR: *** no cameras available ***" >&2
  exit 255
fi
width=640; height=480; rate=30; camera=0
while [ $# -gt 0 ]; do
  case "$1" in
    --width) width="$2"; shift ;;
    --height) height="$2"; shift ;;
    --framerate) rate="$2"; shift ;;
    --camera) camera="$2"; shift ;;
  esac
  shift
done
if [ "${FAKE_CAMERA_EXCLUSIVE:-}" = 1 ]; then
  exec 9>"$dir/camera$camera.lock"
  if ! flock -n 9; then
    echo "ERROR: *** failed to acquire camera /base/soc/i2c0mux/i2c@1/imx708@1a ***" >&2
    exit 255
  fi
fi
if [ -n "${FAKE_CAMERA_FRAMES:-}" ]; then
  frames="$FAKE_CAMERA_FRAMES"
  [ -d "$frames/camera$camera" ] && frames="$frames/camera$camera"
  [ -d "$frames/${width}x$height" ] && frames="$frames/${width}x$height"
  pause=$(awk "BEGIN { print 1 / $rate }")
  while :; do
    for f in "$frames"/*.jpg; do
      cat "$f" || exit 1
      sleep "$pause"
    done
  done
fi
limit=""
if [ -n "${FAKE_CAMERA_CRASH_AFTER:-}" ]; then limit="-frames:v $FAKE_CAMERA_CRASH_AFTER"; fi
# shellcheck disable=SC2086
ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i "testsrc=size=${width}x${height}:rate=${rate}" \
  $limit -f mjpeg -q:v 5 - || exit $?
if [ -n "$limit" ]; then
  echo "fake camera: sensor timeout after $FAKE_CAMERA_CRASH_AFTER frames" >&2
  exit 3
fi
