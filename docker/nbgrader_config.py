"""nbgrader's global configuration inside the images (students and instructors).

Installed as /usr/local/etc/jupyter/nbgrader_config.py, where every nbgrader command
and the JupyterLab assignment list read it. The exchange is the folder the hub mounts
for every user (deploy/jupyterhub_config.py): the instructor releases into it, the
students fetch from it and submit to it.
"""

import os

c = get_config()  # noqa: F821  (nbgrader injects get_config)

c.CourseDirectory.course_id = os.environ.get("MLPKIT_COURSE_ID", "mlpkit")
c.Exchange.root = os.environ.get("MLPKIT_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
