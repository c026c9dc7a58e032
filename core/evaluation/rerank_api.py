"""Cohere's rerank API as an extra comparison row ("cohere-rerank") beside before/after.

It re-ranks the same retriever top-k that "before" scored, on the same eval qrels, so the
row is directly comparable. Runs only when COHERE_API_KEY is set; COHERE_BASE_URL points
the client elsewhere (a proxy, or the test stub).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import InputError, ProviderError
from core.evaluation.metrics import Qrels, Ranking, save_stage
from core.settings import Settings
from core.storage.store import Store

STAGE = "cohere-rerank"
DEFAULT_MODEL = "rerank-v3.5"


def client(settings: Settings):
    import cohere

    if not settings.cohere_api_key:
        raise InputError("the Cohere rerank comparison expects COHERE_API_KEY to be set, but got none. Set it, or skip the comparison.")
    return cohere.ClientV2(api_key=settings.cohere_api_key, base_url=settings.cohere_base_url or None, timeout=settings.llm_timeout_s, max_retries=2)


def rerank_rankings(store: Store, settings: Settings, rankings: Mapping[str, Ranking], model: str = DEFAULT_MODEL) -> dict[str, Ranking]:
    """Each query's candidates re-ordered by Cohere's relevance score."""
    api = client(settings)
    query_text = store.query_texts(rankings)
    doc_text = store.document_texts({d for r in rankings.values() for d, _ in r})
    out: dict[str, Ranking] = {}
    for qid, ranking in rankings.items():
        candidates = [d for d, _ in ranking if d in doc_text]
        if not candidates:
            out[qid] = []
            continue
        try:
            response = api.rerank(model=model, query=query_text[qid], documents=[doc_text[d] for d in candidates], top_n=len(candidates))
        except Exception as error:  # noqa: BLE001 - any client/HTTP failure becomes one clear error
            raise ProviderError(f"Cohere rerank ({model}) failed: {error}. Check COHERE_API_KEY, COHERE_BASE_URL and the model name.") from error
        out[qid] = [(candidates[r.index], float(r.relevance_score)) for r in response.results]
    return out


def cohere_stage(store: Store, settings: Settings, run_id: str, qrels: Qrels, rankings: Mapping[str, Ranking], model: str = DEFAULT_MODEL) -> dict[str, float]:
    """Score Cohere's re-ranking of `rankings` and store it under stage "cohere-rerank"."""
    return save_stage(store, run_id, STAGE, qrels, rerank_rankings(store, settings, rankings, model), settings.relevant_grade)
