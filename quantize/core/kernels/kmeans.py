"""k-means on weighted points: greedy k-means++ seeding and Lloyd iterations with Yinyang bounds.

The Lloyd loop follows scikit-learn's (same convergence tests, same empty-cluster relocation, a
final E-step when not strictly converged), so from the same initial centres it reaches the same
centres and labels; the bounds only skip distance computations whose outcome is known.

Seeding is serial (its steps are short and sequential) and releases the GIL, so its caller can
work beside it; the Lloyd E-step is the one parallel loop, over points, with no floating-point
reduction across threads.

Loops stand where NumPy expressions would do (``-a``, ``a[:m] = b``, ``a[idx]``): each of those
brings Numba's ufunc and broadcasting code, and its error messages, into the cached kernel, whose
load a new process then waits for (docs/TUNING.md).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .nearest import sqdist


@njit(cache=True)
def _sample(tree, leaves, u):
    """Leaf index where the prefix sum of a sum tree (heap layout) first exceeds ``u``."""
    v = 1
    while v < leaves:
        left = tree[2 * v]
        if u < left or tree[2 * v + 1] <= 0.0:
            v = 2 * v
        else:
            u -= left
            v = 2 * v + 1
    return v - leaves


@njit(cache=True)
def _set_leaf(tree, leaves, i, value):
    v = leaves + i
    tree[v] = value
    v //= 2
    while v >= 1:
        tree[v] = tree[2 * v] + tree[2 * v + 1]
        v //= 2


@njit(cache=True)
def _link_sorted(members, count, closest, key, head, nxt, c):
    """Make ``members[:count]`` seed c's list, farthest point (largest ``closest``) first, ties in
    ``members`` order. ``key`` is scratch for ``count`` values."""
    for t in range(count):
        key[t] = -closest[members[t]]
    order = np.argsort(key[:count], kind="mergesort")
    prev = -1
    for t in range(count):
        i = members[order[t]]
        if prev < 0:
            head[c] = i
        else:
            nxt[prev] = i
        prev = i
    if prev >= 0:
        nxt[prev] = -1


@njit(cache=True, nogil=True)
def kmeans_plusplus(X, w, fixed, uniforms):
    """Greedy k-means++ (as scikit-learn) continued from the ``fixed`` centres (m >= 1, e.g. one
    data point): for each further centre, draw ``uniforms.shape[1]`` candidates with probability
    proportional to weight x squared distance to the nearest centre so far (``uniforms``
    (n_new, trials) in [0, 1), drawn by the caller) and keep the one that lowers the potential
    most (the first on ties). Returns the indices of the n_new chosen points.

    Each centre keeps its points in a list, farthest first. A candidate c cannot bring point i
    (nearest centre s) closer when d(c, s) >= 2 d(i, s), so a list is walked only while that test
    fails. Sampling descends a sum tree of weight x squared distance (exact sums, no drift).
    """
    n, d = X.shape
    m = fixed.shape[0]
    k = m + uniforms.shape[0]
    n_trials = uniforms.shape[1]
    leaves = 1
    while leaves < n:
        leaves *= 2
    tree = np.zeros(2 * leaves)
    closest = np.empty(n)
    owner = np.zeros(n, np.int64)
    nxt = np.empty(n, np.int64)
    head = np.full(k, -1, np.int64)
    seeds = np.empty((k, d))
    for j in range(m):
        for f in range(d):
            seeds[j, f] = fixed[j, f]
    chosen = np.empty(k - m, np.int64)
    for i in range(n):
        closest[i] = np.inf
        for j in range(m):
            dd = sqdist(X, i, seeds, j)
            if dd < closest[i]:
                closest[i] = dd
                owner[i] = j
        tree[leaves + i] = w[i] * closest[i]
    for v in range(leaves - 1, 0, -1):
        tree[v] = tree[2 * v] + tree[2 * v + 1]
    # the points grouped by seed, each group in index order (a counting sort); once they are
    # placed, seed j's group ends at first[j]
    first = np.zeros(m + 1, np.int64)
    for i in range(n):
        first[owner[i] + 1] += 1
    for j in range(m):
        first[j + 1] += first[j]
    buffer = np.empty(n, np.int64)
    key = np.empty(n)
    for i in range(n):
        buffer[first[owner[i]]] = i
        first[owner[i]] += 1
    start = 0
    for j in range(m):
        _link_sorted(buffer[start:], first[j] - start, closest, key, head, nxt, j)
        start = first[j]
    seed_d2 = np.empty(k)
    for c in range(m, k):
        total = tree[1]
        best_p = -1
        best_pot = np.inf
        for t in range(n_trials):
            p = min(_sample(tree, leaves, uniforms[c - m, t] * total), n - 1)
            if n_trials == 1:
                best_p = p
                break
            gain = 0.0
            for j in range(c):
                limit = sqdist(X, p, seeds, j)
                i = head[j]
                while i >= 0 and 4.0 * closest[i] > limit:
                    # branch-free (adds exactly 0.0 when p is no closer), so the loop vectorises
                    gain += w[i] * max(0.0, closest[i] - sqdist(X, i, X, p))
                    i = nxt[i]
            pot = total - gain
            if pot < best_pot:
                best_pot = pot
                best_p = p
        chosen[c - m] = best_p
        for f in range(d):  # element by element: a row copy compiles Numba's shape-error message
            seeds[c, f] = X[best_p, f]
        for j in range(c):
            seed_d2[j] = sqdist(X, best_p, seeds, j)
        moved = 0
        for j in range(c):
            i = head[j]
            kept_tail = -1
            while i >= 0 and 4.0 * closest[i] > seed_d2[j]:
                following = nxt[i]
                dd = sqdist(X, i, X, best_p)
                if dd < closest[i]:
                    closest[i] = dd
                    _set_leaf(tree, leaves, i, w[i] * dd)
                    buffer[moved] = i
                    moved += 1
                    if kept_tail < 0:
                        head[j] = following
                    else:
                        nxt[kept_tail] = following
                else:
                    kept_tail = i
                i = following
        _link_sorted(buffer, moved, closest, key, head, nxt, c)
    return chosen


# Margins that make float32 rounding directed: round-to-nearest errs by at most 2^-24 relative
# (and by less than _TINY in absolute terms, below float32's normal range).
_MARGIN = 2.0 ** -22
_TINY = 1e-30


@njit(cache=True, inline="always")
def _up(x):
    """``x`` >= 0 as a float32 no smaller than it (upper bounds stay valid in single precision)."""
    return np.float32(x * (1.0 + _MARGIN) + _TINY)


@njit(cache=True, inline="always")
def _down(x):
    """``x`` as a float32 no larger than it (lower bounds stay valid in single precision)."""
    return np.float32((x * (1.0 - _MARGIN) if x > 0.0 else x * (1.0 + _MARGIN)) - _TINY)


@njit(cache=True, inline="always")
def _scan_group(X, i, grouped, members, size, g, dist):
    """Nearest centre of X[i] in group g (lowest index on ties), its distance and the second-
    smallest distance. ``grouped[g, f, q]`` is coordinate f of the group's q-th centre (index
    ``members[g, q]``, q < ``size[g]``): the squared distances to a whole group are summed side by
    side (SIMD) into ``dist``, each in the same order as :func:`sqdist`, so they are the same."""
    width = grouped.shape[2]
    for q in range(width):
        dist[q] = 0.0
    for f in range(X.shape[1]):
        x = X[i, f]
        for q in range(width):
            diff = x - grouped[g, f, q]
            dist[q] += diff * diff
    m1 = np.inf
    m2 = np.inf
    j1 = -1
    for q in range(size[g]):
        j = members[g, q]
        dd = dist[q]
        if dd < m1 or (dd == m1 and j < j1):
            m2 = m1
            m1 = dd
            j1 = j
        elif dd < m2:
            m2 = dd
    return np.sqrt(m1), j1, np.sqrt(m2)


@njit(cache=True)
def _group_centers(centers, members, size, grouped):
    """Copy the centres into ``grouped`` (see :func:`_scan_group`)."""
    for g in range(grouped.shape[0]):
        for q in range(size[g]):
            for f in range(centers.shape[1]):
                grouped[g, f, q] = centers[members[g, q], f]


@njit(cache=True, inline="always")
def _least_bound(lower, i, drift, t):
    """The least of point i's group lower bounds (kept as of the first iteration), moved by each
    group's drift before iteration t: a bound on the distance to every centre but its own.

    Eight running minima over interleaved groups, not one: they do not wait on each other (a
    minimum is the same in any order)."""
    n_groups = lower.shape[1]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = np.inf
    g = 0
    while g + 8 <= n_groups:
        m0 = min(m0, np.float64(lower[i, g]) - drift[t, g])
        m1 = min(m1, np.float64(lower[i, g + 1]) - drift[t, g + 1])
        m2 = min(m2, np.float64(lower[i, g + 2]) - drift[t, g + 2])
        m3 = min(m3, np.float64(lower[i, g + 3]) - drift[t, g + 3])
        m4 = min(m4, np.float64(lower[i, g + 4]) - drift[t, g + 4])
        m5 = min(m5, np.float64(lower[i, g + 5]) - drift[t, g + 5])
        m6 = min(m6, np.float64(lower[i, g + 6]) - drift[t, g + 6])
        m7 = min(m7, np.float64(lower[i, g + 7]) - drift[t, g + 7])
        g += 8
    while g < n_groups:
        m0 = min(m0, np.float64(lower[i, g]) - drift[t, g])
        g += 1
    return min(min(min(m0, m1), min(m2, m3)), min(min(m4, m5), min(m6, m7)))


# Points per parallel task of the E-steps. Each task is one call of an ordinary kernel over its
# points (allocating its scratch once): Numba's parfors passes over a loop body that small take a
# fraction of the compile time they take over the inlined group search.
_BLOCK = 256


@njit(cache=True, parallel=True)
def _assign_all(X, labels, upper, lower, glb, drift, spheres, radius, grouped, members, size):
    """Full E-step: nearest centre of every point, and its Yinyang bounds. A group whose bounding
    sphere (centre ``spheres[:, g]``, radius ``radius[g]``) is farther than the best distance so
    far is not searched: its bound is the distance to that sphere. Bounds are stored in float32,
    rounded outward."""
    n = X.shape[0]
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        _assign_all_block(b * _BLOCK, min(n, (b + 1) * _BLOCK), X, labels, upper, lower, glb,
                          drift, spheres, radius, grouped, members, size)


@njit(cache=True)
def _assign_all_block(start, stop, X, labels, upper, lower, glb, drift, spheres, radius, grouped,
                      members, size):
    """:func:`_assign_all` over points ``start`` to ``stop``."""
    d = X.shape[1]
    n_groups = lower.shape[1]
    to_sphere = np.empty(n_groups)
    dist = np.empty(grouped.shape[2])
    for i in range(start, stop):
        for g in range(n_groups):
            to_sphere[g] = 0.0
        for f in range(d):  # every sphere at once, summed in sqdist's order
            x = X[i, f]
            for g in range(n_groups):
                diff = x - spheres[f, g]
                to_sphere[g] += diff * diff
        first = 0
        for g in range(n_groups):
            lower[i, g] = _down(max(0.0, np.sqrt(to_sphere[g]) - radius[g]))
            if lower[i, g] < lower[i, first]:
                first = g
        best = np.inf
        best_j = -1
        best_g = -1
        best_second = np.inf
        for r in range(n_groups + 1):
            g = first if r == 0 else r - 1
            if (r > 0 and g == first) or lower[i, g] > best:
                continue
            m1, j1, m2 = _scan_group(X, i, grouped, members, size, g, dist)
            lower[i, g] = _down(m1)
            if m1 < best or (m1 == best and j1 < best_j):
                best = m1
                best_j = j1
                best_g = g
                best_second = m2
        lower[i, best_g] = _down(best_second)
        labels[i] = best_j
        upper[i] = _up(best)
        glb[i] = _least_bound(lower, i, drift, 0)  # drift[0] is 0


@njit(cache=True)
def _assign_via(X, rows, summary, centers, labels, upper, lower, glb, drift, spheres, radius,
                group_of, grouped, members, size):
    """The full E-step of :func:`_assign_all`, through ``summary``: points that each stand near
    some of X (e.g. the mean colours of a coarse grid's cells; X[i] lies near ``summary[rows[i]]``).
    The summary gets a full E-step; each point of X then starts from its summary point's centre
    and group bounds, less the distance between the two (the triangle inequality), and searches
    only the groups those bounds leave open. Labels and upper bounds equal the full E-step's; the
    lower bounds are as valid, for fewer distance computations."""
    m = summary.shape[0]
    n_groups = lower.shape[1]
    s_labels = np.zeros(m, np.int32)
    s_upper = np.zeros(m, np.float32)
    s_lower = np.empty((m, n_groups), np.float32)
    s_glb = np.empty(m, np.float32)
    _assign_all(summary, s_labels, s_upper, s_lower, s_glb, drift, spheres, radius, grouped,
                members, size)
    _carry_over(X, rows, summary, s_labels, s_lower, centers, labels, upper, lower, glb, drift,
                group_of, grouped, members, size)


@njit(cache=True, parallel=True)
def _carry_over(X, rows, summary, s_labels, s_lower, centers, labels, upper, lower, glb, drift,
                group_of, grouped, members, size):
    """The second half of :func:`_assign_via`, over the points of X in parallel."""
    n = X.shape[0]
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        _carry_over_block(b * _BLOCK, min(n, (b + 1) * _BLOCK), X, rows, summary, s_labels,
                          s_lower, centers, labels, upper, lower, glb, drift, group_of, grouped,
                          members, size)


@njit(cache=True)
def _carry_over_block(start, stop, X, rows, summary, s_labels, s_lower, centers, labels, upper,
                      lower, glb, drift, group_of, grouped, members, size):
    """:func:`_carry_over` over points ``start`` to ``stop``."""
    dist = np.empty(grouped.shape[2])
    for i in range(start, stop):
        p = rows[i]
        apart = np.float64(_up(np.sqrt(sqdist(X, i, summary, p))))
        for g in range(lower.shape[1]):
            lower[i, g] = _down(np.float64(s_lower[p, g]) - apart)
        a = s_labels[p]
        best_j, best = _search_groups(X, i, a, np.sqrt(sqdist(X, i, centers, a)), lower,
                                      drift, 0, group_of, grouped, members, size, dist)
        labels[i] = best_j
        upper[i] = _up(best)
        glb[i] = _least_bound(lower, i, drift, 0)  # drift[0] is 0


@njit(cache=True, inline="always")
def _search_groups(X, i, a, ub, lower, drift, now, group_of, grouped, members, size, dist):
    """Point i's nearest centre and its distance, given centre a at distance ``ub``: the groups
    whose bound (``lower[i, g] - drift[now, g]``, see :func:`_assign`) does not rule them out are
    scanned and their bounds refreshed; bounds stay valid for the centre returned."""
    best = ub
    best_j = a
    best_g = -1
    best_second = np.inf
    own_scanned = False
    for g in range(lower.shape[1]):
        if lower[i, g] - drift[now, g] > best:
            continue
        m1, j1, m2 = _scan_group(X, i, grouped, members, size, g, dist)
        own_scanned = own_scanned or g == group_of[a]
        lower[i, g] = _down(m1 + drift[now, g])
        if m1 < best or (m1 == best and j1 <= best_j):
            best = m1
            best_j = j1
            best_g = g
            best_second = m2
    if best_g >= 0:
        lower[i, best_g] = _down(best_second + drift[now, best_g])
    if best_j != a and not own_scanned:
        ga = group_of[a]
        lower[i, ga] = min(lower[i, ga], _down(ub + drift[now, ga]))
    return best_j, best


@njit(cache=True, parallel=True)
def _assign(X, centers, labels, upper, lower, glb, shift, drift, drift_max, now, half_gap,
            group_of, grouped, members, size):
    """E-step with Yinyang bounds (Ding et al., 2015); returns how many labels changed.

    ``upper[i]`` bounds the distance to the assigned centre. The lower bounds are kept as of the
    first iteration, so that one is written only when it changes: ``lower[i, g] - drift[now, g]``
    bounds the distance to every centre of group g but the assigned one, and ``glb[i] -
    drift_max[now]`` their minimum, where ``drift[t, g]`` is the summed largest shift in group g
    before iteration t and ``drift_max[t]`` that over all centres. ``half_gap[j]`` is half the
    distance from centre j to its nearest other centre (or 0). Bounds are float32, rounded
    outward; the arithmetic on them is in float64."""
    n = X.shape[0]
    changed = 0
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        changed += _assign_block(b * _BLOCK, min(n, (b + 1) * _BLOCK), X, centers, labels, upper,
                                 lower, glb, shift, drift, drift_max, now, half_gap, group_of,
                                 grouped, members, size)
    return changed


@njit(cache=True)
def _assign_block(start, stop, X, centers, labels, upper, lower, glb, shift, drift, drift_max,
                  now, half_gap, group_of, grouped, members, size):
    """:func:`_assign` over points ``start`` to ``stop``; returns how many labels changed."""
    dist = np.empty(grouped.shape[2])
    moved = 0
    for i in range(start, stop):
        a = labels[i]
        ub = upper[i] + shift[a]
        m = max(glb[i] - drift_max[now], half_gap[a])
        if ub < m:
            upper[i] = _up(ub)
            continue
        ub = np.sqrt(sqdist(X, i, centers, a))
        upper[i] = _up(ub)
        if ub < m:
            continue
        m = _least_bound(lower, i, drift, now)
        glb[i] = _down(m + drift_max[now])
        if ub < m:  # every other centre still ruled out (ub >= half_gap[a] here)
            continue
        best_j, best = _search_groups(X, i, a, ub, lower, drift, now, group_of, grouped,
                                      members, size, dist)
        if best_j != a:
            labels[i] = best_j
            upper[i] = _up(best)
            moved += 1
        glb[i] = _down(_least_bound(lower, i, drift, now) + drift_max[now])
    return moved


@njit(cache=True)
def _half_gaps(centers, out):
    out[:] = np.inf
    for a in range(centers.shape[0]):
        for b in range(a + 1, centers.shape[0]):
            d = 0.5 * np.sqrt(sqdist(centers, a, centers, b))
            out[a] = min(out[a], d)
            out[b] = min(out[b], d)


@njit(cache=True)
def _update(X, w, centers, labels, counted, sums, weight, n_fixed, recount):
    """M-step, with scikit-learn's relocation of empty clusters to far points; the first
    ``n_fixed`` centres neither move nor take relocated points. ``sums`` and ``weight`` hold each
    cluster's weighted coordinate sums and weight for the labels ``counted``. With ``recount``
    they are summed afresh in point order; otherwise only the points whose label changed since
    move between clusters (a few thousand of the mosaic's 195k colours an iteration: a tenth of
    the work), which is exact for the weights when they are integers (see :func:`lloyd`), and
    a cluster left empty restarts from zero sums. ``counted`` becomes ``labels``. Returns the new
    centres and whether empty clusters were relocated (then the sums count relocated points
    where their labels do not, and must be recounted)."""
    n, d = X.shape
    k = centers.shape[0]
    if recount:
        sums[:] = 0.0
        weight[:] = 0.0
        for i in range(n):
            a = labels[i]
            weight[a] += w[i]
            for f in range(d):
                sums[a, f] += w[i] * X[i, f]
            counted[i] = a
    else:
        for i in range(n):
            a = labels[i]
            b = counted[i]
            if a == b:
                continue
            weight[a] += w[i]
            weight[b] -= w[i]
            for f in range(d):
                sums[a, f] += w[i] * X[i, f]
                sums[b, f] = 0.0 if weight[b] == 0.0 else sums[b, f] - w[i] * X[i, f]
            counted[i] = a
    n_empty = 0
    for j in range(n_fixed, k):
        if weight[j] == 0.0:
            n_empty += 1
    if n_empty > 0:
        nearness = np.empty(n)  # minus each point's squared distance to its centre
        for i in range(n):
            nearness[i] = -sqdist(X, i, centers, labels[i])
        far = np.argsort(nearness, kind="mergesort")
        e = 0
        for j in range(n_fixed, k):
            if weight[j] != 0.0:
                continue
            p = far[e]
            e += 1
            old = labels[p]
            for f in range(d):
                sums[old, f] -= X[p, f] * w[p]
                sums[j, f] = X[p, f] * w[p]
            weight[j] = w[p]
            weight[old] -= w[p]
    new = centers.copy()
    for j in range(n_fixed, k):
        if weight[j] > 0.0:
            for f in range(d):
                new[j, f] = sums[j, f] / weight[j]
    return new, n_empty > 0


@njit(cache=True)
def _groups(centers, group_of, n_groups):
    """The Yinyang groups of the centres: each group's members (ascending, in rows as wide as the
    largest group) and their count, each group's mean centre (coordinate f of group g at [f, g])
    and the radius of the sphere around it that holds the group's centres."""
    k, d = centers.shape
    size = np.zeros(n_groups, np.int64)
    width = 0  # (a loop, not size.max(): that would load Numba's array-math module)
    for j in range(k):
        size[group_of[j]] += 1
        width = max(width, size[group_of[j]])
    members = np.zeros((n_groups, width), np.int64)
    filled = np.zeros(n_groups, np.int64)
    spheres = np.zeros((d, n_groups))
    for j in range(k):
        g = group_of[j]
        members[g, filled[g]] = j
        filled[g] += 1
        for f in range(d):
            spheres[f, g] += centers[j, f]
    for g in range(n_groups):
        for f in range(d):
            spheres[f, g] /= max(1, size[g])
    radius = np.zeros(n_groups)
    for j in range(k):
        g = group_of[j]
        gap = 0.0
        for f in range(d):
            diff = centers[j, f] - spheres[f, g]
            gap += diff * diff
        radius[g] = max(radius[g], np.sqrt(gap))
    return members, size, spheres, radius


@njit(cache=True, inline="always")
def _integral(w):
    """Whether every weight is a whole number (pixel counts)."""
    for i in range(w.shape[0]):
        if w[i] != np.floor(w[i]):
            return False
    return True


@njit(cache=True, inline="always")
def _bounded_inertia(w, upper):
    """The objective as the upper bounds give it (after the first, exact, E-step)."""
    total = 0.0
    for i in range(w.shape[0]):
        total += w[i] * np.float64(upper[i]) ** 2
    return total


@njit(cache=True, inline="always")
def _step_size(centers, new, weight):
    """The summed squared shift of the centres, and the same weighted by the clusters' weights
    (what the step lowers the objective by)."""
    total = 0.0
    gain = 0.0
    for j in range(centers.shape[0]):
        s2 = 0.0
        for f in range(centers.shape[1]):
            s2 += (new[j, f] - centers[j, f]) ** 2
        total += s2
        gain += weight[j] * s2
    return total, gain


@njit(cache=True, inline="always")
def _overshoot(centers, new, weight, n_fixed, relax):
    """Over-relax the update: move the free, non-empty centres ``relax`` of the step further."""
    for j in range(n_fixed, centers.shape[0]):
        if weight[j] > 0.0:
            for f in range(centers.shape[1]):
                new[j, f] += relax * (new[j, f] - centers[j, f])


@njit(cache=True, inline="always")
def _record_shifts(centers, new, group_of, it, shift, drift, drift_max):
    """Each centre's shift from ``centers`` to ``new``, summed into its group's drift and the
    largest into the overall drift, as of iteration ``it + 1`` (see :func:`_assign`)."""
    biggest = 0.0
    for j in range(centers.shape[0]):
        shift[j] = np.sqrt(sqdist(new, j, centers, j))
        biggest = max(biggest, shift[j])
    for g in range(drift.shape[1]):
        drift[it + 1, g] = drift[it, g]
    for j in range(centers.shape[0]):
        g = group_of[j]
        drift[it + 1, g] = max(drift[it + 1, g], drift[it, g] + shift[j])
    drift_max[it + 1] = drift_max[it] + biggest


@njit(cache=True)
def lloyd(X, w, centers_init, n_fixed, group_of, n_groups, max_iter, tol, use_half_gaps,
          min_gain, relax, margins, summary, rows):
    """Weighted Lloyd iterations from ``centers_init`` until the labels stop changing, the total
    squared centre shift is <= ``tol``, an update lowers the objective (by the sum of weight x
    squared shift of the moved centres) by at most ``min_gain`` times the first iteration's (0:
    no such test), or ``max_iter``; the first ``n_fixed`` centres never move. With ``relax`` in
    (0, 1), each update but the last overshoots the means by that fraction of the step (over-
    relaxation: the slow modes of Lloyd's iteration converge faster, the others stay stable while
    ``relax`` < 1); the tests above measure the plain step, and the run ends on the means.
    ``group_of[j]`` in [0, n_groups) is centre j's Yinyang group (best spatially compact).
    Returns (centers, labels (int32), inertia, n_iter, margin): with ``margins``, ``margin[i]``
    (float32) is a lower bound on how much farther than its own centre every other centre is from
    X[i] (from the bounds, no extra distances); otherwise ``margin`` is empty. With ``rows`` not
    empty, the first E-step goes through ``summary`` (see :func:`_assign_via`). When the weights
    are integers (pixel counts), the M-steps update the clusters' weights exactly by the points
    that changed label (see :func:`_update`). Per point it keeps 16 + 4 x n_groups bytes of
    labels and bounds."""
    n, d = X.shape
    k = centers_init.shape[0]
    centers = centers_init.copy()
    labels = np.zeros(n, np.int32)
    upper = np.zeros(n, np.float32)
    lower = np.empty((n, n_groups), np.float32)
    glb = np.empty(n, np.float32)
    members, size, spheres, radius = _groups(centers, group_of, n_groups)
    grouped = np.zeros((n_groups, d, members.shape[1]))
    shift = np.zeros(k)
    drift = np.zeros((max_iter + 1, n_groups))
    drift_max = np.zeros(max_iter + 1)
    half_gap = np.zeros(k)
    counted = np.empty(n, np.int32)  # the labels that sums and weight count
    sums = np.empty((k, d))
    weight = np.empty(k)
    recount = True
    integral = _integral(w)  # then the incremental M-steps keep the weights exact
    strict = False
    n_iter = 0
    first_inertia = 0.0
    for it in range(max_iter):
        n_iter = it + 1
        _group_centers(centers, members, size, grouped)
        if it == 0:
            if rows.shape[0] > 0:
                _assign_via(X, rows, summary, centers, labels, upper, lower, glb, drift, spheres,
                            radius, group_of, grouped, members, size)
            else:
                _assign_all(X, labels, upper, lower, glb, drift, spheres, radius, grouped,
                            members, size)
            changed = n
        else:
            if use_half_gaps:
                _half_gaps(centers, half_gap)
            changed = _assign(X, centers, labels, upper, lower, glb, shift, drift, drift_max, it,
                              half_gap, group_of, grouped, members, size)
        new, relocated = _update(X, w, centers, labels, counted, sums, weight, n_fixed, recount)
        recount = relocated or not integral
        if it == 0 and min_gain > 0.0:
            first_inertia = _bounded_inertia(w, upper)
        total, gain = _step_size(centers, new, weight)
        done = ((it > 0 and changed == 0) or total <= tol
                or (min_gain > 0.0 and gain <= min_gain * first_inertia))
        if relax > 0.0 and not done and not relocated:
            _overshoot(centers, new, weight, n_fixed, relax)
        _record_shifts(centers, new, group_of, it, shift, drift, drift_max)
        centers = new
        if it > 0 and changed == 0:
            strict = relax == 0.0  # relaxed: the labels were for the overshot centres
            break
        if done:
            break
    if not strict:
        if use_half_gaps:
            _half_gaps(centers, half_gap)
        _group_centers(centers, members, size, grouped)
        _assign(X, centers, labels, upper, lower, glb, shift, drift, drift_max, n_iter, half_gap,
                group_of, grouped, members, size)
    inertia = 0.0
    for i in range(n):
        inertia += w[i] * sqdist(X, i, centers, labels[i])
    margin = np.empty(n if margins else 0, np.float32)
    _margins(labels, upper, lower, drift, n_iter, shift, half_gap, strict, use_half_gaps, margin)
    return centers, labels, inertia, n_iter, margin


@njit(cache=True, parallel=True)
def _margins(labels, upper, lower, drift, n_iter, shift, half_gap, strict, use_half_gaps, margin):
    """``margin[i]``: how much farther than its own centre every other centre is at least from
    point i, from the bounds as :func:`lloyd` leaves them (in parallel: 2x faster than serially
    on 195k colours with 32 bound groups)."""
    for i in prange(margin.shape[0]):
        a = labels[i]
        # strict: the last E-step saw the centres before their final (unlabelled) move
        near = np.float64(upper[i]) + (shift[a] if strict else 0.0)
        far = _least_bound(lower, i, drift, n_iter)  # per group: tighter than glb less drift_max
        if use_half_gaps and not strict:
            far = max(far, 2.0 * half_gap[a] - near)
        margin[i] = _down(far - near)
