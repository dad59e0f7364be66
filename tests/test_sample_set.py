"""The sample evaluation set a fresh clone runs (evals/sample.yaml) is whole and consistent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from bot.articles import discover, load_file, normalise_text
from bot.evaluation.dataset import load_dataset

REPO = Path(__file__).resolve().parents[1]
EVALS = REPO / "evals"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"


def test_the_sample_set_covers_every_status_and_cites_files_it_ships() -> None:
    dataset = load_dataset(EVALS / "sample.yaml")
    assert {case.status for case in dataset.cases} == {"contested", "answered", "not_found"}
    files, failures = discover(dataset.corpus)
    assert not failures
    names = {file.name for file in files}
    raw = yaml.safe_load((EVALS / "sample.yaml").read_text(encoding="utf-8"))
    cited = {
        name
        for case in raw["cases"]
        for entry in [case, *case.get("sides", [])]
        for name in entry.get("sources_any", [])
    }
    assert cited and cited <= names


def test_sample_articles_load_with_their_front_matter() -> None:
    files, _ = discover([EVALS / "sample"])
    articles = [article for file in files for article in load_file(file)]
    assert len(articles) == 5
    assert len({article.outlet for article in articles}) == 4
    assert all(article.published and article.url for article in articles)


def test_gold_attributions_quote_their_files_once_and_name_known_camps() -> None:
    gold = yaml.safe_load((EVALS / "sample-attributions.yaml").read_text(encoding="utf-8"))
    camps = set(gold["sides"])
    assert {"neutral"} < camps and len(camps) == 3
    for entry in gold["attributions"]:
        text = normalise_text((EVALS / "sample" / entry["file"]).read_text(encoding="utf-8"))
        assert text.count(normalise_text(entry["quote"])) == 1, entry["quote"]
        assert entry["side"] in camps


def test_the_repository_holds_no_copy_of_the_shared_corpus() -> None:
    shared = {normalise_text(p.read_text(encoding="utf-8")) for p in SHARED_CORPUS.rglob("*.txt")}
    assert shared, f"no shared corpus at {SHARED_CORPUS}"
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    tracked = [REPO / name for name in listed.stdout.split("\0") if name]
    copies = [
        path.relative_to(REPO)
        for path in tracked
        if path.is_file()
        and path.parent != REPO / "data" / "articles"  # the two seed reports: the demo corpus
        and normalise_text(path.read_text(encoding="utf-8", errors="replace")) in shared
    ]
    assert copies == []
