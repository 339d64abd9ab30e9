"""The real CLI in subprocesses: inbox, review, export, errors, crashes."""

from __future__ import annotations

import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.acceptance.cli import (
    SAMPLES,
    as_json,
    cli_env,
    export,
    school_groups,
    schoolx,
    spawn,
)

GOOD = ["directory_blocks.pdf", "table.pdf", "prose.pdf", "australia.pdf"]


def fill_inbox(inbox: Path) -> None:
    (inbox / "alice").mkdir(parents=True)
    (inbox / "bob").mkdir()
    shutil.copy(SAMPLES / "directory_blocks.pdf", inbox / "alice")
    shutil.copy(SAMPLES / "table.pdf", inbox / "bob")
    shutil.copy(SAMPLES / "prose.pdf", inbox)
    shutil.copy(SAMPLES / "australia.pdf", inbox / "alice")
    shutil.copy(SAMPLES / "table.pdf", inbox / "alice" / "same-bytes-as-bobs.pdf")
    (inbox / "bob" / "notes.pdf").write_bytes(b"these are not the PDFs you are looking for")
    (inbox / "alice" / ".hidden.pdf").write_bytes(b"ignored")
    (inbox / "alice" / "download.pdf.crdownload").write_bytes(b"ignored")


def remaining(inbox: Path) -> list[str]:
    return sorted(
        str(p.relative_to(inbox))
        for p in inbox.rglob("*")
        if p.is_file() and "failed" not in p.parts
    )


def test_run_once_processes_inbox_per_user(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    inbox = tmp_path / "inbox"
    fill_inbox(inbox)
    result = schoolx(env, "run", "--inbox", str(inbox), "--once")
    assert result.returncode == 2, result.stdout + result.stderr  # one file failed
    assert "6 processed, 5 succeeded, 1 failed, 1 duplicates" in result.stdout
    assert "failed: bob/notes.pdf: notes.pdf: not a PDF" in " ".join(result.stdout.split())
    # Successes left the inbox; the ignored files stay; the bad one is in failed/bob.
    assert remaining(inbox) == ["alice/.hidden.pdf", "alice/download.pdf.crdownload"]
    reason = (inbox / "failed" / "bob" / "notes.pdf.error.txt").read_text()
    assert "not a PDF" in reason
    assert (inbox / "failed" / "bob" / "notes.pdf").read_bytes().startswith(b"these are")
    tasks = as_json(schoolx(env, "tasks", "--json"))
    assert {t["user_id"] for t in tasks} == {"alice", "bob", "default"}
    assert len(tasks) == 5  # the duplicate bytes made no second task


def test_review_edit_merge_export_and_errors(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "same_schools_a.pdf", inbox)
    assert schoolx(env, "run", "--inbox", str(inbox), "--once").returncode == 0
    schools = as_json(schoolx(env, "schools", "--json"))
    assert len(schools) >= 10
    first, second = schools[0], schools[1]
    assert schoolx(env, "review", str(first["id"]), "--approve", "--user", "rita").returncode == 0
    edited = schoolx(env, "edit", str(second["id"]), "--phone", "+1 805 555 0100", "--user", "ed")
    assert edited.returncode == 0, edited.stderr
    merged = schoolx(env, "merge", str(first["id"]), str(second["id"]))
    assert merged.returncode == 0, merged.stderr
    detail = as_json(schoolx(env, "school", str(first["id"]), "--json"))
    assert detail["status"] == "approved"
    assert len(detail["sources"]) == 2
    assert [h["action"] for h in detail["history"]] == ["approve", "merge"]
    rows = export(env)
    assert second["id"] not in {r["id"] for r in rows}  # merged away
    keys = {
        "id",
        "name",
        "kind",
        "address",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
        "website",
        "grades",
        "district",
        "identifiers",
        "status",
        "sources",
    }
    assert all(set(r) == keys for r in rows)
    assert all(
        set(s) == {"document", "sha256", "page", "snippet"} for r in rows for s in r["sources"]
    )
    assert all(s["page"] >= 1 for r in rows for s in r["sources"])
    csv_out = schoolx(env, "export", "--format", "csv", "-o", str(tmp_path / "out.csv"))
    assert csv_out.returncode == 0
    assert (tmp_path / "out.csv").read_text().startswith("id,name,kind,")
    # Errors: one line, non-zero exit, no traceback.
    for args, message in [
        (("task", "999999"), "error: no task 999999"),
        (("school", "999999"), "error: no school 999999"),
        (("--db", "mysql://x/y", "tasks"), "error: unsupported database 'mysql'"),
        (("export", "--format", "xml"), "error: unknown format 'xml'"),
        (("review", "1"), "error: say either --approve or --reject"),
        (("submit", str(tmp_path / "missing.pdf")), "missing.pdf: no such file"),
    ]:
        result = schoolx(env, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_slowly_written_file_is_taken_only_when_complete(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home", SCHOOLX_INBOX_SETTLE_S="1.0")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    runner = spawn(env, tmp_path / "run.log", "run", "--inbox", str(inbox))
    try:
        data = (SAMPLES / "directory_blocks.pdf").read_bytes()
        target = inbox / "slow.pdf"
        step = len(data) // 8
        with open(target, "wb") as f:
            for i in range(0, len(data), step):
                f.write(data[i : i + step])
                f.flush()
                time.sleep(0.4)  # slower than polling, faster than the settle time
        deadline = time.monotonic() + 60
        while target.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not target.exists(), (tmp_path / "run.log").read_text()
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=30)
    # Had a prefix been taken, it would be a second document and a failed task.
    tasks = as_json(schoolx(env, "tasks", "--json"))
    assert len(tasks) == 1 and tasks[0]["status"] == "completed", tasks
    assert tasks[0]["result"]["pages"] == 6


def test_cancel_and_retry_from_the_cli(tmp_path: Path) -> None:
    counter = tmp_path / "chunks.txt"
    release = tmp_path / "release"
    # Ten chunks finish; the next two (two at a time) wait for `release`: the cancel lands
    # while the task is certainly mid-extraction, however long the `cancel` process and the
    # heartbeat that carries it to the worker (on SQLite) take.
    env = cli_env(
        tmp_path / "home",
        SCHOOLX_TEST_COUNTER=str(counter),
        SCHOOLX_TEST_CHUNK_DELAY_S="0",
        SCHOOLX_TEST_HOLD_AFTER="10",
        SCHOOLX_TEST_RELEASE=str(release),
        SCHOOLX_CHUNK_CONCURRENCY="2",
        SCHOOLX_HEARTBEAT_S="0.5",
        SCHOOLX_LEASE_S="120",  # nothing is killed: a late heartbeat must not cost the lease
    )
    submitted = as_json(
        schoolx(
            env, "submit", str(SAMPLES / "long_directory.pdf"), "--extractor", "rules", "--json"
        )
    )
    task_id = str(submitted[0]["task"])
    worker = spawn(env, tmp_path / "worker.log", "worker", "--plugin", "tests.support.slow_pdf")
    try:
        wait_for(lambda: counter.exists() and len(counter.read_text().splitlines()) >= 12)
        assert as_json(schoolx(env, "task", task_id, "--json"))["status"] == "processing"
        cancel = schoolx(env, "cancel", task_id)
        assert cancel.returncode == 0 and "cancel requested" in cancel.stdout
        wait_for(lambda: as_json(schoolx(env, "task", task_id, "--json"))["status"] == "cancelled")
        done_before = as_json(schoolx(env, "task", task_id, "--json"))["chunks_done"]
        ran_before = len(counter.read_text().splitlines())
        assert ran_before == 12  # the two held chunks were cut off, no others began
        assert 0 < done_before <= 10
        release.touch()
        assert schoolx(env, "retry", task_id).returncode == 0
        wait_for(lambda: as_json(schoolx(env, "task", task_id, "--json"))["status"] == "completed")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    info = as_json(schoolx(env, "task", task_id, "--json"))
    assert info["chunks_done"] == 60
    ran_after = len(counter.read_text().splitlines()) - ran_before
    # Finished chunks were not extracted again: only the ones the cancel cut off ran twice.
    assert ran_after == 60 - done_before, (ran_after, done_before)


def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path: Path) -> None:
    files = [
        "directory_blocks.pdf",
        "table.pdf",
        "prose.pdf",
        "two_columns.pdf",
        "australia.pdf",
        "scanned.pdf",
    ]

    def prepare(inbox: Path) -> None:
        (inbox / "u1").mkdir(parents=True)
        for i, name in enumerate(files):
            shutil.copy(SAMPLES / name, inbox / ("u1" if i % 2 else "") / name)

    clean_env = cli_env(tmp_path / "clean")
    prepare(tmp_path / "clean-inbox")
    assert (
        schoolx(clean_env, "run", "--inbox", str(tmp_path / "clean-inbox"), "--once").returncode
        == 2
    )
    expected = school_groups(export(clean_env))
    rng = random.Random(7)
    for trial in range(3):
        env = cli_env(tmp_path / f"home{trial}")
        inbox = tmp_path / f"inbox{trial}"
        prepare(inbox)
        for _ in range(2):
            runner = spawn(env, tmp_path / f"run{trial}.log", "run", "--inbox", str(inbox))
            time.sleep(rng.uniform(0.8, 3.0))
            runner.send_signal(signal.SIGKILL)
            runner.wait()
        final = schoolx(env, "run", "--inbox", str(inbox), "--once")
        # 2 when scanned.pdf failed in this run; 0 when a killed run had already moved it.
        assert final.returncode in (0, 2), final.stdout[-3000:] + final.stderr[-3000:]
        assert "Traceback" not in final.stderr
        assert remaining(inbox) == []
        assert sorted(p.name for p in (inbox / "failed").rglob("*.pdf")) == ["scanned.pdf"]
        assert school_groups(export(env)) == expected, f"trial {trial}"
        tasks = as_json(schoolx(env, "tasks", "--json"))
        assert len(tasks) == len(files)  # every file queued exactly once


def wait_for(check: object, timeout: float = 300) -> None:
    """Poll ``check`` until it holds; the timeout only guards against a hang."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail("condition not met in time")


def _prose_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter)
    for page in range(2):
        y = 700
        for n in range(12):
            c.drawString(
                72, y, f"Minutes of the meeting, item {page * 12 + n}: the board discussed"
            )
            y -= 14
        c.showPage()
    c.save()


def test_a_document_with_text_but_no_schools_completes_with_a_warning(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _prose_pdf(inbox / "minutes.pdf")
    result = schoolx(env, "run", "--inbox", str(inbox), "--once")
    assert result.returncode == 0, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert "warning: default/minutes.pdf: no schools recognised on any page" in out
    assert "pages 1-2" in out and "--extractor llm" in out
    [task] = as_json(schoolx(env, "tasks", "--json"))
    assert task["status"] == "completed"
    assert task["result"]["warnings"][0].startswith("no schools recognised")
    shown = schoolx(env, "task", str(task["id"]))
    assert "warning: no schools recognised" in " ".join(shown.stdout.split())
    listed = schoolx(env, "tasks")
    assert "warning: no schools" in " ".join(listed.stdout.split())
