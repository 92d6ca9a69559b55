"""The SQLite store's lifecycle: URLs it refuses, a file it cannot open, calls before open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gladia_async._cli import main
from gladia_async.sync import StoreLockedError, SyncError
from gladia_async.sync.sqlite import SQLiteStore
from tests._reliability_helpers import open_fds


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite://", "sqlite://host/x.db", "file:///x.db"])
def test_urls_that_name_no_file_are_refused(url: str) -> None:
    with pytest.raises(SyncError):
        SQLiteStore(url)


async def test_a_file_that_cannot_be_opened_is_a_sync_error_naming_it(tmp_path: Path) -> None:
    """A directory (or a missing parent folder) at the path: a SyncError that names the path,
    and the store is left closed, its thread gone: a later call says it is not open."""
    for path in (tmp_path, tmp_path / "missing" / "jobs.db"):
        store = SQLiteStore(f"sqlite:///{path}")
        with pytest.raises(SyncError, match=f"cannot open the SQLite database {path}: ") as info:
            await store.open()
        assert info.value.__cause__ is not None
        with pytest.raises(SyncError, match="not open"):
            await store.lock()


async def test_calls_before_open_are_refused_and_touch_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    with pytest.raises(SyncError, match="not open"):
        await store.lock()
    await store.close()  # closing a store never opened is allowed
    assert os.listdir(tmp_path) == []


def test_the_cli_reports_an_unopenable_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit code 4 and one line naming the file, before any request."""
    argv = ["--api-key", "k", "--base-url", "http://127.0.0.1:9", "sync", "--no-progress"]
    assert main([*argv, "--db", f"sqlite:///{tmp_path}"]) == 4
    err = capsys.readouterr().err
    assert f"SyncError: cannot open the SQLite database {tmp_path}" in err


async def test_any_other_failure_while_opening_propagates_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only SQLite's own errors become SyncError; anything else (here a bug) propagates as it
    is, and the store is left closed."""

    def broken(self: SQLiteStore) -> None:
        raise LookupError("a bug")

    monkeypatch.setattr(SQLiteStore, "_open", broken)
    store = SQLiteStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    with pytest.raises(LookupError, match="a bug"):
        await store.open()
    with pytest.raises(SyncError, match="not open"):
        await store.lock()


async def test_a_refused_lock_leaks_no_descriptor_and_a_held_one_is_released_on_close(
    tmp_path: Path,
) -> None:
    """Another sync holds the lock: StoreLockedError, and the descriptor opened to try is
    closed again. The lock file is created rw-r--r-- (modulo the umask)."""
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    fds = open_fds()
    async with SQLiteStore(url) as holder, SQLiteStore(url) as other:
        await holder.lock()
        opened = open_fds()
        for _ in range(3):
            with pytest.raises(StoreLockedError):
                await other.lock()
        assert open_fds() == opened
    assert open_fds() == fds
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "jobs.db.lock").stat().st_mode & 0o777 == 0o644 & ~umask
