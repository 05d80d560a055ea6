# nbgrader settings of an instructor's server: the course folder is ~/course (a copy of the
# repository's exercises/source and exercises/nbgrader_config.py), or $NETPOL_COURSE_DIR.
import os

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.root = os.environ.get("NETPOL_COURSE_DIR", os.path.expanduser("~/course"))
