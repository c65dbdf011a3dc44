"""`snakemake --report` of a finished tiny run: every card and plot, by experiment, captioned.

The finished run is test_rerun's (two experiments, one epoch of a 2-layer BERT on the real
records in ../shared), built once per session; each test reports from its own copy.
"""

from __future__ import annotations

import zipfile
from pathlib import PurePosixPath

import pytest
from test_rerun import EXPERIMENTS, completed_run, rerun_dir, run  # noqa: F401 (fixtures)

from arxivcat import layout

pytestmark = pytest.mark.e2e

PER_EXPERIMENT = (
    layout.CARD,
    layout.CARD_PR_CURVE,
    layout.CARD_LOSS,
    layout.CARD_YEARS,
    layout.CARD_CALIBRATION,
)
SUMMARY = (layout.SUMMARY, layout.SUMMARY_PLOT)


def test_report_zip_holds_every_card_and_plot_by_experiment(rerun_dir, tmp_path):  # noqa: F811
    report = tmp_path / "report.zip"
    run(rerun_dir, "--report", str(report))
    with zipfile.ZipFile(report) as archive:
        names = archive.namelist()
        page = archive.read("report/report.html").decode("utf-8")
        files = {name: archive.read(name) for name in names if not name.endswith("/")}
    for experiment in EXPERIMENTS:
        for pattern in PER_EXPERIMENT:
            path = pattern.format(experiment=experiment)
            assert (rerun_dir / path).read_bytes() in files.values(), f"{path} not in the report"
        assert f'"{experiment}"' in page  # its subcategory
    for path in SUMMARY:
        assert (rerun_dir / path).read_bytes() in files.values(), path
    plots = sum(pattern.endswith(".png") for pattern in PER_EXPERIMENT)
    assert sum(n.endswith(".png") for n in names) == plots * len(EXPERIMENTS) + 1
    for caption in ("Precision-recall curves of the positive class", "Hugging Face model card"):
        assert caption in page
    assert "Experiments" in page and "Summary" in page


def test_report_html_embeds_every_card_and_plot(rerun_dir, tmp_path):  # noqa: F811
    report = tmp_path / "report.html"
    run(rerun_dir, "--report", str(report))
    page = report.read_text(encoding="utf-8")
    for pattern in PER_EXPERIMENT:
        name = PurePosixPath(pattern).name
        assert page.count(f"filename={name};") == len(EXPERIMENTS), name
    for path in SUMMARY:
        name = PurePosixPath(path).name
        assert page.count(f"filename={name};") == 1, name
    assert "Training loss (every logged optimizer step)" in page
