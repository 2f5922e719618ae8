"""What a sweep produced, and nothing else: the leaf module that the sweep
(:mod:`quantize.jobs.sweep`) fills and its renderers (:mod:`quantize.render.sweep_report`,
:mod:`quantize.render`) draw, so neither imports the other's side."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence

from ..errors import ParameterError

if TYPE_CHECKING:
    from ..io.images import Image
    from .pipeline import Result


class Judged(Protocol):
    """What a :class:`Target` judges: a still's result or an animation's, at its K."""

    k: int

    @property
    def quality(self) -> tuple[float, float]:
        """The PSNR and mean CIEDE2000 (an animation's: means over its frames)."""

SILHOUETTE_SAMPLES = 2000

#: the decimals an animation's row keeps of each figure, as ``compress --json`` rounds a still's
#: (flicker as its MSE)
DECIMALS = {"psnr": 4, "delta_e": 6, "flicker": 6, "seconds": 4, "bits_per_pixel": 4}


def rounded(figure: str, value: float) -> float:
    """``value`` of a ``figure`` (a key of :data:`DECIMALS`) rounded as a still's row rounds it."""
    return round(value, DECIMALS[figure])


def sample_space(channels: int) -> str:
    """The values the silhouette's sample compares: RGB, or RGBA for an image with alpha."""
    return "RGBA" if channels == 4 else "RGB"


@dataclass
class SweepPoint:
    """One K of a sweep: the compression :class:`Result` (with in-memory file sizes) and the extras."""

    result: Result
    silhouette: float | None
    png: bytes  # the indexed-PNG preview

    def to_dict(self) -> dict:
        """The keys of ``compress --json`` plus ``silhouette`` and ``png_bytes``."""
        silhouette = None if self.silhouette is None else round(self.silhouette, 4)
        return {**self.result.to_dict(), "silhouette": silhouette, "png_bytes": len(self.png)}


def uses(reason: str, k: int, used: int | None) -> str:
    """``reason``, adding how many colours K uses where that is fewer than K (known)."""
    if used is None or used >= k:
        return reason
    return f"{reason}; it uses {used:,} colour{'s' * (used != 1)}"


@dataclass(frozen=True)
class Pick:
    """A recommended K (None when the rule does not apply) and why."""

    k: int | None
    reason: str

    def line(self, rule: str) -> str:
        """One line for the user, e.g. ``elbow: K=16 (Kneedle on ...)``."""
        return f"{rule}: {'none' if self.k is None else f'K={self.k}'} ({self.reason})"

    def to_dict(self) -> dict:
        """``{"k", "reason"}``, as ``--json`` gives each pick."""
        return {"k": self.k, "reason": self.reason}


@dataclass(frozen=True)
class Target:
    """A quality to reach: PSNR at least ``psnr`` dB and/or mean CIEDE2000 at most ``delta_e``."""

    psnr: float | None = None
    delta_e: float | None = None

    def __post_init__(self) -> None:
        if self.psnr is not None and not (self.psnr > 0 and math.isfinite(self.psnr)):
            # every K meets a target of 0 dB or less (the worst error is 0 dB)
            raise ParameterError(f"psnr must be a finite number of dB above 0, got {self.psnr}",
                                 parameters=("psnr",))
        if self.delta_e is not None and not (self.delta_e >= 0 and math.isfinite(self.delta_e)):
            raise ParameterError(f"delta_e must be >= 0, got {self.delta_e}", parameters=("delta_e",))

    def __bool__(self) -> bool:
        return self.psnr is not None or self.delta_e is not None

    def met(self, result: Judged) -> bool:
        """Whether ``result`` reaches every bound given."""
        psnr, delta_e = result.quality
        return ((self.psnr is None or psnr >= self.psnr)
                and (self.delta_e is None or delta_e <= self.delta_e))

    def describe(self, result: Judged | None = None) -> str:
        """The bounds, e.g. ``PSNR >= 38 dB``; with ``result``, its values, e.g. ``PSNR 37.9 dB``."""
        if result is None:
            parts = ([f"PSNR >= {self.psnr:g} dB"] if self.psnr is not None else []) + \
                    ([f"dE2000 <= {self.delta_e:g}"] if self.delta_e is not None else [])
        else:
            psnr, delta_e = result.quality
            parts = ([f"PSNR {psnr:.3f} dB"] if self.psnr is not None else []) + \
                    ([f"dE2000 {delta_e:.3f}"] if self.delta_e is not None else [])
        return " and ".join(parts)


@dataclass
class Search:
    """The outcome of :func:`search_target` (for a still or an animation): the smallest K found,
    its result, and every probe made."""

    target: Target
    k: int
    result: Judged
    probes: dict[int, Judged] = field(default_factory=dict)

    @property
    def pick(self) -> Pick:
        """The answer with its reason: the values at K and at K - 1."""
        below = self.probes.get(self.k - 1)
        then = f", while K={self.k - 1} gives {self.target.describe(below)}" if below else ""
        return Pick(self.k, f"the smallest K with {self.target.describe()}: "
                            f"{self.target.describe(self.result)}{then}; "
                            f"{len(self.probes)} K evaluated")


def row_added(pick: Pick) -> Pick:
    """``pick`` saying that its K, not among the K asked, was measured as a row of its own."""
    return Pick(pick.k, f"{pick.reason}; its row is added to the K asked")


@dataclass
class SweepRun:
    """A sweep of one file: its points, the recommendations, the target search, the files written."""

    image: Image
    points: list[SweepPoint]
    elbow: Pick
    silhouette: Pick
    search: Search | None = None
    missed: str | None = None  # why no K met the target, when one was given and none did
    budget: Budget | None = None
    over_budget: str | None = None  # why no K fits the byte budget, when one was given
    added: tuple[int, ...] = ()  # K of rows measured for the target or budget pick, not asked
    written: list[Path] = field(default_factory=list)

    @property
    def target_pick(self) -> Pick | None:
        """The smallest K meeting the target; a pick of none saying which target was missed;
        None without a target."""
        if self.search:
            return self.search.pick
        return Pick(None, self.missed) if self.missed else None

    @property
    def budget_pick(self) -> Pick | None:
        """The largest K whose file fits the byte budget; a pick of none saying that none fits;
        None without a budget."""
        if self.budget:
            return self.budget.pick
        return Pick(None, self.over_budget) if self.over_budget else None

    def named_picks(self) -> dict[str, Pick | None]:
        """Every rule's pick by its name; the target's and the budget's None when not asked, and
        saying when their row was added to the K asked."""
        return {"elbow": self.elbow, "silhouette": self.silhouette,
                "target": self._row_added(self.target_pick),
                "budget": self._row_added(self.budget_pick)}

    def _row_added(self, pick: Pick | None) -> Pick | None:
        return pick if pick is None or pick.k not in self.added else row_added(pick)

    @property
    def picks(self) -> list[str]:
        """The recommendation lines, each with its reason."""
        return [pick.line(rule) for rule, pick in self.named_picks().items() if pick is not None]

    def picks_dict(self) -> dict[str, dict | None]:
        """The recommendations for JSON: ``{"elbow": {"k", "reason"}, "silhouette": ..., "target":
        ... or None, "budget": ... or None}``."""
        return {rule: None if pick is None else pick.to_dict()
                for rule, pick in self.named_picks().items()}


@dataclass
class Budget:
    """The outcome of :func:`search_bytes`: the largest K up to ``max_k`` whose ``fmt`` file fits
    ``max_bytes``, the size of that file at every K probed and, where known, the colours each K
    uses."""

    max_bytes: int
    fmt: str
    k: int
    sizes: dict[int, int] = field(default_factory=dict)
    used: dict[int, int] = field(default_factory=dict)
    max_k: int | None = None  # the largest K searched
    colors: int | None = None  # the image's distinct colours, where known

    @property
    def pick(self) -> Pick:
        above = self.sizes.get(self.k + 1)
        kept = self.colors is not None and self.colors <= self.k  # every K from there is lossless
        then = (f", K={self.k + 1} needs {above:,} B" if above is not None
                else f"; K={self.k} keeps all the image's {self.colors:,} colours: a larger K "
                     f"writes the same file" if self.k == self.max_k and kept
                else f"; K={self.k} is the largest searched, a larger K may fit too"
                if self.k == self.max_k else "")
        return Pick(self.k, uses(f"the largest K whose {self.fmt} file fits {self.max_bytes:,} B: "
                                 f"{self.sizes[self.k]:,} B{then}; {len(self.sizes)} K evaluated",
                                 self.k, self.used.get(self.k)))


def codecs_used(rows: Sequence[dict]) -> str:
    """The .qnt codecs of a sweep's rows (``to_dict()``s), with the K each took where they differ:
    "cm", or "bilevel (K=2), template (K=4), cm (K=8-256)"."""
    runs: list[tuple[str, list[int]]] = []
    for row in rows:
        if runs and runs[-1][0] == row["codec"]:
            runs[-1][1].append(row["k"])
        else:
            runs.append((row["codec"], [row["k"]]))
    if len({codec for codec, _ in runs}) == 1:
        return runs[0][0]
    return ", ".join(f"{codec} (K={ks[0]}{f'-{ks[-1]}' if len(ks) > 1 else ''})" for codec, ks in runs)
