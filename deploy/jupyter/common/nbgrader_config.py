# nbgrader settings shared by every user of the classroom (learners and instructors).
# The exchange is one folder every user can reach; nbgrader keeps learners apart there by
# Unix permissions, so each user must run under a Unix user id of their own (docs/classroom.md).
import os

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "netpol-lab"
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
