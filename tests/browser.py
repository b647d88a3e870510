"""A real headless Chromium, with the network off, opening a page `dvc plots show` or `dvc plots diff` wrote.

`rendered(page)` loads a copy of the page with a small probe added at the top of its body: the probe wraps
`vegaEmbed` (which DVC's plot divs call) to count each plot's drawn data marks once Vega has rendered it, and
records every script error, failed load and `console.error`. Chromium prints the page's DOM once its virtual time
has run out (`--dump-dom`), and the probe's report is read back from it. `screenshot(page, png)` takes a picture.
"""

import html as html_lib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

PROBE = r"""
<script>
(function () {
  var report = {plots: [], errors: [], vega_embed: typeof window.vegaEmbed === 'function'};
  window.addEventListener('error', function (event) {
    var target = event.target || {};
    report.errors.push(target.src ? 'failed to load ' + target.src : 'script error: ' + event.message);
  }, true);
  var consoleError = console.error;
  console.error = function () {
    report.errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };
  // data marks only: the items of non-group marks in the role 'mark' (not axes, legends, titles)
  function countMarks(mark) {
    var n = 0;
    (mark.items || []).forEach(function (item) {
      if (mark.marktype !== 'group' && mark.role === 'mark') { n += 1; }
      (item.items || []).forEach(function (child) { n += countMarks(child); });
    });
    return n;
  }
  var pending = [];
  if (report.vega_embed) {
    var embed = window.vegaEmbed;
    window.vegaEmbed = function (element, spec, options) {
      var plot = {element: element, rendered: false, marks: 0, drawn: false};
      report.plots.push(plot);
      var promise = embed(element, spec, options).then(function (result) {
        plot.rendered = true;
        plot.marks = countMarks(result.view.scenegraph().root);
        plot.drawn = !!document.querySelector(element + ' canvas, ' + element + ' svg');
        return result;
      }, function (error) { report.errors.push('vegaEmbed ' + element + ': ' + error); });
      pending.push(promise);
      return promise;
    };
  }
  window.addEventListener('load', function () {
    Promise.all(pending.map(function (p) { return p.catch(function () {}); })).then(function () {
      var out = document.createElement('pre');
      out.id = 'probe-report';
      out.textContent = JSON.stringify(report);
      document.body.appendChild(out);
    });
  });
})();
</script>
"""
BODY_TAG = re.compile(r"^\s*<body>", re.M)
REPORT = re.compile(r'<pre id="probe-report">(.*?)</pre>', re.S)
# Chromium as the machine notes say it starts headless as root with a closed network: no sandbox (root), no
# background connections (each refused one is noise), a fresh profile.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]
# Network off, twice over: no host name resolves and every connection goes to a closed local port. Where the
# process may make its own network namespace (root, as in CI), it has no network at all besides.
OFFLINE_FLAGS = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
                 "--proxy-bypass-list=<-loopback>"]
VIRTUAL_TIME_MS = 30_000
TIMEOUT_S = 300


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _offline_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--net", "true"], capture_output=True).returncode == 0:
        return [unshare, "--net"]
    return []


def _run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    command = [*_offline_prefix(), chromium(), *FLAGS, *OFFLINE_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)


def rendered(page: Path) -> dict:
    """The probe's report on `page`: {'vega_embed': bool, 'plots': [{element, rendered, marks, drawn}], 'errors'}."""
    html = page.read_text(encoding="utf-8")
    body = BODY_TAG.search(html)  # the tag on a line of its own: the inlined libraries hold the text "<body>" too
    assert body, f"{page} has no <body> line"
    with tempfile.TemporaryDirectory() as tmp:
        probed = page.resolve().with_name(f".probed-{page.name}")  # beside the page: its PNGs load from relative paths
        probed.write_text(html[:body.end()] + PROBE + html[body.end():], encoding="utf-8")
        try:
            result = _run_chromium([f"--virtual-time-budget={VIRTUAL_TIME_MS}", "--dump-dom", probed.as_uri()],
                                   Path(tmp))
        finally:
            probed.unlink()
    found = REPORT.search(result.stdout)
    assert found, f"no probe report in the page Chromium printed (exit {result.returncode}):\n{result.stderr[-3000:]}"
    return json.loads(html_lib.unescape(found.group(1)))


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 1000) -> None:
    """The top width x height pixels of the page once its plots are drawn (README's picture is one)."""
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        result = _run_chromium([f"--virtual-time-budget={VIRTUAL_TIME_MS}", f"--window-size={width},{height}",
                                f"--screenshot={png.resolve()}", page.resolve().as_uri()], Path(tmp))
    assert png.is_file(), f"Chromium wrote no screenshot (exit {result.returncode}):\n{result.stderr[-3000:]}"
