"""mkdocs hooks: the README and BENCHMARKS.md are written for the repository root; in the docs site
they are ``index.md`` and ``benchmarks.md``, and the plots they show live in ``benchmarks/results``."""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent


def on_files(files, config):  # type: ignore[no-untyped-def]
    """Publish the benchmark plots at the paths the README and BENCHMARKS.md link to."""
    for plot in sorted((ROOT / "benchmarks" / "results").glob("*.png")):
        files.append(File(str(plot.relative_to(ROOT)), str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


#: site page -> the repository file it shows
INCLUDED = {"index.md": "README.md", "benchmarks.md": "BENCHMARKS.md"}


def on_page_markdown(markdown: str, page, config, files):  # type: ignore[no-untyped-def]
    """The README/BENCHMARKS.md themselves, with their root-relative links as the site lays them out."""
    source = INCLUDED.get(page.file.src_uri)
    if source is None:
        return markdown
    markdown = (ROOT / source).read_text(encoding="utf-8")
    markdown = re.sub(r"\]\(docs/", "](", markdown)
    return markdown.replace("](BENCHMARKS.md", "](benchmarks.md")
