"""Counting: bincount and the histograms.

A count is piecewise constant in the data, so only two things carry derivatives: the
``weights`` (a weighted count is linear in them: bincount's rule, whose transpose reads each
weight's bin) and the bin edges that come from the data (``bins=n`` spans [min, max] of the
data, so the edges, and a density divided by their widths, move with the extremes). Which bin
each value falls in is decided on the concrete values. Edges from NumPy's named estimators
(``bins='auto'``, ...) are refused for traced data: pass a number of bins or the edges.
"""
import operator

import numpy as np

from ..core.levels import Tracer, primal
from ..errors import DifferentiationError
from ._helpers import (ZERO, as_array, derived_through, dtype_of, forward, is_zero,
                       non_differentiable, reverse, shape_of, to_dense)


# ---------------------------------------------------------------------------------------------
# bincount: linear in the weights
# ---------------------------------------------------------------------------------------------


@reverse(np.bincount)
def _bincount(needs, x, weights=None, minlength=0):
    out = np.bincount(x, weights, minlength)

    def bincount_pullback(ct):
        if len(needs) < 2 or not needs[1]:
            return (ZERO,) * len(needs)
        g = ct[np.asarray(x)]
        g = g if dtype_of(g) == dtype_of(weights) else g.astype(dtype_of(weights))
        return (ZERO, g) + (ZERO,) * (len(needs) - 2)

    return out, bincount_pullback


@forward(np.bincount)
def _bincount_forward(tangents, x, weights=None, minlength=0):
    out = np.bincount(x, weights, minlength)
    t = tangents[1] if len(tangents) > 1 else ZERO
    return out, ZERO if is_zero(t) else np.bincount(x, to_dense(t), minlength)


non_differentiable(np.digitize)


# ---------------------------------------------------------------------------------------------
# Bin edges
# ---------------------------------------------------------------------------------------------


def _traced(*values):
    return any(isinstance(v, Tracer) for v in values) or any(
        isinstance(v, (list, tuple)) and _traced(*v) for v in values)


def _outer_edges(a, value_range):
    """The first and last edge for equal-width bins: the range, or the extremes of the data
    (widened by 1/2 on each side when they are equal, as NumPy does)."""
    if value_range is not None:
        first, last = value_range
    elif shape_of(a)[0] == 0:
        first, last = 0.0, 1.0
    else:
        first, last = np.min(a), np.max(a)
    if primal(first) == primal(last):
        first, last = first - 0.5, last + 0.5
    return first, last


def _edges(a, bins, value_range, expected):
    """Traced bin edges of the flat data ``a`` for ``bins`` (a count or the edges), equal to
    NumPy's ``expected`` edges."""
    if np.ndim(bins) == 1:
        return as_array(bins)
    first, last = _outer_edges(a, value_range)
    return np.linspace(first, last, operator.index(bins) + 1, dtype=dtype_of(expected))


def _named_bins(bins, a, value_range):
    if isinstance(bins, str) and _traced(a, value_range):
        raise DifferentiationError(
            f"np.histogram with bins={bins!r} on traced data: the edges NumPy's estimator "
            "picks have no derivative in wengert. Pass the number of bins (bins=10) or the "
            "edges themselves.")


@derived_through(np.histogram_bin_edges)
def _histogram_bin_edges(a, bins=10, range=None, weights=None):
    _named_bins(bins, a, range)
    a = np.ravel(as_array(a))
    expected = np.histogram_bin_edges(primal(a), _plain(bins), _plain(range), _plain(weights))
    return expected if isinstance(bins, str) else _edges(a, bins, range, expected)


def _plain(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return primal(value)


def _bin_of(values, edges, count):
    """Each value's bin among ``count`` bins (the last one closed), -1 or ``count`` outside."""
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = count - 1
    return index


def _weighted_counts(index, weights, length):
    """How many values (or how much weight) fall in each of ``length`` bins."""
    if weights is None:
        return np.bincount(index, minlength=length)
    if dtype_of(weights).kind == "c":   # bincount sums real weights
        return (_weighted_counts(index, np.real(weights), length)
                + 1j * _weighted_counts(index, np.imag(weights), length))
    counts = np.bincount(index, weights, length)
    return counts if dtype_of(counts) == dtype_of(weights) else counts.astype(dtype_of(weights))


@derived_through(np.histogram)
def _histogram(a, bins=10, range=None, density=None, weights=None):
    _named_bins(bins, a, range)
    a = np.ravel(as_array(a))
    edges = np.histogram_bin_edges(a, bins, range, weights)
    plain_edges = primal(edges)
    count = shape_of(plain_edges)[0] - 1
    index = _bin_of(primal(a), plain_edges, count)
    inside = (index >= 0) & (index < count)
    if weights is not None:
        weights = np.ravel(as_array(weights))[inside]
    hist = _weighted_counts(index[inside], weights, count)
    if density:
        widths = np.diff(edges).astype(float)
        return hist / widths / np.sum(hist), edges
    return hist, edges


@derived_through(np.histogramdd)
def _histogramdd(sample, bins=10, range=None, density=None, weights=None):
    if not hasattr(sample, "shape") or len(shape_of(sample)) != 2:
        # A sequence of D coordinate arrays (or one array of values): points are its columns.
        sample = np.transpose(np.atleast_2d(as_array(sample)))
    n, dims = shape_of(sample)
    bins = [bins] * dims if np.ndim(bins) == 0 else list(bins)
    ranges = [None] * dims if range is None else list(range)
    edges, indices, lengths = [], [], []
    for i, (count, value_range) in enumerate(zip(bins, ranges)):
        _named_bins(count, sample, value_range)
        column = sample[:, i]
        expected = np.histogram_bin_edges(primal(column), _plain(count), _plain(value_range))
        edge = _edges(column, count, value_range, expected)
        count = shape_of(expected)[0] - 1
        # Outliers go to an extra bin at each end of every axis, dropped below.
        indices.append(_bin_of(primal(column), expected, count) + 1)
        lengths.append(count + 2)
        edges.append(edge if dtype_of(edge).kind == "f" else edge.astype(float))
    flat = np.ravel_multi_index(indices, lengths, mode="clip")
    if weights is not None:
        weights = np.ravel(as_array(weights))
    hist = np.reshape(_weighted_counts(flat, weights, int(np.prod(lengths))), lengths)
    hist = hist[(slice(1, -1),) * dims]
    hist = hist if dtype_of(hist) == np.dtype(float) else hist.astype(float)
    if density:
        total = np.sum(hist)
        for i, edge in enumerate(edges):
            shape = [1] * dims
            shape[i] = -1
            hist = hist / np.reshape(np.diff(edge), shape)
        hist = hist / total
    return hist, edges


@derived_through(np.histogram2d)
def _histogram2d(x, y, bins=10, range=None, density=None, weights=None):
    if not isinstance(bins, str) and np.ndim(bins) == 1 and len(bins) not in (1, 2):
        bins = [bins, bins]   # one array of edges for both axes
    hist, edges = np.histogramdd([x, y], bins, range, density, weights)
    return hist, edges[0], edges[1]
