# nbgrader configuration of the netpol-lab course (run nbgrader from this directory).
#
# Security design (docs/nbgrader.md): `nbgrader autograde` runs NO learner code here.
# The stock `Execute` preprocessor is replaced by autograder.classroom.SandboxGrades, which
# grades the text of each answer cell in a resource-limited child process and writes the
# verdict as the test cell's outputs; nbgrader's SaveAutoGrades then stores that score.
# What to grade and the points come from the gradebook; a grade cell without a verdict
# scores 0 with a note (fail closed).
# To also show the learners' own cell outputs in the feedback, use
# `python -m autograder.classroom autograde ASSIGNMENT` (kernels sealed off in bubblewrap).
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from autograder.classroom import SandboxGrades
from autograder.nbsanitize import SanitizeCells

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "netpol-lab"

# Released answer cells read  answer = r"""  <this comment>  """  (tools/build_exercises.py).
c.ClearSolutions.code_stub = {
    "python": "# Write your answer (YAML) on the lines below, before the closing quotes."
}

# A deleted test cell is put back from the gradebook (its score is the sandbox's anyway).
c.OverwriteCells.add_missing_cells = True

# Copy-pasted cells (two cells with one grade id) are resolved first, keeping the copy the
# learner answered in; nbgrader's DeduplicateIds alone would keep the last copy, answered or not.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    SanitizeCells,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]

c.Autograde.autograde_preprocessors = [
    SandboxGrades,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.SandboxGrades.timeout = 20
c.SandboxGrades.memory_mb = 1024

# nbgrader's Execute is never used (learner kernels run only in
# `python -m autograder.classroom autograde`, with its own --cell-timeout).
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True
