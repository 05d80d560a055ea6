#!/bin/sh
# netpol-grade ASSIGNMENT [COURSE]: the instructor's whole grading round, without formgrader.
#
#   safe collect -> autograde (sandboxed, no learner code runs) -> generate and release
#   feedback -> export grades-ASSIGNMENT.csv
#
# The collect is `python -m autograder.classroom collect`, not `nbgrader collect`: it refuses a
# hand-in whose folder is not owned by the learner it names (docs/nbgrader.md). Refused or
# flagged hand-ins do not stop the round: the others are graded, and the script ends with
# status 1 after saying so (0: all clean; 2: usage or an unusable course/exchange).
#
# COURSE defaults to $NETPOL_COURSE_DIR, else ~/course. Run it as the instructor (their Unix
# user, or the Kubernetes Job of deploy/kubernetes/grading-job.yaml), with the classroom's
# environment on PATH and NBGRADER_EXCHANGE naming the shared exchange.
# NETPOL_GRADE_EXECUTE=1 also runs each learner's notebook in a throw-away copy to show their
# own outputs in the feedback (python -m autograder.classroom autograde; grades are the same).
set -eu
if [ $# -lt 1 ]; then
  echo "usage: netpol-grade ASSIGNMENT [COURSE]" >&2
  exit 2
fi
assignment=$1
course=${2:-${NETPOL_COURSE_DIR:-$HOME/course}}
cd "$course"
execute=--no-execute
if [ "${NETPOL_GRADE_EXECUTE:-0}" = 1 ]; then execute=; fi

echo "== collect $assignment"
collected=0
python -m autograder.classroom collect "$assignment" --course "$course" \
  ${NBGRADER_EXCHANGE:+--exchange "$NBGRADER_EXCHANGE"} || collected=$?
if [ "$collected" -gt 1 ]; then exit "$collected"; fi
echo "== autograde $assignment"
python -m autograder.classroom autograde "$assignment" --course "$course" $execute
echo "== feedback $assignment"
nbgrader generate_feedback "$assignment"
nbgrader release_feedback "$assignment"
echo "== export grades-$assignment.csv"
nbgrader export --to "grades-$assignment.csv" --assignment "$assignment"
if [ "$collected" -ne 0 ]; then
  echo "ATTENTION: collect refused or flagged hand-ins (REFUSED/FLAGGED lines above)"
  exit 1
fi
