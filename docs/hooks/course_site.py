"""mkdocs hook: the parts of the course site that are generated from the repository.

Hand-written pages would drift from what they describe, so this hook derives them
at build time from the committed sources:

- one page per student notebook, taken from whatever ``assignments/mlp-fashion-mnist``
  holds (the nbgrader release, never ``solutions/``), added to the nav;
- the points per graded cell, read from the release notebooks' nbgrader metadata;
- the results figures and tables, from ``results/reference-accuracy.json`` beside the
  original exercise's figures (``mlpkit.results.ORIGINAL_RESULTS``);
- the accuracy floors and their calibration, from ``autograder/thresholds.yaml``;
- the API reference, one page per ``mlpkit`` module, from the docstrings
  (``api_pages.py``).

Markdown pages ask for a generated block with a marker such as
``<!-- mlpkit:results-summary -->``; an unknown marker or a missing source file stops
the build with one message naming the file and the command that makes it.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from api_pages import PAGES_DIR as API_PAGES_DIR
from api_pages import SECTIONS as API_SECTIONS
from api_pages import pages as api_pages
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

# mkdocs puts this file's folder on sys.path while it loads the hook (api_pages too).
from results_figures import FIGURES, FRAMEWORKS, mean_sd

from mlpkit.results import FRAMEWORK_LABELS, METRIC_LABELS, ORIGINAL_RESULTS

REPO_ROOT = Path(__file__).resolve().parents[2]
RELEASE_DIR = REPO_ROOT / "assignments" / "mlp-fashion-mnist"
RESULTS_FILE = REPO_ROOT / "results" / "reference-accuracy.json"
THRESHOLDS_FILE = REPO_ROOT / "autograder" / "thresholds.yaml"
NOTEBOOK_PAGES_DIR = RELEASE_DIR.name  # pages at <site>/mlp-fashion-mnist/<notebook>/
NOTEBOOKS_NAV_TITLE = "Notebooks"
API_NAV_TITLE = "API reference"
MARKER = re.compile(r"<!--\s*mlpkit:([a-z-]+)\s*-->")


class SiteSourceError(PluginError):
    """A file the site is generated from is missing or unreadable (one clear message)."""


# ---------------------------------------------------------------------------------------
# Sources


def release_notebooks(release_dir: Path = RELEASE_DIR) -> list[Path]:
    """The student notebooks of the release, in course order (their file names sort so)."""
    notebooks = sorted(release_dir.glob("*.ipynb"))
    if not notebooks:
        raise SiteSourceError(
            f"No student notebooks in {release_dir}. Generate the release first: "
            "nbgrader generate_assignment mlp-fashion-mnist --force"
        )
    return notebooks


def _read_json(path: Path, what: str, fix: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteSourceError(f"The {what} file {path} is missing. {fix}") from None
    except (OSError, json.JSONDecodeError) as error:
        raise SiteSourceError(f"The {what} file {path} cannot be read ({error}). {fix}") from None


def notebook_title(notebook: Path) -> str:
    """The notebook's title: its first heading (what mkdocs-jupyter shows), else its name."""
    content = _read_json(notebook, "release notebook", "Regenerate the release.")
    for cell in content.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return str(content.get("metadata", {}).get("title") or notebook.stem)


def graded_cells(notebook: Path) -> list[dict]:
    """The graded cells of a release notebook: grade_id, points and how they are graded."""
    content = _read_json(notebook, "release notebook", "Regenerate the release.")
    cells = []
    for cell in content.get("cells", []):
        metadata = cell.get("metadata", {}).get("nbgrader", {})
        if metadata.get("grade"):
            manual = bool(metadata.get("solution"))
            cells.append(
                {
                    "grade_id": metadata["grade_id"],
                    "points": metadata.get("points", 0),
                    "how": "by hand (written answer)" if manual else "automatic (hidden checks)",
                }
            )
    return cells


def load_reference_results(path: Path = RESULTS_FILE) -> dict[str, dict]:
    """The full-profile seed study per framework; both frameworks must be present."""
    fix = (
        "It is committed with the repository; regenerate it with "
        "`python -m mlpkit accuracy-study --framework pytorch --profile full` "
        "(and --framework tensorflow)."
    )
    results = _read_json(path, "reference results", fix).get("full", {})
    missing = [framework for framework in FRAMEWORKS if framework not in results]
    if missing:
        raise SiteSourceError(
            f"The reference results file {path} has no full-profile study for "
            f"{', '.join(missing)}. {fix}"
        )
    return results


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict:
    """The calibrated accuracy floors per device class and framework."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteSourceError(
            f"The thresholds file {path} is missing. Calibrate: "
            "python -m autograder.grade.calibrate --device cpu --epochs 3"
        ) from None


# ---------------------------------------------------------------------------------------
# Generated markdown blocks


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def notebook_list_markdown(page_uri: str) -> str:
    """A table of the release notebooks (linked from the asking page), their graded cells."""
    pages_dir = posixpath.relpath(NOTEBOOK_PAGES_DIR, posixpath.dirname(page_uri) or ".")
    rows = []
    for notebook in release_notebooks():
        cells = graded_cells(notebook)
        rows.append(
            [
                f"[{notebook_title(notebook)}]({pages_dir}/{notebook.name})",
                ", ".join(f"`{cell['grade_id']}`" for cell in cells),
                sum(cell["points"] for cell in cells),
            ]
        )
    return _table(["notebook", "graded cells", "points"], rows)


def points_markdown() -> str:
    """The points of every graded cell, as the release notebooks declare them."""
    rows = []
    total = 0
    for notebook in release_notebooks():
        for cell in graded_cells(notebook):
            rows.append([notebook.stem, f"`{cell['grade_id']}`", cell["points"], cell["how"]])
            total += cell["points"]
    rows.append(["**total**", "", f"**{total}**", ""])
    return _table(["notebook", "cell (grade_id)", "points", "graded"], rows)


def results_summary_markdown() -> str:
    """Mean ± sd over the seeds of each final metric, beside the original's figure."""
    results = load_reference_results()
    header = ["metric"]
    for framework in FRAMEWORKS:
        label = FRAMEWORK_LABELS[framework]
        header += [f"{label}: kit (mean ± sd)", f"{label}: original"]
    rows = []
    for key, label in METRIC_LABELS.items():
        row: list[object] = [label]
        for framework in FRAMEWORKS:
            mean, sd = mean_sd([run[key] for run in results[framework]["runs"]])
            row += [f"{mean:.4f} ± {sd:.4f}", f"{ORIGINAL_RESULTS[framework][key]:.4f}"]
        rows.append(row)
    gap_row: list[object] = ["gap: train − validation accuracy"]
    for framework in FRAMEWORKS:
        gaps = [run["train_accuracy"] - run["val_accuracy"] for run in results[framework]["runs"]]
        mean, sd = mean_sd(gaps)
        original = ORIGINAL_RESULTS[framework]
        gap_row += [
            f"{mean:.4f} ± {sd:.4f}",
            f"{original['train_accuracy'] - original['val_accuracy']:.4f}",
        ]
    return _table(header, [*rows, gap_row])


def results_runs_markdown() -> str:
    """Every run of the seed study, with its time and where it ran."""
    results = load_reference_results()
    rows = []
    for framework in FRAMEWORKS:
        study = results[framework]
        for run in study["runs"]:
            rows.append(
                [
                    FRAMEWORK_LABELS[framework],
                    run["seed"],
                    f"{run['train_accuracy']:.4f}",
                    f"{run['val_accuracy']:.4f}",
                    f"{run['test_accuracy']:.4f}",
                    f"{run['test_loss']:.4f}",
                    f"{run['seconds']:.0f}",
                    study["device"],
                ]
            )
    header = ["framework", "seed", "train acc.", "val. acc.", "test acc.", "test loss"]
    return _table(header + ["seconds", "device"], rows)


def results_provenance_markdown() -> str:
    """How the study was produced: config, command, date, versions."""
    results = load_reference_results()
    rows = []
    for framework in FRAMEWORKS:
        study = results[framework]
        config = study["config"]
        units = "/".join(str(config[f"dense_{index}"]) for index in range(1, 5))
        versions = ", ".join(f"{name} {version}" for name, version in study["versions"].items())
        rows.append(
            [
                FRAMEWORK_LABELS[framework],
                f"{config['optimizer']}, lr {config['learning_rate']:.3g}, "
                f"batch {config['batch_size']}, {config['epochs']} epochs, units {units}",
                f"`{study['command']}`",
                study["date"],
                versions,
            ]
        )
    return _table(["framework", "config", "command", "date", "versions"], rows)


def thresholds_markdown() -> str:
    """The floors the accuracy checks apply, with the calibration they came from."""
    thresholds = load_thresholds()
    rows = []
    for device, frameworks in thresholds.items():
        for framework, entry in frameworks.items():
            provenance = entry.get("provenance", {})
            source = provenance.get("command") or provenance.get("source", "")
            rows.append(
                [
                    device.upper(),
                    FRAMEWORK_LABELS.get(framework, framework),
                    entry["epochs"],
                    f"{entry['reference_mean']:.4f} ± {entry['reference_sd']:.4f}",
                    len(provenance.get("seeds", [])),
                    f"**{entry['floor']:.3f}**",
                    source,
                ]
            )
    header = ["device", "framework", "epochs", "reference (mean ± sd)", "seeds", "floor"]
    return _table(header + ["calibrated by"], rows)


BLOCKS: dict[str, Callable[[str], str]] = {
    "notebook-list": notebook_list_markdown,
    "points": lambda page_uri: points_markdown(),
    "results-summary": lambda page_uri: results_summary_markdown(),
    "results-runs": lambda page_uri: results_runs_markdown(),
    "results-provenance": lambda page_uri: results_provenance_markdown(),
    "thresholds": lambda page_uri: thresholds_markdown(),
}


def expand_markers(markdown: str, page_uri: str) -> str:
    """Replace every ``<!-- mlpkit:NAME -->`` marker with its generated block."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in BLOCKS:
            raise SiteSourceError(
                f"{page_uri}: unknown generated block {name!r}; known: {', '.join(BLOCKS)}"
            )
        return BLOCKS[name](page_uri)

    return MARKER.sub(replace, markdown)


# ---------------------------------------------------------------------------------------
# Figures (rendered with matplotlib's Agg canvas; no pyplot, no display)


# ---------------------------------------------------------------------------------------
# mkdocs events


def _notebook_nav_entries() -> list[dict[str, str]]:
    return [
        {notebook_title(notebook): f"{NOTEBOOK_PAGES_DIR}/{notebook.name}"}
        for notebook in release_notebooks()
    ]


def _api_nav_entries() -> list[object]:
    return [f"{API_PAGES_DIR}/index.md"] + [
        {f"mlpkit.{name}": f"{API_PAGES_DIR}/{name}.md"}
        for _, names in API_SECTIONS
        for name in names
    ]


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Append one nav entry per release notebook to the "Notebooks" section, and one per
    module page to the "API reference" section."""
    sections = {
        NOTEBOOKS_NAV_TITLE: _notebook_nav_entries,
        API_NAV_TITLE: _api_nav_entries,
    }
    found = set()
    for item in config.nav or []:
        for title, entries in sections.items():
            if isinstance(item, dict) and title in item:
                section = item[title] if isinstance(item[title], list) else []
                item[title] = list(section) + entries()
                found.add(title)
    missing = [title for title in sections if title not in found]
    if missing:
        raise SiteSourceError(f"mkdocs.yml: the nav has no {', '.join(map(repr, missing))} section")
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .ipynb into pages
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the release notebooks, the results figures and the API pages as generated files."""
    for notebook in release_notebooks():
        # A real file under the release's parent folder (not File.generated, which
        # mkdocs-jupyter cannot read back), so the page's source is the release itself.
        files.append(
            File(
                f"{NOTEBOOK_PAGES_DIR}/{notebook.name}",
                src_dir=str(notebook.parent.parent),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    results = load_reference_results()
    for src_uri, plot in FIGURES.items():
        files.append(File.generated(config, src_uri, content=plot(results)))
    for name, text in api_pages().items():
        files.append(File.generated(config, f"{API_PAGES_DIR}/{name}", content=text))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Expand the generated blocks a page asks for."""
    return expand_markers(markdown, page.file.src_uri)


EXTERNAL_SCRIPT = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>')


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Drop the MathJax CDN script nbconvert puts on notebook pages.

    The site must work offline and the release notebooks contain no formulas; a page
    that loads nothing from the network also has no console errors without it.
    """
    if page.file.src_uri.endswith(".ipynb"):
        return EXTERNAL_SCRIPT.sub("", output)
    return output
