#!/bin/sh
# netpol-grade ASSIGNMENT [COURSE]: the instructor's whole grading round, without formgrader.
#
#   collect -> autograde (sandboxed, no learner code runs) -> generate and release feedback
#   -> export grades-ASSIGNMENT.csv
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
nbgrader collect --update "$assignment"
echo "== autograde $assignment"
python -m autograder.classroom autograde "$assignment" --course "$course" $execute
echo "== feedback $assignment"
nbgrader generate_feedback "$assignment"
nbgrader release_feedback "$assignment"
echo "== export grades-$assignment.csv"
nbgrader export --to "grades-$assignment.csv" --assignment "$assignment"
