#!/usr/bin/env bash
# Install, configure and verify the course's Jupyter environments. The Dockerfile RUNs
# this script, CI runs its student and instructor steps (tests/test_packaging.py) and
# the JupyterHub test builds its environments with it (tests/hub), so what the images
# run is what was tested.
#
#   docker/install.sh packages|student|instructor [COURSE_DIR]|course COURSE_DIR|check-course COURSE_DIR
#
#   packages      pip install the one pinned set (requirements.txt, through
#                 docker/requirements-image.txt, which adds jupyterhub) and mlpkit itself
#   student       JupyterLab 4 with nbgrader's assignment list and validate button; the
#                 formgrader, create-assignment and course-list plugins disabled and
#                 locked, their server extensions disabled; nbgrader's exchange settings
#                 (docker/nbgrader_config.py). Verifies the grading side is absent: no
#                 importable grader, no rubric, no solution notebook
#   instructor    every nbgrader plugin and server extension (nbgrader's defaults), the
#                 exchange settings; verifies them and that the grader beside this
#                 script imports. With COURSE_DIR, also check-course COURSE_DIR
#   course        run as the instructor: ~/.jupyter/nbgrader_config.py loads
#                 COURSE_DIR/nbgrader_config.py, so the formgrader (which starts in the
#                 home folder) and every nbgrader command find the course and its
#                 gradebook wherever they start
#   check-course  the instructor environment does the work: nbgrader generate_assignment
#                 and `python -m autograder grade` of one sample submission (the reference
#                 notebook 01), in a throwaway copy of COURSE_DIR; changes nothing
#
# student and instructor set up the environment of PYTHON (default python3). The
# settings go to that environment's prefix (--level=sys_prefix, --sys-prefix): in the
# image that is /usr/local, which is also the system level every user reads, and it
# is where pip put nbgrader's own server-extension config, which `jupyter server
# extension disable` refuses to touch at any other level ("could not be found").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

role=${1:-}
course_dir=${2:-}
usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//' >&2; }
case "$role" in
    packages | student) [ $# -eq 1 ] || { usage && exit 2; } ;;
    instructor) [ $# -le 2 ] || { usage && exit 2; } ;;
    course | check-course) [ $# -eq 2 ] || { usage && exit 2; } ;;
    *) usage && exit 2 ;;
esac
assignment=mlp-fashion-mnist
sample_notebook=01-data-exploration.ipynb

# The course directory: the private repository's root, which holds nbgrader_config.py.
course_root() {
    if [ ! -f "$1/nbgrader_config.py" ]; then
        echo "error: $1 is not a course directory: it has no nbgrader_config.py. Pass the" \
            "course repository's root (the folder with nbgrader_config.py, solutions/ and" \
            "autograder/)." >&2
        exit 2
    fi
    (cd "$1" && pwd)
}

# A wrong course directory is refused before anything is installed or written.
[ -z "$course_dir" ] || course_root "$course_dir" >/dev/null
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
    echo "error: no Python at '$python': set PYTHON to the environment's interpreter." >&2
    exit 2
fi
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

if [ "$role" = course ]; then
    root=$(course_root "$course_dir")
    config_dir=${JUPYTER_CONFIG_DIR:-$HOME/.jupyter}
    user_config=$config_dir/nbgrader_config.py
    marker="# Written by mlpkit's docker/install.sh course"
    if [ -f "$user_config" ] && ! grep -qF "$marker" "$user_config"; then
        echo "error: $user_config exists and was not written by docker/install.sh; add this" \
            "line to it instead: load_subconfig(\"$root/nbgrader_config.py\")" >&2
        exit 1
    fi
    mkdir -p "$config_dir"
    cat >"$user_config" <<EOF
$marker $root
# nbgrader reads this file wherever it starts (the formgrader starts in the home folder),
# so it always finds the course, its solutions and its gradebook (no ~/gradebook.db).
load_subconfig("$root/nbgrader_config.py")
EOF
    echo "docker/install.sh: nbgrader loads $root/nbgrader_config.py (from $user_config)"
    exit 0
fi

# Generate the release and grade the reference notebook 01, in a throwaway copy.
check_course() {
    local root
    root=$(course_root "$1")
    if [ -z "${FASHION_MNIST_DIR:-}" ]; then
        echo "error: check-course grades a sample submission: set FASHION_MNIST_DIR to the" \
            "folder with the four Fashion-MNIST IDX files." >&2
        exit 2
    fi
    work=$(mktemp -d) # global: the EXIT trap removes it
    trap 'rm -rf "$work"' EXIT
    mkdir "$work/course" "$work/reference"
    tar -C "$root" --exclude=./.git --exclude=./.venv --exclude=node_modules \
        --exclude=__pycache__ --exclude=./results --exclude=./site --exclude=./gradebook.db \
        --exclude=./submitted --exclude=./autograded --exclude=./feedback -cf - . |
        tar -C "$work/course" -xf -
    (cd "$work/course" && env -u MLPKIT_GRADEBOOK_URL "$python_bin/nbgrader" \
        generate_assignment "$assignment" --force --log-level=WARN)
    "$python" -P "$here/check_environment.py" release \
        "$work/course/solutions/$assignment" "$work/course/assignments/$assignment"
    cp "$work/course/solutions/$assignment/$sample_notebook" "$work/reference/"
    (cd "$work/course" && "$python" -m autograder grade "$work/reference" \
        --notebook "$sample_notebook" --output "$work/graded" --no-progress >/dev/null)
    "$python" -P "$here/check_environment.py" graded "$work/graded/grades.csv"
}

if [ "$role" = check-course ]; then
    check_course "$course_dir"
    echo "docker/install.sh: the environment generates and grades the course in $course_dir"
    exit 0
fi
# nbgrader's settings for every user of the environment: the course id and the exchange.
prefix=$("$python" -c 'import sys; print(sys.prefix)')
install -D -m 644 "$here/nbgrader_config.py" "$prefix/etc/jupyter/nbgrader_config.py"

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
if [ "$role" = student ]; then
    (cd / && "$python" -P "$here/check_environment.py" student-absent) || exit 1
else
    # What nbgrader_config.py imports: the grader and every package it needs.
    if ! failure=$(cd / && PYTHONPATH="$here/.." "$python" -c \
        'import autograder.export.nbgrader, autograder.grade.core' 2>&1); then
        echo "error: the instructor environment cannot import the grader" \
            "($here/../autograder): $(echo "$failure" | tail -n 1). Install the pinned set" \
            "(docker/install.sh packages)." >&2
        exit 1
    fi
    [ -z "$course_dir" ] || check_course "$course_dir"
fi
echo "docker/install.sh: $role environment verified ($prefix)"
