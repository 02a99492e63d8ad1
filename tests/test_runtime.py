"""Provenance: the commit a number came from, also in a copy of the tree without git."""

from __future__ import annotations

import subprocess

import pytest

from gcseg.runtime import git_commit


def test_commit_of_this_checkout(monkeypatch):
    monkeypatch.delenv("GCSEG_COMMIT", raising=False)
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("a tree without git (e.g. copied to another machine)")
    assert git_commit().split("+")[0] == head.stdout.strip()


def test_the_environment_names_the_commit_of_a_copied_tree(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.delenv("GCSEG_COMMIT", raising=False)
    assert git_commit(tmp_path) is None
    monkeypatch.setenv("GCSEG_COMMIT", "0123abc")
    assert git_commit(tmp_path) == "0123abc"
    assert git_commit() == "0123abc"  # also over a repository's answer (it may be stale)
