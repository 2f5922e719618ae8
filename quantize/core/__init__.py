"""The pure core: colour spaces and statistics, the k-means fit, mapping, dithering, metrics,
the index-map codec's model and the Numba kernels. No I/O, no environment, no CLI words."""
