"""The offline plots page: the committed build is what DVC is told to fill, and the builder keeps it valid."""

import configparser
import re

import pytest

from tests.pipeline import REPO_ROOT
from tools import build_plots_page


def test_dvc_is_told_to_fill_the_committed_page():
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / ".dvc/config")
    # relative to .dvc/, as DVC reads plots.html_template
    assert REPO_ROOT / ".dvc" / config["plots"]["html_template"] == REPO_ROOT / build_plots_page.PAGE


def test_the_committed_page_carries_each_library_with_its_licence_and_dvcs_placeholders():
    page = (REPO_ROOT / build_plots_page.PAGE).read_text(encoding="utf-8")
    assert "{plot_divs}" in page and "{refresh_tag}" in page and "{scripts}" not in page
    for name, (version, _) in build_plots_page.VERSIONS.items():
        assert f"/*! {name}@{version} (npm), its licence:" in page, name
    assert page.count("Redistribution and use in source and binary forms") == len(build_plots_page.VERSIONS)
    assert not re.search(r"<script[^>]+src=", page)  # nothing loaded from elsewhere


def test_a_library_cannot_end_its_script_tag_early_or_hold_a_placeholder():
    page = build_plots_page.build_page({"lib": ("1.0.0", 'var s = "</script>";', "BSD")})
    assert '"<\\/script>"' in page and page.count("</script>") == 1
    with pytest.raises(SystemExit, match=r"\{plot_divs\}"):
        build_plots_page.build_page({"lib": ("1.0.0", 'var s = "{plot_divs}";', "BSD")})
