#!/usr/bin/env bash
# Install and configure the JupyterHub single-user image. The Dockerfile RUNs this
# script, and CI runs its configure and verify steps (tests/test_packaging.py), so
# the image's extension set-up is the one that was tested.
#
#   docker/install.sh packages|student|instructor
#
#   packages    pip install the one pinned set (requirements.txt, through
#               docker/requirements-image.txt, which adds jupyterhub) and mlpkit itself
#   student     JupyterLab 4 with nbgrader's assignment list and validate button; the
#               formgrader, create-assignment and course-list plugins disabled and
#               locked, and the formgrader and course-list server extensions disabled
#   instructor  every nbgrader plugin and server extension enabled (formgrader too):
#               nbgrader's defaults, verified
#
# student and instructor configure and verify an environment that has the pinned set;
# CI runs both against a throwaway prefix over .venv's packages.
#
# PYTHON names the interpreter whose environment is set up (default python3). The
# settings go to that environment's prefix (--level=sys_prefix, --sys-prefix): in the
# image that is /usr/local, which is also the system level every user reads, and it
# is where pip put nbgrader's own server-extension config, which `jupyter server
# extension disable` refuses to touch at any other level ("could not be found").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

role=${1:-}
case "$role" in
    packages | student | instructor) ;;
    *)
        sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
python=${PYTHON:-python3}
# `jupyter SUBCOMMAND` runs jupyter-SUBCOMMAND from PATH: use this environment's.
python_bin=$(dirname "$(command -v "$python")")
export PATH="$python_bin:$PATH"
jupyter() { "$python_bin/jupyter" "$@"; }

# The lab plugins only an instructor uses, and the server extensions behind them.
instructor_plugins=(
    @jupyter/nbgrader:formgrader
    @jupyter/nbgrader:create-assignment
    @jupyter/nbgrader:course-list
)
student_plugins=(@jupyter/nbgrader:assignment-list @jupyter/nbgrader:validate-assignment)
instructor_server_extensions=(
    nbgrader.server_extensions.formgrader
    nbgrader.server_extensions.course_list
)
student_server_extensions=(
    nbgrader.server_extensions.assignment_list
    nbgrader.server_extensions.validate_assignment
)

if [ "$role" = packages ]; then
    "$python" -m pip install --no-cache-dir -r "$here/requirements-image.txt"
    "$python" -m pip install --no-cache-dir --no-deps "$here/.."
    exit 0
fi

# Each stage starts from nbgrader's defaults (every plugin and server extension on):
# the instructor image keeps them, the student image turns the instructor's off.
if [ "$role" = student ]; then
    jupyter labextension disable --level=sys_prefix "${instructor_plugins[@]}"
    jupyter labextension lock --level=sys_prefix "${instructor_plugins[@]}"
    jupyter server extension disable --sys-prefix "${instructor_server_extensions[@]}"
fi

# Verify what the image will run with, from Jupyter's own listings.
strip_colours() { sed 's/\x1b\[[0-9;]*m//g'; }
lab_listing=$(jupyter labextension list 2>&1 | strip_colours)
server_listing=$(jupyter server extension list 2>&1 | strip_colours)
fail() {
    echo "error: $1" >&2
    echo "--- jupyter labextension list" >&2
    echo "$lab_listing" >&2
    echo "--- jupyter server extension list" >&2
    echo "$server_listing" >&2
    exit 1
}
disabled_plugins=$(echo "$lab_listing" | sed -n '/Disabled extensions:/,/^[^ ]/p')
# JupyterLab 4.6 lists locks on the package's line: "... (plugins: A, B locked)".
locked_plugins=$(echo "$lab_listing" | grep -E '@jupyter/nbgrader v.*locked' || true)
for plugin in "${instructor_plugins[@]}"; do
    if [ "$role" = student ]; then
        echo "$disabled_plugins" | grep -q "$plugin" || fail "$plugin is not disabled"
        echo "$locked_plugins" | grep -q "$plugin" || fail "$plugin is not locked"
    else
        echo "$disabled_plugins" | grep -q "$plugin" && fail "$plugin is disabled"
    fi
done
for plugin in "${student_plugins[@]}"; do
    echo "$disabled_plugins" | grep -q "$plugin" && fail "$plugin is disabled"
done
for extension in "${student_server_extensions[@]}"; do
    echo "$server_listing" | grep -Eq "$extension enabled" || fail "$extension is not enabled"
done
for extension in "${instructor_server_extensions[@]}"; do
    if [ "$role" = student ]; then
        echo "$server_listing" | grep -Eq "$extension disabled" || fail "$extension is not disabled"
    else
        echo "$server_listing" | grep -Eq "$extension enabled" || fail "$extension is not enabled"
    fi
done
echo "docker/install.sh: $role environment verified ($("$python" -c 'import sys; print(sys.prefix)'))"
