"""Which known model a detected signature is, or which one it is compatible with.

Detection (`detect`) says what a folder or file is; this module compares that signature with the
catalog's entries, so fine-tunes and re-uploads keep working without a catalog entry of their
own. Pure: no files are read here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, Literal, Protocol

from wan.models.params import transformer_parameters, weight_fields
from wan.models.signature import ModelSignature, guess_task, show_value

# Fields that describe the pipeline around the transformer (experts, VAE, image encoder).
PIPELINE_FIELDS = (
    "pipeline",
    "experts",
    "boundary_ratio",
    "vae_z_dim",
    "image_encoder",
    "expand_timesteps",
)


class CatalogEntryLike(Protocol):
    """What `match_catalog` needs of a catalog entry (`wan.models.catalog` provides it)."""

    @property
    def id(self) -> str: ...

    @property
    def signature(self) -> ModelSignature | None: ...


@dataclass(frozen=True)
class MatchResult:
    """`exact`: a known model; `compatible`: its closest known relative; else `unknown`."""

    status: Literal["exact", "compatible", "unknown"]
    model_id: str | None
    differences: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # other ids that match equally well
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "model_id": self.model_id,
            "differences": list(self.differences),
            "also": list(self.also),
            "message": self.message,
        }


def signature_differences(
    ours: ModelSignature, theirs: ModelSignature, name: str, *, transformer_only: bool = False
) -> tuple[str, ...]:
    """Human-readable differences, e.g. 'boundary_ratio: 0.9 here, 0.875 in <name>'."""
    ours_fields, theirs_fields = (
        _comparable(ours, transformer_only),
        _comparable(theirs, transformer_only),
    )
    return tuple(
        f"{key}: {show_value(ours_fields[key])} here, {show_value(theirs_fields[key])} in {name}"
        for key in ours_fields
        if ours_fields[key] != theirs_fields[key]
    )


def match_catalog(
    signature: ModelSignature,
    entries: Iterable[CatalogEntryLike],
    *,
    transformer_only: bool = False,
) -> MatchResult:
    """Find a signature among catalog entries (objects with `.id` and `.signature`).

    Exact: every field equal (with `transformer_only`, as for a single-file checkpoint, only the
    fields its weights determine). Compatible: same task and latent interface (in/out channels,
    text width) as some entry; the closest one is named, transformer differences weighing more
    than pipeline details, ties broken by catalog order. Otherwise unknown.
    """
    known = [(e.id, e.signature) for e in entries if getattr(e, "signature", None) is not None]
    ours = _comparable(signature, transformer_only)
    exact = [mid for mid, sig in known if _comparable(sig, transformer_only) == ours]
    if exact:
        also = f" (identical: {', '.join(exact[1:])})" if len(exact) > 1 else ""
        return MatchResult("exact", exact[0], also=tuple(exact[1:]), message=f"{exact[0]}{also}")
    family = _family(signature)
    related = [(mid, sig) for mid, sig in known if _family(sig) == family]
    if not related:
        return MatchResult("unknown", None, message=f"unknown Wan model: {describe(signature)}")
    scored = [
        (_distance(signature, sig, transformer_only), i) for i, (_, sig) in enumerate(related)
    ]
    best_score = min(scored)[0]
    best = [related[i] for score, i in scored if score == best_score]
    best_id, best_sig = best[0]
    diffs = signature_differences(signature, best_sig, best_id, transformer_only=transformer_only)
    message = f"compatible with {best_id} ({'; '.join(diffs)})"
    also = tuple(mid for mid, _ in best[1:])
    return MatchResult("compatible", best_id, differences=diffs, also=also, message=message)


def describe(signature: ModelSignature) -> str:
    """One line: task, experts, size, channels; used in messages and the model list."""
    shape = signature.transformer
    experts = f"{signature.experts} experts x " if signature.experts > 1 else ""
    params = transformer_parameters(shape) / 1e9
    extra = f", VACE {len(shape.vace_layers)} blocks" if shape.vace_layers is not None else ""
    image = f", CLIP {shape.image_dim}" if shape.image_dim is not None else ""
    return (
        f"{guess_task(signature)} {signature.pipeline}, {experts}{params:.2f} B "
        f"({shape.num_layers} layers x {shape.hidden_size}), in/out channels "
        f"{shape.in_channels}/{shape.out_channels}, VAE z_dim {signature.vae_z_dim}{image}{extra}"
    )


def _comparable(signature: ModelSignature, transformer_only: bool) -> dict[str, Any]:
    shape = signature.transformer
    if transformer_only:
        return {"task": guess_task(signature), **weight_fields(shape)}
    pipeline = {name: getattr(signature, name) for name in PIPELINE_FIELDS}
    shape_fields = {f.name: getattr(shape, f.name) for f in fields(shape)}
    return {**pipeline, **shape_fields}


def _family(signature: ModelSignature) -> tuple[Any, ...]:
    shape = signature.transformer
    return (guess_task(signature), shape.in_channels, shape.out_channels, shape.text_dim)


def _distance(ours: ModelSignature, theirs: ModelSignature, transformer_only: bool) -> int:
    weights = weight_fields(ours.transformer)
    other = weight_fields(theirs.transformer)
    score = 10 * sum(weights[key] != other[key] for key in weights)
    if not transformer_only:
        score += sum(getattr(ours, n) != getattr(theirs, n) for n in PIPELINE_FIELDS)
        score += ours.transformer != theirs.transformer  # e.g. heads, or vace layer positions
    return score
