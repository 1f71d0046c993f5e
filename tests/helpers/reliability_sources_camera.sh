#!/bin/sh
# A scripted stand-in for rpicam-vid in the fault-injection tests. It is
# installed into a temporary directory and run from there; each run takes the
# next number k (file "count"), records "pid.k" (its pid, which also leads its
# process group, and the start time in ms), and follows "plan.k", or
# "plan.default" when there is none, one operation per line:
#   write FILE    copy FILE (relative to this directory) to stdout
#   sleep SECS    wait (fractions allowed)
#   stderr TEXT   write a line to stderr, as a failing camera does
#   stamp NAME    record the time in ms in file NAME.k
#   exit CODE     record the time in "exit.k", then exit with CODE
#   hang          stay alive, write nothing (a hung driver)
#   hang-hard     the same, ignoring SIGINT and SIGTERM (only SIGKILL ends it)
# The plan is read whole before anything is written, so the test may write
# the next run's plan while this one runs.
dir=$(cd "$(dirname "$0")" && pwd)
k=$(cat "$dir/count" 2>/dev/null || echo 0)
echo $((k + 1)) > "$dir/count"
echo "$$ $(date +%s%3N)" > "$dir/pid.$k"
plan="$dir/plan.$k"
[ -f "$plan" ] || plan="$dir/plan.default"
ops=$(cat "$plan")
echo "$ops" | while read -r op arg; do
  case "$op" in
    write) cat "$dir/$arg" || exit 1 ;;
    sleep) sleep "$arg" ;;
    stderr) printf '%s\n' "$arg" >&2 ;;
    stamp) date +%s%3N > "$dir/$arg.$k" ;;
    exit) date +%s%3N > "$dir/exit.$k"; exit "$arg" ;;
    hang) sleep 3600 ;;
    hang-hard) trap '' INT TERM; sleep 3600 ;;
    '') ;;
    *) echo "fake camera: unknown operation $op" >&2; exit 99 ;;
  esac
done
# The loop ran in a subshell (a pipe): its exit status is the plan's.
exit $?
