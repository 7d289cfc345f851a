"""The API reference as plain Markdown pages, one per mlpkit module, from the docstrings.

The course site's hook (``course_site.py``) adds these pages at build time, so the
reference can never drift from the code, and the built site reads offline like every
other page. The same pages can be written as Markdown files for reading without the
site (an editor, an offline machine)::

    .venv/bin/python docs/hooks/api_pages.py api-reference/

The modules are read statically with griffe, so neither TensorFlow nor PyTorch is
imported. A page lists the module's public functions, classes (with their public
methods and properties) and documented constants, each with its signature and
docstring; reST spellings in the docstrings (``code``, :class:`Name`, a ``::``
example block) become Markdown.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import griffe

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATED_NOTE = "<!-- Generated from the docstrings by docs/hooks/api_pages.py. -->\n"
PAGES_DIR = "api"
"""Where the pages sit in the site: <site>/api/<module>/."""
SECTIONS = (
    ("Data", ("data",)),
    ("Configuration and profiles", ("config", "profiles", "settings")),
    ("Device, seeds and batching", ("device", "batching")),
    ("History, metrics and plots", ("history", "metrics", "plots", "search_plots")),
    ("Tracking and results", ("tracking", "results")),
    ("The notebooks' quick checks", ("quick_checks", "notebook_code")),
    ("Tuning", ("tuning",)),
)
ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`~?([^`]+)`")


def markdown(docstring: str) -> str:
    """A docstring in Markdown: double backticks and reST roles to code, ``::`` blocks fenced."""
    text = ROLE.sub(lambda match: f"`{match.group(1)}`", docstring)
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    lines, output, index = text.splitlines(), [], 0
    while index < len(lines):
        line = lines[index]
        if line.rstrip().endswith("::") and not line.strip().startswith(".."):
            if line.strip() != "::":  # "an example::" introduces the block as "an example:"
                output.append(line.rstrip()[:-2].rstrip() + ":")
            index += 1
            block = []
            while index < len(lines) and (not lines[index].strip() or lines[index][:1] == " "):
                block.append(lines[index])
                index += 1
            code = "\n".join(block).strip("\n")
            indent = min((len(row) - len(row.lstrip()) for row in block if row.strip()), default=0)
            code = "\n".join(row[indent:] for row in code.splitlines())
            output += ["", "```python", code, "```", ""]
            continue
        output.append(line)
        index += 1
    return "\n".join(output).strip() + "\n"


def _signature(function: griffe.Function) -> str:
    parameters = []
    keyword_only_started = False
    for parameter in function.parameters:
        if parameter.name in ("self", "cls"):
            continue
        kind = parameter.kind.value if parameter.kind else ""
        if kind == "keyword-only" and not keyword_only_started:
            if not any(
                p.kind and p.kind.value == "variadic positional" for p in function.parameters
            ):
                parameters.append("*")
            keyword_only_started = True
        prefix = {"variadic positional": "*", "variadic keyword": "**"}.get(kind, "")
        text = f"{prefix}{parameter.name}"
        if parameter.annotation is not None:
            text += f": {parameter.annotation}"
        if parameter.default is not None:
            text += (
                f" = {parameter.default}"
                if parameter.annotation is not None
                else f"={parameter.default}"
            )
        parameters.append(text)
    returns = f" -> {function.returns}" if function.returns is not None else ""
    return f"{function.name}({', '.join(parameters)}){returns}"


def _public(members: dict) -> Iterator[griffe.Object]:
    for name, member in members.items():
        if name.startswith("_") or member.is_alias:
            continue
        yield member


def _docstring(member: griffe.Object) -> str:
    return markdown(member.docstring.value) if member.docstring else "*(no docstring)*\n"


def _function_block(function: griffe.Function, level: str, owner: str = "") -> list[str]:
    title = f"{owner}.{function.name}" if owner else function.name
    labels = sorted(label for label in function.labels if label in ("classmethod", "staticmethod"))
    block = [f"{level} `{title}`", ""]
    if "property" in function.labels:
        block += [f"*property*: `{function.name}`", ""]
    else:
        block += ["```python", _signature(function), "```", ""]
    if labels:
        block += [f"*{', '.join(labels)}*", ""]
    return block + [_docstring(function)]


def _class_block(klass: griffe.Class) -> list[str]:
    bases = f"({', '.join(str(base) for base in klass.bases)})" if klass.bases else ""
    block = [f"## `{klass.name}`", "", "```python", f"class {klass.name}{bases}", "```", ""]
    block.append(_docstring(klass))
    for member in _public(klass.members):
        if isinstance(member, griffe.Function):
            block += _function_block(member, "###", klass.name)
        elif isinstance(member, griffe.Attribute) and member.docstring:
            block += [f"### `{klass.name}.{member.name}`", "", _docstring(member)]
    return block


def _module_members(module: griffe.Module) -> Iterator[griffe.Object]:
    """The members a page documents: the module's own public ones; for a package that
    re-exports (``mlpkit.tuning``), the names in its ``__all__``."""
    if module.exports and Path(str(module.filepath)).name == "__init__.py":
        for name in module.exports or ():
            yield module[name].final_target if module[name].is_alias else module[name]
        return
    yield from _public(module.members)


def _documented(member: griffe.Object) -> bool:
    """Whether a page gives ``member`` a section: classes, functions, documented constants."""
    if isinstance(member, griffe.Class | griffe.Function):
        return True
    return isinstance(member, griffe.Attribute) and bool(member.docstring)


def module_page(name: str, package: griffe.Module) -> str:
    """The Markdown page of ``mlpkit.<name>``."""
    module = package[name]
    lines = [GENERATED_NOTE, f"# `mlpkit.{name}`", "", _docstring(module)]
    for member in _module_members(module):
        if isinstance(member, griffe.Class):
            lines += _class_block(member)
        elif isinstance(member, griffe.Function):
            lines += _function_block(member, "##")
        elif isinstance(member, griffe.Attribute) and member.docstring:
            value = f" = {member.value}" if member.value is not None else ""
            lines += [f"## `{member.name}`", "", "```python", f"{member.name}{value}", "```", ""]
            lines.append(_docstring(member))
    return "\n".join(lines).rstrip() + "\n"


def index_page(package: griffe.Module) -> str:
    """The API reference's front page: every module, its summary and its public names."""
    lines = [
        GENERATED_NOTE,
        "# API reference: `mlpkit`",
        "",
        "The helper library the notebooks import. It loads and checks the data, draws the",
        "plots, computes the metrics, tracks runs with W&B, and holds the profiles, the",
        "device and seed helpers, fast PyTorch batching and the probes behind the quick",
        "checks. It never contains a graded answer: the model, the loss, the optimizer",
        "set-up and the training loop are the students' work. Importing `mlpkit` imports",
        "neither TensorFlow nor PyTorch. In a notebook, `help(mlpkit.TrainingHistory)`",
        "shows the same text as these pages.",
        "",
    ]
    for title, names in SECTIONS:
        lines += [f"## {title}", "", "| module | what | public names |", "|---|---|---|"]
        for name in names:
            module = package[name]
            summary = module.docstring.value.strip().splitlines()[0] if module.docstring else ""
            members = ", ".join(
                f"`{member.name}`" for member in _module_members(module) if _documented(member)
            )
            lines.append(
                f"| [`mlpkit.{name}`]({name}.md) | {markdown(summary).strip()} | {members} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def pages() -> dict[str, str]:
    """File name → Markdown text of every API page."""
    package = griffe.load("mlpkit", search_paths=[str(REPO_ROOT)], resolve_aliases=False)
    generated = {"index.md": index_page(package)}
    for _, names in SECTIONS:
        for name in names:
            generated[f"{name}.md"] = module_page(name, package)
    return generated


def write_pages(folder: Path) -> list[Path]:
    """Write every page into ``folder`` as Markdown files; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in pages().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write the Markdown pages")
    arguments = parser.parse_args(argv)
    for path in write_pages(arguments.folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
