#!/usr/bin/env python3
"""Build the demo interaction log: ~2,000 logged interactions of Alder Health's help-centre
assistant over the demo corpus, in Flywheel's log format (core/labeling/log_format.py).

Deterministic (seeded), standard library only. Run:

    python data/build_demo_log.py        # writes data/demo/logs.jsonl and tests/data/logs_malformed.jsonl

Traffic: the demo's own queries (most frequent first, Zipf-like) and questions users ask
that the eval set does not have (document titles typed as questions); typos, case and
punctuation changes, repeats within sessions. Production's ranking puts a relevant document
first about 60% of the time and often ranks a look-alike (a demo hard negative) above it;
the answer cites the relevant documents it saw in its top 3; thumbs-down follows answers
that cited nothing relevant. About 1% of retrieved ids are retired documents (not in the corpus).
"""
from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

SEED = 16
N = 2000
TOP = 5
HERE = Path(__file__).resolve().parent
DEMO = HERE / "demo"
MALFORMED = HERE.parent / "tests" / "data" / "logs_malformed.jsonl"
START = datetime(2026, 3, 2, 8, 0, 0)
VERSIONS = ["2.3.0", "2.3.1", "2.4.0"]
COMMENTS = {"up": ["thanks", "perfect", "that's it", ""], "down": ["wrong year", "not my plan", "this is the HMO not the PPO",
                                                                    "didn't answer", "outdated", ""]}
QUESTION_STARTS = ["", "", "how about ", "where do i find ", "info on "]


def typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w, j = words[i], rng.randrange(1, len(words[i]) - 1)
    words[i] = rng.choice([w[:j] + w[j + 1:], w[:j] + w[j + 1] + w[j] + w[j + 2:], w[:j] + w[j] + w[j:]])
    return " ".join(words)


def variant(text: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.2:
        return typo(text, rng)
    if roll < 0.35:
        return text.lower().rstrip("?") + rng.choice(["", "?", " ?"])
    return text


def main() -> None:
    rng = random.Random(SEED)
    corpus = [json.loads(line)["_id"] for line in (DEMO / "corpus.jsonl").read_text().splitlines()]
    titles = {d["_id"]: d["title"] for d in map(json.loads, (DEMO / "corpus.jsonl").read_text().splitlines())}
    queries = {q["_id"]: q["text"] for q in map(json.loads, (DEMO / "queries.jsonl").read_text().splitlines())}
    grades: dict[str, dict[str, int]] = defaultdict(dict)
    for name in ("train", "test"):
        with open(DEMO / "qrels" / f"{name}.tsv") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                grades[row["query-id"]][row["corpus-id"]] = int(row["score"])
    look_alikes: dict[str, list[str]] = defaultdict(list)
    with open(DEMO / "hard_negatives.tsv") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            look_alikes[row["query-id"]].append(row["corpus-id"])

    # (text, relevant docs, look-alikes): the demo's queries, then new questions from document titles.
    pool = [(queries[q], [d for d, g in sorted(grades[q].items(), key=lambda x: -x[1]) if g >= 3], look_alikes[q])
            for q in sorted(queries) if any(g >= 3 for g in grades[q].values())]
    for doc_id in rng.sample(sorted(titles), 120):
        title = titles[doc_id].split(" — ")[0].replace(",", "").lower()
        pool.append((rng.choice(QUESTION_STARTS) + title, [doc_id], []))
    rng.shuffle(pool)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(pool))]

    lines = []
    at = START
    session, user = 0, 0
    for n in range(1, N + 1):
        at += timedelta(minutes=rng.expovariate(1 / 21.0))
        if n == 1 or rng.random() < 0.45:
            session, user = session + 1, rng.randrange(1, 180)
        text, relevant, alikes = rng.choices(pool, weights)[0]
        others = [d for d in rng.sample(corpus, 12) if d not in relevant]
        shown = list(dict.fromkeys(rng.sample(alikes, min(len(alikes), 2)) + others))
        ranking = shown[: TOP - 1]
        place = 0 if rng.random() < 0.6 else rng.randrange(1, TOP + 1)  # TOP: production missed it
        if place < TOP:
            ranking.insert(place, relevant[0])
        ranking = ranking[:TOP]
        if rng.random() < 0.01:
            ranking[-1] = f"doc-9{rng.randrange(100, 999)}"  # a retired document
        retrieved = [{"doc_id": d, "rank": r, "score": round(0.82 - 0.06 * r + rng.uniform(-0.02, 0.02), 3)}
                     for r, d in enumerate(ranking, start=1)]
        cited = [d for d in ranking[:3] if d in relevant and rng.random() < 0.85]
        if not cited and rng.random() < 0.3:
            cited = [ranking[0]]  # the answer cited the look-alike
        good = any(d in relevant for d in cited)
        clicked = [d for d in ranking[:3] if (d in relevant and rng.random() < 0.3) or rng.random() < 0.03]
        record = {"id": f"i-{n:05d}", "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "query": variant(text, rng), "retrieved": retrieved}
        if cited:
            record["cited"] = cited
        if clicked:
            record["clicked"] = clicked
        if rng.random() < (0.3 if good else 0.55):
            thumbs = ("up" if rng.random() < 0.85 else "down") if good else ("down" if rng.random() < 0.85 else "up")
            record["feedback"] = {"thumbs": thumbs, "comment": rng.choice(COMMENTS[thumbs])}
        record.update({"session": f"s-{session:04d}", "user": f"u-{user:03d}", "app_version": VERSIONS[min(n * len(VERSIONS) // N, 2)]})
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    (DEMO / "logs.jsonl").write_text("\n".join(lines) + "\n")

    bad = lines[:3] + [
        '{"id":"i-bad-1","timestamp":"2026-03-02T09:00:00Z","retrieved":[]}',  # no query
        '{"id":"i-bad-2","timestamp":"yesterday","query":"gold ppo","retrieved":[]}',  # not a time
        '{"id":"i-bad-3","timestamp":"2026-03-02T09:00:00Z","query":"gold ppo","retrieved":[{"doc_id":"doc-0001","rank":0}]}',
        '{"id":"i-bad-4","timestamp":"2026-03-02T09:00:00Z","query":"gold ppo","retrieved":[],"feedback":{"thumbs":"meh"}}',
        '{"id":"i-bad-5","timestamp":"2026-03-02T09:00:00Z","query":"gold ppo","retrieved":[]',  # cut off
    ] + lines[3:5]
    MALFORMED.parent.mkdir(parents=True, exist_ok=True)
    MALFORMED.write_text("\n".join(bad) + "\n")
    print(f"wrote {len(lines)} interactions to {DEMO / 'logs.jsonl'} and {len(bad)} lines (5 bad) to {MALFORMED}")


if __name__ == "__main__":
    main()
