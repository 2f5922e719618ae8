"""Names and defaults that the command line and the library share; importing this loads no NumPy."""

# The position in CODECS is the codec id in a packed file's header (docs/FORMAT.md).
CODECS = ("none", "zlib", "lzma", "zstd", "cm")
DEFAULT_CODEC = "cm"
