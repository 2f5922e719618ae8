"""The Palette type and the conventions every format shares: default names, labels carrying the share,
unique and slug names, hex strings.

A palette's colours are sRGB(A) bytes. Colours without a name are called by their hex code, so every
format that has names can name every colour. Formats without a share field carry the share in the
label: ``"dodgerblue (12.3%)"``; :func:`split_label` reads it back.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass
from itertools import islice
from pathlib import PurePath
from typing import Callable, Iterable, Sequence, TypeVar

import numpy as np

from ...core.colorspace import linear_to_srgb, outside_srgb, to_srgb8
from ...errors import FormatError, ParameterError
from ..files import printable

# C0, DEL, C1, the Unicode line breaks, and the two noncharacters no XML file (Krita's) may hold
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]+")
_PERCENT = re.compile(r"\d+(?:\.\d+)?")
_HEX = re.compile(r"^#?(?P<digits>[0-9a-fA-F]{3,8})$")
MAX_COLORS = 65536  # as many as a packed file's palette holds
_LABEL_ROUNDING = 0.0005  # the most a share written "(12.3%)" is off by
_T = TypeVar("_T")


@dataclass(frozen=True, eq=False)
class Palette:
    """K colours as sRGB(A) bytes, with optional pixel shares, names and a title.

    ``colors`` is (K, 3) or (K, 4) uint8; ``shares`` is (K,) fractions of the pixels (summing to ~1);
    ``names`` has one name per colour (control characters become spaces; empty names become the hex
    code). Arrays are copied and made read-only.
    """

    colors: np.ndarray
    shares: np.ndarray | None = None
    names: tuple[str, ...] | None = None
    title: str = "quantize"

    def __post_init__(self) -> None:
        try:
            raw = np.asarray(self.colors)
            if raw.size and (raw.min() < 0 or raw.max() > 255):
                raise ValueError("values outside 0..255")
            colors = raw.astype(np.uint8)
        except (ValueError, TypeError) as exc:
            raise ParameterError(f"palette colours must be a (K, 3) or (K, 4) array of 0..255: {exc}") from None
        if colors.ndim != 2 or colors.shape[1] not in (3, 4):
            raise ParameterError(f"palette colours must have shape (K, 3) or (K, 4), not {colors.shape}")
        colors.flags.writeable = False
        object.__setattr__(self, "colors", colors)
        if self.shares is not None:
            shares = np.array(self.shares, dtype=np.float64, copy=True)
            if shares.shape != (len(colors),):
                raise ParameterError(f"palette shares must have shape ({len(colors)},), not {shares.shape}")
            if not (np.isfinite(shares) & (shares >= 0)).all():
                raise ParameterError("palette shares must be fractions of the pixels, finite and not "
                                     "negative")
            shares.flags.writeable = False
            object.__setattr__(self, "shares", shares)
        if self.names is not None:
            if len(self.names) != len(colors):
                raise ParameterError(f"palette has {len(colors)} colours but {len(self.names)} names")
            hexes = self.hex
            names = tuple(clean_name(n) or h for n, h in zip(self.names, hexes))
            object.__setattr__(self, "names", names)
        object.__setattr__(self, "title", clean_name(self.title) or "quantize")

    def __len__(self) -> int:
        return len(self.colors)

    @property
    def rgb(self) -> np.ndarray:
        """(K, 3) uint8 colours without alpha."""
        return self.colors[:, :3]

    @property
    def alpha(self) -> np.ndarray:
        """(K,) uint8 alpha, 255 where the palette has no alpha channel."""
        if self.colors.shape[1] == 4:
            return self.colors[:, 3]
        return np.full(len(self), 255, dtype=np.uint8)

    @property
    def has_alpha(self) -> bool:
        """True when some colour is not fully opaque."""
        return bool((self.alpha < 255).any())

    @property
    def hex(self) -> list[str]:
        """``#rrggbb`` per colour, ``#rrggbbaa`` for colours that are not fully opaque."""
        return [hex_code(c) for c in self.colors]

    @property
    def labels(self) -> list[str]:
        """Each colour's name, or its hex code when the palette is unnamed."""
        return list(self.names) if self.names is not None else self.hex

    def take(self, indices: Sequence[int] | np.ndarray) -> Palette:
        """The palette reordered or cut to ``indices``, shares and names following their colours."""
        idx = np.asarray(indices, dtype=np.intp)
        return Palette(
            self.colors[idx],
            None if self.shares is None else self.shares[idx],
            None if self.names is None else tuple(self.names[i] for i in idx),
            self.title,
        )

    def head(self, n: int) -> Palette:
        """The first ``n`` colours."""
        return self.take(np.arange(min(n, len(self))))


def clean_name(name: str) -> str:
    """A name on one line that every format can encode: control characters, line or paragraph
    separators and the noncharacters U+FFFE and U+FFFF become single spaces, ends stripped, the
    bytes of a non-UTF-8 file name (a title from one) shown as ``\\xNN``."""
    return _CONTROL.sub(" ", printable(str(name))).strip()


def hex_code(color: Sequence[int] | np.ndarray) -> str:
    """``#rrggbb``, or ``#rrggbbaa`` when a fourth component below 255 is given."""
    c = [int(v) for v in color]
    if len(c) == 4 and c[3] < 255:
        return "#{:02x}{:02x}{:02x}{:02x}".format(*c)
    return "#{:02x}{:02x}{:02x}".format(*c[:3])


def parse_hex(text: str, source: str) -> tuple[int, int, int, int]:
    """``#rgb``, ``#rgba``, ``#rrggbb`` or ``#rrggbbaa`` (``#`` optional) -> (r, g, b, a)."""
    m = _HEX.match(text.strip())
    if not m or len(m["digits"]) not in (3, 4, 6, 8):
        raise FormatError(f"{source}: {text.strip()!r} is not a hex colour (#rrggbb or #rrggbbaa)")
    d = m["digits"]
    if len(d) <= 4:
        d = "".join(ch * 2 for ch in d)
    values = [int(d[i:i + 2], 16) for i in range(0, len(d), 2)]
    return (*values[:3], values[3] if len(values) == 4 else 255)  # type: ignore[return-value]


def share_label(name: str, share: float | None) -> str:
    """``"name (12.3%)"``, or the name alone when there is no share."""
    return name if share is None else f"{name} ({100 * share:.1f}%)"


def split_label(text: str) -> tuple[str, float | None]:
    """Inverse of :func:`share_label`: ``"name (12.3%)"`` -> ``("name", 0.123)``."""
    text = text.strip()
    start = text.rfind("(")  # found from the end: a name of many spaces costs no backtracking
    if not text.endswith("%)") or start < 0 or not _PERCENT.fullmatch(text[start + 1:-2]):
        return text, None
    return text[:start].rstrip(), float(text[start + 1:-2]) / 100


def share_list(palette: Palette) -> list[float | None]:
    """Each colour's share, or None for every colour when the palette has none."""
    return [None] * len(palette) if palette.shares is None else palette.shares.tolist()


def labels_with_shares(palette: Palette) -> list[str]:
    """Each colour's label followed by its share, for formats with names but no share field."""
    return [share_label(n, s) for n, s in zip(palette.labels, share_list(palette))]


def fitted_label(name: str, share: float | None, room: int, encoding: str, fallback: str) -> str:
    """:func:`share_label` in at most ``room`` code units of ``encoding`` (bytes of UTF-8, pairs of
    bytes of UTF-16): the name is cut short, never inside a character, the share kept whole;
    ``fallback`` stands for a name of which nothing is left."""
    unit = len("a".encode(encoding))
    room -= len(share_label("", share).encode(encoding)) // unit
    short = name.encode(encoding)[:max(room, 0) * unit].decode(encoding, errors="ignore").rstrip()
    return share_label(short or fallback, share)


def unique(names: Iterable[str], key: Callable[[str], str] = str, sep: str = " ") -> list[str]:
    """Suffix repeats (``red``, ``red 2``, ...) so no two names have the same ``key``."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while key(candidate) in seen:
            n += 1
            candidate = f"{name}{sep}{n}"
        seen.add(key(candidate))
        out.append(candidate)
    return out


def slug(name: str, fallback: str) -> str:
    """An identifier for code: ASCII lower-case words joined by ``-``; ``fallback`` if nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return s or fallback


def code_names(palette: Palette) -> list[str]:
    """Unique slugs for CSS/SCSS/Tailwind names; ``-`` and ``_`` count as the same (as in Sass)."""
    slugs = [slug(n, h.lstrip("#")) for n, h in zip(palette.labels, palette.hex)]
    return unique(slugs, key=lambda s: s.replace("_", "-"), sep="-")


def srgb8_converted(to_linear: Callable[[np.ndarray], np.ndarray], values: Sequence[float], source: str,
                    what: str, clipped: list[str]) -> tuple[int, ...]:
    """8-bit sRGB of the swatch ``what`` of the file ``source``, whose ``values`` in a wider space
    ``to_linear`` takes to linear sRGB; ``what`` joins ``clipped`` when it lies outside sRGB. Values
    no colour has (NaN, infinite, or so large the conversion overflows) are a FormatError."""
    with np.errstate(over="ignore", invalid="ignore"):
        linear = to_linear(np.asarray(values, dtype=np.float64))
    if not np.isfinite(linear).all():
        shown = ", ".join(f"{v:g}" for v in values)
        raise FormatError(f"{source}: {what}: ({shown}) is not a colour (a value is NaN, infinite or far "
                          "out of range)")
    if outside_srgb(linear):
        clipped.append(what)
    return tuple(int(v) for v in to_srgb8(linear_to_srgb(linear)))


def warn_clipped(clipped: list[str], source: str) -> None:
    """One warning naming the swatches that sRGB cannot show (the first few)."""
    if clipped:
        n = len(clipped)
        named = ", ".join(clipped[:5]) + (", ..." if n > 5 else "")
        warnings.warn(f"{source}: {n} swatch{'es are' if n > 1 else ' is'} outside sRGB ({named}), "
                      "clipped to it channel by channel", stacklevel=2)


def too_many_colors(source: str) -> FormatError:
    """The error for a palette file ``source`` of more than :data:`MAX_COLORS` colours."""
    return FormatError(f"{source}: more than the {MAX_COLORS:,} colours a palette may hold")


def take_colors(entries: Iterable[_T], source: str) -> list[_T]:
    """The entries a reader yields, refused as soon as there are more than :data:`MAX_COLORS`: a
    reader that yields them one at a time never holds more than a full palette's worth."""
    taken = list(islice(entries, MAX_COLORS + 1))
    if len(taken) > MAX_COLORS:
        raise too_many_colors(source)
    return taken


def from_entries(entries: Iterable[tuple[Sequence[int], str | None]], source: str,
                 title: str | None = None, *, shares_in_labels: bool = True) -> Palette:
    """A palette from ``((r, g, b[, a]), label-or-None)`` pairs read from the file ``source``, taken
    through :func:`take_colors` (so a reader may pass a generator).

    The title defaults to the file's stem. When ``shares_in_labels`` (the format has no share
    field) and every label ends in a share, those shares adding up to no more than the pixels, as
    in the files quantize writes, labels are split into name and share (see :func:`split_label`);
    otherwise they are names as written (a swatch called "Grey (50%)", tints "Blue (10%)" to
    "Blue (90%)"). The palette has names when any entry has one, and alpha when any colour is not
    opaque.
    """
    entries = take_colors(entries, source)
    rgba = np.array([(*c[:3], c[3] if len(c) == 4 else 255) for c, _ in entries],
                    dtype=np.uint8).reshape(-1, 4)
    split = [split_label(label) if label else (None, None) for _, label in entries]
    shared = (shares_in_labels and bool(entries) and all(s is not None for _, s in split)
              and sum(s for _, s in split) <= 1 + _LABEL_ROUNDING * len(split))
    names = [n for n, _ in split] if shared else [label for _, label in entries]
    return Palette(
        rgba if (rgba[:, 3] < 255).any() else rgba[:, :3],
        np.array([s for _, s in split], dtype=np.float64) if shared else None,
        tuple(n or "" for n in names) if any(names) else None,
        title or PurePath(source).stem,
    )
