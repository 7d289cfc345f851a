"""The README's main job grades three whole sample submissions; their totals are fixed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from autograder.cli import samples_main
from autograder.grade.core import grade_submission
from autograder.grade.samples import sample_submissions

AUTOMATIC_POINTS = 81  # 100 minus the 19 points of hand-graded written answers


def test_sample_submissions_score_as_the_rubric_says(grading_context, tmp_path) -> None:
    samples = sample_submissions(tmp_path)
    totals = {}
    lost = {}
    # Two at a time, as a grading server with threads would: the grading core is
    # thread-safe, and the 2-core machine idles while one host starts a framework.
    with ThreadPoolExecutor(max_workers=2) as pool:
        folders = list(samples.values())
        verdicts = pool.map(
            lambda folder: grade_submission(folder, context=grading_context), folders
        )
        graded = dict(zip(samples, verdicts, strict=True))
    for name, verdicts in graded.items():
        totals[name] = sum(verdict.points for verdict in verdicts)
        lost[name] = {
            cell.grade_id for verdict in verdicts for cell in verdict.cells if not cell.passed
        }
    assert totals["reference"] == AUTOMATIC_POINTS, lost["reference"]
    assert totals["untouched-release"] == 0
    assert lost["evaluate-tracks-gradients"] == {"check_evaluate"}
    assert totals["evaluate-tracks-gradients"] == AUTOMATIC_POINTS - 4


def test_samples_command_prints_the_grade_table(tmp_path, capsys, monkeypatch) -> None:
    import autograder.cli as cli

    monkeypatch.setattr(cli, "grade_main", lambda **keywords: print(sorted(keywords)) or 0)
    assert samples_main(output=tmp_path) == 0
    assert "['assignment', 'force', 'output', 'submissions']" in capsys.readouterr().out
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "evaluate-tracks-gradients",
        "reference",
        "untouched-release",
    ]
