"""Provider plumbing for LLM calls through instructor: one client per provider string,
and provider failures turned into ProviderError messages a user can act on.

Provider strings are 'openai/<model>', 'anthropic/<model>', 'cohere/<model>', 'ollama/<model>';
'openai/<model>' plus a base URL reaches any OpenAI-compatible endpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import InputError, ProviderError
from core.settings import Settings

PROVIDERS = ("openai", "anthropic", "cohere", "ollama")
OLLAMA_URL = "http://localhost:11434/v1"
HTTP_RETRIES = 2  # the SDKs' own backoff for 429/5xx/timeouts, before we give up and say so

T = TypeVar("T", bound=BaseModel)


def parse_provider(spec: str) -> tuple[str, str]:
    """'openai/gpt-4o-mini' -> ('openai', 'gpt-4o-mini'), checked early so a typo fails before any call."""
    provider, _, model = spec.strip().partition("/")
    if provider not in PROVIDERS or not model:
        raise InputError(
            f"the LLM provider expects 'provider/model' with provider one of {', '.join(PROVIDERS)}, but got {spec!r}; "
            "set FLYWHEEL_LLM, e.g. FLYWHEEL_LLM=openai/gpt-4o-mini (or leave it empty for the offline generator)"
        )
    return provider, model


@dataclass
class LLMClient:
    """An instructor client bound to one provider/model; `create` returns a validated `response_model`."""

    provider: str
    model: str
    client: Any
    timeout_s: float = 60.0
    retries: int = 2  # instructor re-asks this many extra times when the output does not validate

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    def create(self, response_model: type[T], messages: list[dict], **kwargs: Any) -> T:
        try:
            return self.client.create(response_model=response_model, messages=messages, max_retries=self.retries, **kwargs)
        except Exception as error:  # noqa: BLE001 - every provider failure becomes one ProviderError with advice
            raise provider_error(self.name, error, self.timeout_s) from error


def make_client(settings: Settings, provider_spec: str | None = None, *, http_retries: int = HTTP_RETRIES) -> LLMClient:
    """Build the instructor client for `provider_spec` (default: settings.llm) with the configured base URL and timeout."""
    spec = provider_spec if provider_spec is not None else settings.llm
    provider, model = parse_provider(spec)
    timeout = settings.llm_timeout_s
    try:
        if provider == "cohere":
            client = _cohere(settings, model, timeout, http_retries)
        elif provider in ("openai", "ollama"):
            client = _openai_compatible(settings, provider, model, timeout, http_retries)
        else:
            import instructor

            client = instructor.from_provider(spec, timeout=timeout)
    except ProviderError:
        raise
    except Exception as error:  # noqa: BLE001 - missing SDK or key: say which, and what to do
        raise ProviderError(f"could not set up the LLM client for {spec!r}: {error}") from error
    return LLMClient(provider, model, client, timeout_s=timeout)


def _openai_compatible(settings: Settings, provider: str, model: str, timeout: float, http_retries: int) -> Any:
    import instructor
    import openai

    base_url = settings.llm_base_url or (OLLAMA_URL if provider == "ollama" else None)
    api_key = os.environ.get("OPENAI_API_KEY") or None
    if api_key is None and base_url is None:
        raise ProviderError(
            f"{provider}/{model} expects an API key, but OPENAI_API_KEY is not set; set it, "
            "or set FLYWHEEL_LLM_BASE_URL for a local OpenAI-compatible server, or clear FLYWHEEL_LLM for the offline generator"
        )
    client = openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=http_retries)
    mode = instructor.Mode.TOOLS if provider == "openai" else instructor.Mode.JSON
    return instructor.from_openai(client, model=model, mode=mode)


def _cohere(settings: Settings, model: str, timeout: float, http_retries: int) -> Any:
    import cohere
    import instructor

    if not settings.cohere_api_key:
        raise ProviderError(f"cohere/{model} expects an API key, but COHERE_API_KEY is not set; set it, or clear FLYWHEEL_LLM")
    base_url = settings.llm_base_url or settings.cohere_base_url or None
    client = cohere.ClientV2(
        api_key=settings.cohere_api_key, base_url=base_url, timeout=timeout, max_retries=http_retries,
        log_warning_experimental_features=False,
    )
    # JSON_SCHEMA: Cohere's own response_format with the schema, so the model is constrained to valid output.
    return instructor.from_cohere(client, mode=instructor.Mode.JSON_SCHEMA, model=model)


def _causes(error: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def _status(error: BaseException) -> int | None:
    for attr in ("status_code", "status"):
        value = getattr(error, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(error, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def provider_error(name: str, error: BaseException, timeout_s: float | None = None) -> ProviderError:
    """Classify a failure (auth, rate limit, timeout, unreachable, invalid output) into one clear message."""
    chain = _causes(error)
    for cause in chain:
        kind = type(cause).__name__
        status = _status(cause)
        if status in (401, 403) or kind in ("AuthenticationError", "UnauthorizedError", "ForbiddenError", "PermissionDeniedError"):
            return ProviderError(f"{name} rejected the API key (HTTP {status or 401}); check the key for this provider and try again")
        if status == 429 or kind in ("RateLimitError", "TooManyRequestsError"):
            return ProviderError(f"{name} is rate limiting us (HTTP 429) even after retries; wait a minute or generate fewer queries at once")
        if "Timeout" in kind or isinstance(cause, TimeoutError):
            return ProviderError(
                f"{name} did not answer within {timeout_s or '?'} s; try again, or raise FLYWHEEL_LLM_TIMEOUT (seconds)"
            )
        if kind in ("APIConnectionError", "ConnectError", "ConnectionRefusedError"):
            return ProviderError(f"{name} could not be reached ({cause}); check FLYWHEEL_LLM_BASE_URL and the network")
        if isinstance(cause, ValidationError):
            attempts = getattr(error, "n_attempts", None) or "several"
            return ProviderError(
                f"{name} returned output that does not match the expected format after {attempts} attempts: "
                f"{cause.errors()[0].get('msg', cause)}; try again or use a stronger model"
            )
        if status is not None:
            return ProviderError(f"{name} failed with HTTP {status}: {str(cause)[:300]}")
    return ProviderError(f"{name} failed: {str(chain[-1])[:300]}")
