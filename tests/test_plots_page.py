"""`dvc plots show` and `dvc plots diff`, as a user runs them, draw every interactive plot with the network off:
the real commands on the committed results, the page they write opened in a real headless Chromium.

Skips where no Chromium is installed (CI installs Debian's `chromium` first, see .ci/run).
"""

import json
import re
from pathlib import Path

import pytest

from tests import browser
from tests.pipeline import dvc, make_repo

pytestmark = pytest.mark.skipif(browser.chromium() is None,
                                reason="no Chromium here (Debian: apt-get install chromium); .ci/run installs it")

VEGA_PLOTS = 5  # the interactive plots dvc.yaml declares (the PNGs come on top)
SPEC = re.compile(r"var spec = (\{.*?\});\n\s*vegaEmbed", re.S)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A copy of the project with its committed results: no training needed to draw them."""
    return make_repo(tmp_path_factory.mktemp("plots-page"), with_lock=True)


def specs(page: Path) -> list[dict]:
    return [json.loads(found) for found in SPEC.findall(page.read_text(encoding="utf-8"))]


def encoded_fields(spec: dict) -> set[str]:
    """Fields that a visual channel of the spec (or of one of its layers) encodes; not tooltips or details."""
    fields = set()
    for part in [spec, *spec.get("layer", [])]:
        for channel, encoding in part.get("encoding", {}).items():
            if channel not in ("tooltip", "detail", "x", "y", "order") and isinstance(encoding, dict):
                fields.add(encoding.get("field") or encoding.get("condition", {}).get("field"))
    return fields


def assert_every_plot_drawn(report: dict) -> None:
    assert report["errors"] == [], report["errors"]
    assert report["vega_embed"], "Vega-Embed did not load"
    assert len(report["plots"]) == VEGA_PLOTS, report["plots"]
    for plot in report["plots"]:
        assert plot["rendered"] and plot["drawn"] and plot["marks"] > 0, plot


def test_plots_show_draws_every_interactive_plot_offline(repo, tmp_path):
    dvc(repo, "plots", "show", "-o", "shown")  # the template comes from .dvc/config, as for a user
    page = repo / "shown/index.html"
    assert "cdn.jsdelivr" not in page.read_text(encoding="utf-8")
    report = browser.rendered(page)
    assert_every_plot_drawn(report)
    # "not reached" (an empty cell) is filtered out, not drawn as 0 epochs
    cost = next(spec for spec in specs(page) if spec["title"]["text"].startswith("Cost by learning rate"))
    assert "datum['dvc_inferred_y_value'] !== ''" in json.dumps(cost.get("transform", []))
    assert any(row["dvc_inferred_y_value"] == "" for row in cost["data"]["values"])  # there are such cells
    browser.screenshot(page, tmp_path / "page.png")
    assert (tmp_path / "page.png").stat().st_size > 50_000  # a picture with plots in it, not a blank page


def test_dvcs_own_page_draws_nothing_with_the_network_off(repo):
    """The control: DVC's default page (Vega from a CDN) in the same browser gets no plot drawn, so the test
    above passes because the page carries Vega, not because the network was on."""
    from dvc_render.html import PAGE_HTML

    default = repo / "default_template.html"
    default.write_text(PAGE_HTML, encoding="utf-8")
    dvc(repo, "plots", "show", "-o", "cdn", "--html-template", str(default))
    report = browser.rendered(repo / "cdn/index.html")
    assert not report["vega_embed"] and report["plots"] == []
    assert any("vegaEmbed is not defined" in error for error in report["errors"]), report["errors"]


def test_plots_diff_draws_both_revisions_and_tells_them_apart(repo):
    sweep = repo / "metrics/sweep.csv"
    lines = sweep.read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("valid_mean")
    changed = [lines[0]]
    for line in lines[1:]:  # another revision: every mean 0.01 lower
        cells = line.split(",")
        cells[column] = str(round(float(cells[column]) - 0.01, 6))
        changed.append(",".join(cells))
    sweep.write_text("\n".join(changed) + "\n")
    dvc(repo, "plots", "diff", "HEAD", "-o", "diffed")
    page = repo / "diffed/index.html"
    report = browser.rendered(page)
    assert_every_plot_drawn(report)
    for spec in specs(page):
        revs = {row.get("rev") for row in spec["data"]["values"]}
        assert revs == {"HEAD", "workspace"}, (spec["title"], revs)
        assert "rev" in encoded_fields(spec), f"{spec['title']['text']}: the two revisions look the same"
