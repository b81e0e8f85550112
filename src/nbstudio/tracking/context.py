"""Tags that say where a run came from: notebook, git commit, and the process that owns it.

The owner's host, pid and process start time let a later session tell a run whose kernel died (it is
still RUNNING, but its process is gone) from one that is still being written.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from nbstudio.processes import process_started
from nbstudio.session import notebook_api_path

TAG_HOST = "nbstudio.host"
TAG_PID = "nbstudio.pid"
TAG_PID_STARTED = "nbstudio.pid_started"
TAG_NOTEBOOK = "nbstudio.notebook"
TAG_TERMINATED_BY = "nbstudio.terminated_by"
#: A run that stands for an earlier one instead of running again (a reused pipeline step).
TAG_REUSED_FROM = "nbstudio.reused_from"


def owner_tags() -> dict[str, str]:
    pid = os.getpid()
    return {
        TAG_HOST: socket.gethostname(),
        TAG_PID: str(pid),
        TAG_PID_STARTED: repr(process_started(pid)),
    }


def source_tags(workspace_root: Path) -> dict[str, str]:
    """``mlflow.source.*`` tags for the notebook (when the kernel knows it) and the git commit."""
    tags: dict[str, str] = {}
    api_path = notebook_api_path()
    if api_path:
        candidate = Path.cwd() / Path(api_path).name
        tags["mlflow.source.type"] = "NOTEBOOK"
        tags["mlflow.source.name"] = str(candidate if candidate.exists() else api_path)
        tags[TAG_NOTEBOOK] = api_path
    commit = git_commit(workspace_root)
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return tags


def git_commit(folder: Path) -> str | None:
    """The HEAD commit of the git repository holding ``folder``, if any."""
    import git  # GitPython, an MLflow dependency; imported here to keep extension loading fast

    try:
        repo = git.Repo(folder, search_parent_directories=True)
        return repo.head.commit.hexsha
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        return None  # not a repository, or a branch with no commit yet
