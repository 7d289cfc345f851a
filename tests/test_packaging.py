"""The JupyterHub image, the conda environment and the hub example, tested without Docker.

There is no Docker engine in CI, so the Dockerfile is checked statically (what each
target copies, which requirement files it installs, what the build context lets
through), and the script the Dockerfile RUNs to configure nbgrader's extensions is run
for real against a throwaway prefix that borrows .venv's packages (seconds, not a
second 3 GB install) and leaves .venv's own Jupyter settings untouched.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from traitlets.config import Config

from tests.conftest import REPO_ROOT
from tests.environments import INSTALL_SCRIPT, Environment, run_install

DOCKERFILE = REPO_ROOT / "Dockerfile"
PRIVATE_PATHS = ("solutions", "autograder", "nbgrader_config.py", "gradebook.db", "results")
INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)\s*==\s*([^;\s]+)\s*(;.*)?$")


# ---------------------------------------------------------------------------------------
# Dockerfile, statically


def _dockerfile_stages() -> dict[str, dict]:
    """Each stage: its parent and its instructions (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: dict[str, dict] = {"(global)": {"parent": None, "instructions": []}}
    current = "(global)"
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            match = re.match(r"(\S+)\s+AS\s+(\S+)", arguments, re.IGNORECASE)
            assert match, f"every stage is named: {line}"
            current = match.group(2)
            stages[current] = {"parent": match.group(1), "instructions": []}
        else:
            stages[current]["instructions"].append((instruction.upper(), arguments.strip()))
    del stages["(global)"]
    return stages


def _lineage(stages: dict[str, dict], name: str) -> list[str]:
    chain = [name]
    while stages[chain[-1]]["parent"] in stages:
        chain.append(stages[chain[-1]]["parent"])
    return chain


def _copied_sources(stages: dict[str, dict], name: str) -> list[str]:
    """Every path the stage (and the stages it builds on) copies from the context."""
    sources = []
    for stage in _lineage(stages, name):
        for instruction, arguments in stages[stage]["instructions"]:
            if instruction in ("COPY", "ADD"):
                words = [word for word in arguments.split() if not word.startswith("--")]
                sources += [word.rstrip("/") for word in words[:-1]]
    return sources


def _runs(stages: dict[str, dict], name: str) -> list[str]:
    return [
        arguments
        for stage in _lineage(stages, name)
        for instruction, arguments in stages[stage]["instructions"]
        if instruction == "RUN"
    ]


def _in_build_context(relative_path: str) -> bool:
    """Whether .dockerignore lets a file into the build context (last match wins)."""
    included = True
    for pattern in (REPO_ROOT / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = relative_path.split("/")
        prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
        if pattern.startswith("**/"):
            matched = any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
        else:
            matched = any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes)
        if matched:
            included = negated
    return included


def test_dockerfile_has_a_student_default_and_an_instructor_target() -> None:
    stages = _dockerfile_stages()
    assert list(stages)[-1] == "student", "the default target (the last stage) is the student"
    assert "instructor" in stages
    for target in ("student", "instructor"):
        assert "base" in _lineage(stages, target)
        instructions = [
            instruction for stage in [target] for instruction, _ in stages[stage]["instructions"]
        ]
        assert "USER" in instructions, f"the {target} image must not run as root"
        assert any(f"docker/install.sh {target}" in run for run in _runs(stages, target))


def test_student_image_copies_nothing_private() -> None:
    stages = _dockerfile_stages()
    student_sources = _copied_sources(stages, "student")
    assert "mlpkit" in student_sources and "requirements.txt" in student_sources
    for source in student_sources:
        assert source != ".", "copying the whole context would ship the solutions"
        for private in PRIVATE_PATHS:
            assert not source.startswith(private), f"the student image copies {source}"
    assert "autograder" in _copied_sources(stages, "instructor")


def test_build_context_keeps_solutions_out_and_lets_copied_files_in() -> None:
    stages = _dockerfile_stages()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for path in tracked:
        if path.startswith(("solutions/", "results/")) or path == "gradebook.db":
            assert not _in_build_context(path), f"{path} reaches the Docker build context"
    for source in set(_copied_sources(stages, "instructor") + _copied_sources(stages, "student")):
        assert (REPO_ROOT / source).exists(), f"COPY {source}: no such path"
        assert _in_build_context(source), f"COPY {source}, but .dockerignore excludes it"


def test_both_images_install_the_one_pinned_set() -> None:
    """The image's pip install is requirements.txt itself plus jupyterhub, nothing else."""
    stages = _dockerfile_stages()
    for target in ("student", "instructor"):
        runs = " ".join(_runs(stages, target))
        assert "docker/install.sh packages" in runs
        assert "pip install" not in runs, "install only through docker/install.sh"
    script = INSTALL_SCRIPT.read_text()
    pip_lines = [line for line in script.splitlines() if "pip install" in line and "#" not in line]
    assert len(pip_lines) == 2, pip_lines
    assert '-r "$here/requirements-image.txt"' in script
    image_requirements = (REPO_ROOT / "docker" / "requirements-image.txt").read_text()
    lines = [line.split("#")[0].strip() for line in image_requirements.splitlines() if line.strip()]
    lines = [line for line in lines if line]
    assert "-r ../requirements.txt" in lines
    pinned = _pins(REPO_ROOT / "requirements.txt")
    for line in lines:
        if line.startswith("-r"):
            continue
        match = REQUIREMENT.match(line)
        assert match, f"docker/requirements-image.txt: not an exact pin: {line}"
        assert match.group(1).lower() not in pinned, f"{line} overrides requirements.txt"
    python_version = re.search(r"ARG PYTHON_VERSION=(\S+)", DOCKERFILE.read_text()).group(1)
    assert python_version == _environment_python()


# ---------------------------------------------------------------------------------------
# docker/install.sh, for real, in a throwaway prefix over .venv's packages


def _server_extensions(prefix: Path) -> dict[str, bool]:
    """The effective jpserver_extensions of the prefix (config.d files in name order)."""
    merged: dict[str, bool] = {}
    folder = prefix / "etc" / "jupyter" / "jupyter_server_config.d"
    for path in sorted(folder.glob("*.json")):
        merged.update(json.loads(path.read_text())["ServerApp"]["jpserver_extensions"])
    return merged


def test_install_script_locks_the_student_image(
    installed_environments: dict[str, Environment],
) -> None:
    student = installed_environments["student"]
    assert student.install.returncode == 0, student.install.stdout + student.install.stderr
    assert "student environment verified" in student.install.stdout
    assert "no grader, rubric or solutions in" in student.install.stdout
    settings_folder = student.prefix / "etc" / "jupyter"
    exchange_settings = (settings_folder / "nbgrader_config.py").read_text()
    assert exchange_settings == (REPO_ROOT / "docker" / "nbgrader_config.py").read_text()
    settings = json.loads((settings_folder / "labconfig" / "page_config.json").read_text())
    for plugin in INSTRUCTOR_PLUGINS:
        assert settings["disabledExtensions"][plugin] is True
        assert settings["lockedExtensions"][plugin] is True
    for plugin in ("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"):
        assert settings["disabledExtensions"].get(plugin) is not True
    extensions = _server_extensions(student.prefix)
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert extensions["nbgrader.server_extensions.course_list"] is False
    assert extensions["nbgrader.server_extensions.assignment_list"] is True
    assert extensions["nbgrader.server_extensions.validate_assignment"] is True


def test_install_script_verifies_the_instructor_image_by_grading(
    installed_environments: dict[str, Environment],
) -> None:
    """Given the course, the instructor step generates the release and grades notebook 01."""
    instructor = installed_environments["instructor"]
    output = instructor.install.stdout
    assert instructor.install.returncode == 0, output + instructor.install.stderr
    assert "instructor environment verified" in output
    assert "generated the release: 5 notebooks, no solutions" in output
    assert re.search(r"graded the sample submission: reference (\S+)/\1", output), output
    assert all(_server_extensions(instructor.prefix).values())


def test_install_script_changes_nothing_outside_its_prefix(
    installed_environments: dict[str, Environment],
) -> None:
    """Neither .venv's own Jupyter settings nor the course's release and gradebook."""
    assert installed_environments["instructor"].changed_outside == []


def test_student_check_fails_when_the_grader_is_importable() -> None:
    """The student step's absence check is real: a reachable grader is reported."""
    completed = subprocess.run(
        [
            sys.executable,
            "-P",
            str(INSTALL_SCRIPT.parent / "check_environment.py"),
            "student-absent",
        ],
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    assert "error: the student environment imports the grader" in completed.stderr


@pytest.mark.parametrize("role", ["course", "check-course", "instructor"])
def test_install_script_refuses_a_folder_without_nbgrader_config(tmp_path: Path, role: str) -> None:
    not_a_course = tmp_path / "not-a-course"
    not_a_course.mkdir()
    # No interpreter at all: the refusal must come before the script touches anything.
    completed = run_install(tmp_path / "no-prefix", role, tmp_path, str(not_a_course))
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stderr.strip() == (
        f"error: {not_a_course} is not a course directory: it has no nbgrader_config.py. "
        "Pass the course repository's root (the folder with nbgrader_config.py, solutions/ "
        "and autograder/)."
    )


def test_install_script_rejects_an_unknown_role(tmp_path: Path) -> None:
    completed = subprocess.run(
        ["bash", str(INSTALL_SCRIPT), "teacher"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 2
    assert "packages|student|instructor [COURSE_DIR]|course COURSE_DIR" in completed.stderr


# ---------------------------------------------------------------------------------------
# environment.yml


def _pins(path: Path) -> dict[str, str]:
    """Exact pins of a requirements file, following -r includes (markers kept)."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            pins.update(_pins(path.parent / line[2:].strip()))
            continue
        match = REQUIREMENT.match(line)
        assert match, f"{path.name}: not an exact pin: {line}"
        key = match.group(1).lower() + (f" ;{match.group(3)[1:]}" if match.group(3) else "")
        pins[key] = match.group(2)
    return pins


def _environment() -> dict:
    return yaml.safe_load((REPO_ROOT / "environment.yml").read_text())


def _environment_python() -> str:
    for dependency in _environment()["dependencies"]:
        if isinstance(dependency, str) and dependency.startswith("python"):
            return dependency.split("=", 1)[1]
    raise AssertionError("environment.yml pins no python")


def test_environment_yml_installs_exactly_the_pinned_set(tmp_path: Path) -> None:
    environment = _environment()
    conda_packages = [item for item in environment["dependencies"] if isinstance(item, str)]
    pip_sections = [item["pip"] for item in environment["dependencies"] if isinstance(item, dict)]
    assert len(pip_sections) == 1
    assert _environment_python() == "3.11", "CI verified the pinned set on Python 3.11"
    # Conda installs the interpreter and pip only: any other conda package could
    # resolve to a version the pinned set was not verified with.
    assert sorted(package.split("=")[0] for package in conda_packages) == ["pip", "python"]
    # The pip section, resolved as conda resolves it (relative to the file), must pin
    # exactly what requirements.txt pins.
    pip_requirements = tmp_path / "from-environment.txt"
    pip_requirements.write_text(
        "\n".join(
            line.replace("-r ", f"-r {REPO_ROOT}/")
            for line in pip_sections[0]
            if not line.startswith("-e")
        )
    )
    assert _pins(pip_requirements) == _pins(REPO_ROOT / "requirements.txt")
    assert "-e ." in pip_sections[0], "the environment installs mlpkit itself"


# ---------------------------------------------------------------------------------------
# deploy/jupyterhub_config.py


def _load_hub_config() -> Config:
    config = Config()
    namespace = {"get_config": lambda: config, "__file__": "jupyterhub_config.py"}
    exec(
        compile(
            (REPO_ROOT / "deploy" / "jupyterhub_config.py").read_text(),
            "jupyterhub_config.py",
            "exec",
        ),
        namespace,
    )  # noqa: S102
    return config


def _profiles_for(config: Config, *groups: str) -> list[dict]:
    user = SimpleNamespace(groups=[SimpleNamespace(name=group) for group in groups])
    return config.KubeSpawner.profile_list(SimpleNamespace(user=user))


def test_hub_example_limits_resources_and_offers_a_gpu_profile() -> None:
    config = _load_hub_config()
    assert config.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert config.KubeSpawner.cpu_limit == 2 and config.KubeSpawner.mem_limit == "4G"
    student_profiles = _profiles_for(config)
    slugs = [profile["slug"] for profile in student_profiles]
    assert slugs == ["cpu", "gpu"], "students get the CPU and GPU profiles only"
    assert sum(bool(profile.get("default")) for profile in student_profiles) == 1
    gpu = student_profiles[1]["kubespawner_override"]
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert gpu["environment"]["MLPKIT_PROFILE"] == "full"
    assert (
        gpu["environment"]["FASHION_MNIST_DIR"]
        == config.KubeSpawner.environment["FASHION_MNIST_DIR"]
    )
    assert gpu["cpu_limit"] and gpu["mem_limit"]
    instructor = _profiles_for(config, "instructors")[-1]
    assert instructor["slug"] == "instructor"
    assert "instructor" in instructor["kubespawner_override"]["image"]


def test_hub_exchange_is_where_the_images_nbgrader_looks() -> None:
    config = _load_hub_config()
    image_config = Config()
    exec(  # noqa: S102
        (REPO_ROOT / "docker" / "nbgrader_config.py").read_text(),
        {"get_config": lambda: image_config},
    )
    exchange = image_config.Exchange.root
    mounts = {mount["mountPath"] for mount in config.KubeSpawner.volume_mounts}
    assert exchange in mounts, f"the hub does not mount the exchange at {exchange}"
    assert config.KubeSpawner.environment["MLPKIT_EXCHANGE_ROOT"] == exchange
    assert any(exchange in " ".join(init["command"]) for init in config.KubeSpawner.init_containers)


def test_hub_example_gives_every_user_a_uid_of_their_own() -> None:
    """nbgrader's exchange keeps submissions apart by owner: one shared uid would not."""
    config = _load_hub_config()
    uid = config.KubeSpawner.uid
    assert callable(uid), "a single uid for every pod lets students list each other's work"
    uids = [uid(SimpleNamespace(user=SimpleNamespace(id=user_id))) for user_id in (1, 2, 3)]
    assert len(set(uids)) == 3 and 1000 not in uids, uids
    assert config.KubeSpawner.environment["HOME"] == "/home/jovyan"


def test_instructor_image_installs_the_graders_sandbox() -> None:
    """The instructor image grades, so it installs bubblewrap as ./kit's set-up does."""
    stages = _dockerfile_stages()
    assert any("bubblewrap" in run for run in _runs(stages, "instructor"))
    assert not any("bubblewrap" in run for run in _runs(stages, "student"))
    assert "bubblewrap" in (REPO_ROOT / "tools" / "prerequisites").read_text()
