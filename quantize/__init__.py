"""quantize: colour quantisation with a Numba k-means."""

__version__ = "0.1.0"
