"""``schoolx duplicates`` / ``unmerge`` / ``merge --confirm`` in a real subprocess, on
documents processed by ``schoolx run``."""

from __future__ import annotations

from pathlib import Path

from tests.acceptance.cli import as_json, cli_env, schoolx
from tests.support.pdfs import mention_document, pair_documents


def run_documents(env: dict[str, str], inbox: Path, documents: dict[str, bytes]) -> None:
    inbox.mkdir(exist_ok=True)
    for name, data in documents.items():
        (inbox / name).write_bytes(data)
    done = schoolx(env, "run", "--inbox", str(inbox), "--once")
    assert done.returncode == 0, done.stderr


def test_review_possible_duplicates_undo_and_confirm(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    inbox = tmp_path / "inbox"
    first, second = pair_documents()
    run_documents(env, inbox, {"first.pdf": first, "second.pdf": second})

    listed = schoolx(env, "duplicates")
    assert listed.returncode == 0, listed.stderr
    assert "Webster Elementary School" in listed.stdout and "name same" in listed.stdout
    [pair] = as_json(schoolx(env, "duplicates", "--json"))
    # the inbox runs both documents at once: either may have been saved first
    full, mention = sorted((pair["a"], pair["b"]), key=lambda s: s["phone"] is None)
    assert (full["name"], mention["name"]) == ("Webster Elementary School", "Webster Elementary")
    keep, other = full["id"], mention["id"]

    accepted = schoolx(
        env, "duplicates", "accept", str(pair["id"]), "--keep", str(keep), "--user", "rita"
    )
    assert accepted.returncode == 0, accepted.stderr
    detail = as_json(schoolx(env, "school", str(keep), "--json"))
    assert len(detail["sources"]) == 2 and detail["aliases"] == ["Webster Elementary"]
    assert [(m["merged_id"], m["kind"], m["user"]) for m in detail["merges"]] == [
        (other, "review", "rita")
    ]
    assert "undo: schoolx unmerge" in schoolx(env, "school", str(keep)).stdout

    undone = schoolx(env, "unmerge", str(other))
    assert undone.returncode == 0, undone.stderr
    assert as_json(schoolx(env, "school", str(other), "--json"))["status"] == "pending"
    assert len(as_json(schoolx(env, "school", str(keep), "--json"))["sources"]) == 1
    assert as_json(schoolx(env, "duplicates", "--json")) == []  # remembered as two schools

    assert schoolx(env, "review", str(other), "--reject").returncode == 0
    refused = schoolx(env, "merge", str(keep), str(other))
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"error: school {other} was rejected; merging it needs confirmation (--confirm)"
    )
    assert schoolx(env, "merge", str(keep), str(other), "--confirm").returncode == 0

    run_documents(env, inbox, {"mention.pdf": mention_document()})
    [fresh] = as_json(schoolx(env, "duplicates", "--json"))
    dismissed = schoolx(env, "duplicates", "dismiss", str(fresh["id"]))
    assert dismissed.returncode == 0, dismissed.stderr
    assert as_json(schoolx(env, "duplicates", "--json")) == []
    again = schoolx(env, "duplicates", "accept", str(fresh["id"]))
    assert again.returncode == 1 and "already dismissed" in again.stderr
