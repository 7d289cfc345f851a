# syntax=docker/dockerfile:1
# JupyterHub single-user images of the course, one pinned set, two targets:
#
#   docker build -t mlpkit-student .                          # default: the student image
#   docker build --target instructor -t mlpkit-instructor .
#
# Base: python:3.11-slim (Debian 12), not a conda-based Jupyter image, so the image
# installs exactly what CI installs: `pip install -r requirements.txt` on CPython 3.11
# (the interpreter CI verified), with no second package manager to disagree with the
# pins. jupyterhub-singleuser comes from docker/requirements-image.txt.
# Everything is installed and configured by docker/install.sh, which CI also runs.
# The student target copies only public files: no solutions/, no autograder/
# (.dockerignore keeps solutions/ out of the build context altogether).

ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm AS base
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    MLPKIT_PROFILE=class \
    MLPKIT_TORCH_THREADS=1 \
    MLPKIT_SWEEPS_DIR=/opt/mlpkit/sweeps \
    TF_CPP_MIN_LOG_LEVEL=2
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 --shell /bin/bash jovyan
WORKDIR /opt/mlpkit
# Public files only: the pinned set, the helper library, the chosen configs.
COPY requirements.txt pyproject.toml README.md ./
COPY docker/ ./docker/
COPY mlpkit/ ./mlpkit/
COPY sweeps/ ./sweeps/
RUN docker/install.sh packages

# Instructors and TAs: formgrader, create-assignment, course list, and the hidden
# checks (python -m autograder grade). The course directory itself (solutions/,
# gradebook) is the private repository, mounted or cloned into the home folder.
FROM base AS instructor
# The grader's sandbox runs student code under bubblewrap (/usr/bin/bwrap), as
# tools/prerequisites installs it wherever ./kit grades.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*
COPY autograder/ ./autograder/
ENV PYTHONPATH=/opt/mlpkit
# Configures and verifies the extensions and that the grader imports. The course
# itself (solutions/) never enters the image: check it in a running container with
# docker/install.sh check-course COURSE_DIR (docs/jupyterhub.md).
RUN docker/install.sh instructor
USER jovyan
WORKDIR /home/jovyan
EXPOSE 8888
ENTRYPOINT ["tini", "--"]
CMD ["jupyterhub-singleuser"]

# Students (the default target, last): the assignment list and validate button only.
FROM base AS student
RUN docker/install.sh student
USER jovyan
WORKDIR /home/jovyan
EXPOSE 8888
ENTRYPOINT ["tini", "--"]
CMD ["jupyterhub-singleuser"]
