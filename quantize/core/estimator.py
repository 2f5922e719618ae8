"""A scikit-learn-compatible KMeans over quantize's Numba kernels; input checks live here."""

from __future__ import annotations

import os
import sys
import warnings
from numbers import Integral, Real

import numpy as np
import sklearn
from numpy.typing import ArrayLike
from sklearn.base import (BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin,
                          TransformerMixin, _fit_context)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (_check_sample_weight, check_array, check_is_fitted,
                                      check_random_state, validate_data)
from sklearn.exceptions import ConvergenceWarning

from .kmeans import kmeans, lloyd, tolerance
from .mapping import nearest_indices
from .threads import launches_one_thread_at_a_time


class KMeans(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means clustering (greedy k-means++ seeding, Lloyd iterations with Yinyang bounds).

    A drop-in for the common uses of :class:`sklearn.cluster.KMeans` (``algorithm="lloyd"``): from
    the same initial centres it reaches the same centres, labels and inertia, but for points
    exactly as far from two centres (common on integer pixels), which scikit-learn's rounding may
    label either way. Any number of features; computations in float64; results do not depend on
    the number of threads.

    Parameters
    ----------
    n_clusters : number of clusters.
    init : ``"k-means++"`` or an array (n_clusters, n_features) of initial centres.
    n_init : restarts from different seeds; the lowest inertia wins. An array ``init`` runs once:
        ``n_init`` above 1 then gives a RuntimeWarning, as scikit-learn's does (``"auto"``, as
        scikit-learn, is 1 for both of the inits offered here).
    max_iter : Lloyd iterations per run.
    tol : relative tolerance on the total squared centre shift (times the mean feature variance).
    random_state : seed (int), RandomState (each fit draws from it) or None (NumPy's global one).

    Attributes
    ----------
    cluster_centers_ : (n_clusters, n_features) centres, in X's float type (float64 for integers).
    labels_ : int32 index of each sample's centre.
    inertia_ : (weighted) sum of the squared distances of the samples to their centres.
    n_iter_ : Lloyd iterations of the run kept.
    n_features_in_, feature_names_in_ : as scikit-learn sets them (the names for a DataFrame).
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++"}), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_clusters: int = 8, *, init: str | ArrayLike = "k-means++",
                 n_init: int | str = 1, max_iter: int = 300, tol: float = 1e-4,
                 random_state: int | np.random.RandomState | None = None) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: object = None,
            sample_weight: ArrayLike | None = None) -> KMeans:
        """Compute the clustering of X (n_samples, n_features), optionally weighted."""
        _refuse_image(X)
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if X.shape[0] < self.n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        if not w.sum() > 0:
            raise ValueError("sample_weight must have a positive sum.")
        X64 = np.ascontiguousarray(X, dtype=np.float64)
        if isinstance(self.init, str):
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            n_init = 1 if self.n_init == "auto" else self.n_init
            with launches_one_thread_at_a_time():
                fit = kmeans(X64, w, self.n_clusters, n_init=n_init, max_iter=self.max_iter,
                             tol=self.tol, seed=seed)
        else:
            init = check_array(self.init, dtype=np.float64, ensure_2d=False)  # finite
            if init.shape != (self.n_clusters, X.shape[1]):
                raise ValueError(f"init should be of shape {(self.n_clusters, X.shape[1])}, "
                                 f"got {init.shape}.")
            if self.n_init not in ("auto", 1):  # as scikit-learn: say the restarts are not run
                _warn(f"init is an array of centres: one run from them, not n_init={self.n_init} "
                      f"(give n_init=1 to say so).", RuntimeWarning)
            with launches_one_thread_at_a_time():
                fit = lloyd(X64, w, init, max_iter=self.max_iter, tol=tolerance(X64, self.tol))
        self.cluster_centers_ = fit.centers.astype(X.dtype)
        self.labels_ = fit.labels.astype(np.int32)
        self.inertia_ = fit.inertia
        if X.dtype != np.float64:  # labels and inertia of the centres as given, rounded to X's type
            C = self.cluster_centers_.astype(np.float64)
            with launches_one_thread_at_a_time():
                self.labels_ = nearest_indices(X64, C).astype(np.int32)
            self.inertia_ = float(w @ ((X64 - C[self.labels_]) ** 2).sum(1))
        self.n_iter_ = fit.n_iter
        self._n_features_out = self.n_clusters
        distinct = len(np.unique(self.labels_))
        if distinct < self.n_clusters:  # as scikit-learn warns: fewer distinct points than K
            _warn(f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
                  f"({self.n_clusters}). Possibly due to duplicate points in X.", ConvergenceWarning)
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Index of the nearest centre for each sample (ties to the lowest index)."""
        X, _ = self._checked(X)
        with launches_one_thread_at_a_time():
            return nearest_indices(X, self.cluster_centers_).astype(np.int32)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Euclidean distance from each sample to every centre, (n_samples, n_clusters), in the
        wider of X's and the centres' float types, as scikit-learn gives it."""
        X, dtype = self._checked(X)
        C = self.cluster_centers_.astype(np.float64)
        d2 = (X ** 2).sum(1)[:, None] - 2 * X @ C.T + (C ** 2).sum(1)[None, :]
        wider = np.promote_types(dtype, self.cluster_centers_.dtype)
        return np.sqrt(np.maximum(d2, 0)).astype(wider)

    def score(self, X: ArrayLike, y: object = None,
              sample_weight: ArrayLike | None = None) -> float:
        """Opposite of the (weighted) inertia of X on the fitted centres."""
        X, _ = self._checked(X)
        w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        C = self.cluster_centers_.astype(np.float64)
        with launches_one_thread_at_a_time():
            labels = nearest_indices(X, C)
        return -float(w @ ((X - C[labels]) ** 2).sum(1))

    def _checked(self, X: ArrayLike) -> tuple[np.ndarray, np.dtype]:
        """X checked against the fit, in float64, and the float type it was checked in."""
        check_is_fitted(self)
        _refuse_image(X)
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C", reset=False)
        return np.ascontiguousarray(X, dtype=np.float64), X.dtype


def _refuse_image(X: ArrayLike) -> None:
    """Refuse an image array (H, W, C), the common slip here, saying how its pixels go in."""
    as_array = ""
    if isinstance(X, (list, tuple)):  # an image as nested lists, as tolist() gives it
        try:
            X, as_array = np.asarray(X), "np.asarray(X)"
        except ValueError:  # ragged: scikit-learn's own check says so
            return
    if getattr(X, "ndim", None) == 3:
        raise ValueError(f"Found array with dim 3, while dim <= 2 is required by KMeans: an image "
                         f"(H, W, C) goes in as its pixels, {as_array or 'X'}.reshape(-1, "
                         f"{X.shape[2]}), and its labels come back as labels.reshape(H, W).")


_INSIDE = (os.path.dirname(sklearn.__file__) + os.sep, __file__)


def _warn(message: str, category: type[Warning]) -> None:
    """Warn at the caller's line: the first frame outside this module and scikit-learn (past
    ``_fit_context``'s wrapper, and ``fit_predict`` or a pipeline calling ``fit``)."""
    frame, level = sys._getframe(), 1
    while frame is not None and frame.f_code.co_filename.startswith(_INSIDE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
