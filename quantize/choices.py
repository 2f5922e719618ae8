"""Names and defaults that the command line and the library share; importing this loads no NumPy."""

# The position in CODECS is the codec id in a packed file's header (docs/FORMAT.md).
CODECS = ("none", "zlib", "lzma", "zstd", "cm", "lzma-bytes", "zstd-bytes", "bilevel", "template")
DEFAULT_CODEC = "cm"

# Working spaces of the palette fit and the mapping (quantize.core.colorspace).
SPACES = ("rgb", "linear", "oklab", "lab", "rgb+lab")
DEFAULT_SPACE = "rgb+lab"  # measured in docs/QUALITY.md

# Error diffusion matrices (quantize.core.dither.DIFFUSION holds their taps), then threshold masks.
DIFFUSION_DITHERS = ("fs", "fs-edge", "atkinson", "sierra", "sierra-lite", "jjn", "stucki", "burkes")
THRESHOLD_DITHERS = ("ordered", "blue-noise", "pattern")
DITHERS = ("none", *DIFFUSION_DITHERS, *THRESHOLD_DITHERS)

# Files a compress can write (--format): the packed file, standard images, firmware exports.
FORMATS = ("qnt", "png", "webp", "gif", "c", "raw", "rgb565")
DEFAULT_FORMATS = ("qnt", "png")
PNG_EFFORTS = (0, 1, 2, 3)
DEFAULT_PNG_EFFORT = 2
# libwebp's method for lossless WebP: 0 (fastest) to 6 (smallest); 4 is libwebp's default.
WEBP_METHODS = (0, 1, 2, 3, 4, 5, 6)
DEFAULT_WEBP_METHOD = 4
# A sweep encodes a preview per K: the fast effort keeps it a few compresses' time (README).
DEFAULT_SWEEP_PNG_EFFORT = 0
