"""The package's public names as a Python programmer meets them: type hints, error types, inputs."""

from __future__ import annotations

import ast
import inspect
import io
import os
import pickle
import subprocess
import sys
import typing
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from numpy.typing import ArrayLike
from PIL import Image

import quantize


def _public_callables() -> list[tuple[str, object]]:
    """(name, callable) for every callable in ``quantize.__all__``, and the public methods,
    properties and ``__init__`` of its classes."""
    found = []
    for name in quantize.__all__:
        obj = getattr(quantize, name)
        if not callable(obj):
            continue
        found.append((name, obj))
        if inspect.isclass(obj) and obj.__module__.startswith("quantize."):
            for attr, value in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                value = (value.fget if isinstance(value, property)
                         else getattr(value, "__func__", value))
                if callable(value):
                    found.append((f"{name}.{attr}", value))
    return found


def test_every_public_callable_has_type_hints_that_resolve_at_run_time():
    """compress, compress_file and quantize_image named types imported for type checkers only,
    so typing.get_type_hints (pydantic, typer, beartype ...) raised NameError on them."""
    found = _public_callables()
    assert {"compress", "compress_file", "quantize_image", "KMeans.fit"} <= {n for n, _ in found}
    failed = []
    for name, obj in found:
        try:
            typing.get_type_hints(obj)
        except NameError as exc:
            failed.append(f"{name}: {exc}")
    assert not failed, "\n".join(failed)
    assert typing.get_type_hints(quantize.compress)["return"] is quantize.Result


def test_a_parameter_error_is_a_value_error_as_scikit_learns_are():
    """Code written for scikit-learn catches ValueError around a call with a bad value; a
    ParameterError slipped past it. It keeps its exit code, its parameters and its type through
    pickling (a batch's worker process sends it back)."""
    with pytest.raises(ValueError, match="K must be between 1 and 65536, got 0"):
        quantize.compress(np.zeros((2, 2, 3), np.uint8), k=0)
    with pytest.raises(ValueError, match="n_init must be a whole number >= 1"):
        quantize.compress(np.zeros((2, 2, 3), np.uint8), k=2, n_init=0)
    error = quantize.ParameterError("n_init must be", parameters=("n_init",))
    error = pickle.loads(pickle.dumps(error))
    assert type(error) is quantize.ParameterError and isinstance(error, quantize.QuantizeError)
    assert (str(error), error.parameters, error.exit_code) == ("n_init must be", ("n_init",), 2)
    assert not issubclass(quantize.InputError, ValueError)


def test_a_nested_list_of_integers_is_8_bit_values():
    """compress([[0, 255], [255, 0]]) was refused with '.astype(np.uint8)', which a list has not;
    a list's integers (NumPy makes them int64) are taken as 8-bit values, as KMeans.fit takes a
    list as its array. A list of uint16 rows keeps its type."""
    listed = quantize.compress([[0, 255], [255, 0]], k=2)
    assert sorted(map(tuple, listed.palette.tolist())) == [(0, 0, 0), (255, 255, 255)]
    assert listed.indices[0, 0] == listed.indices[1, 1] != listed.indices[0, 1]
    rgb = ([[10, 20, 30], [40, 50, 60]],)
    np.testing.assert_array_equal(quantize.image_from_array(rgb).pixels, np.array(rgb, np.uint8))
    with pytest.raises(quantize.ParameterError, match=r"^a nested list's integers are 8-bit "
                       r"values, 0 to 255, not 0 to 1000 \(np\.array\(image, np\.uint16\) for "
                       r"16-bit"):
        quantize.compress([[0, 1000]])
    with pytest.raises(quantize.ParameterError, match=r"not -1 to 3$"):
        quantize.compress([[-1, 3]])
    rows = [np.full(3, 0xFFFF, np.uint16), np.zeros(3, np.uint16)]
    assert quantize.image_from_array(rows).pixels[0, 0].tolist() == [255, 255, 255]


def test_encode_takes_a_palette_of_integers_0_to_255_as_its_indices():
    """encode took a list or int64 array of indices but refused the same kind of palette ('uint8
    array, got (2, 3) int64'), which a CompressOptions palette takes."""
    palette, indices = [[0, 0, 0], [255, 128, 7]], [[0, 1], [1, 0]]
    packed = quantize.encode(palette, indices)
    assert packed == quantize.encode(np.array(palette, np.uint8), np.array(indices))
    assert quantize.decode(packed).palette.tolist() == palette
    with pytest.raises(quantize.ParameterError, match=r"8-bit values \(uint8, or integers 0 to "
                                                      r"255\), got \(2, 3\) int64"):
        quantize.encode([[0, 0, 0], [256, 0, 0]], indices)


def test_type_checkers_see_every_lazy_export_where_it_loads_from():
    """The exports load on first use through the package's __getattr__, which type checkers and
    IDEs cannot follow: quantize.compress had no signature or completion there. The package
    imports each for them under TYPE_CHECKING, as `name as name`, from the module __getattr__
    loads it from."""
    tree = ast.parse(inspect.getsource(quantize))
    guarded = next(node for node in tree.body if isinstance(node, ast.If)
                   and ast.unparse(node.test) == "TYPE_CHECKING")
    seen = {}
    for node in guarded.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1, ast.unparse(node)
        for alias in node.names:
            assert alias.asname == alias.name, ast.unparse(node)
            seen[alias.name] = node.module
    assert seen == quantize._EXPORTS


def test_compress_reads_a_binary_file_object_as_it_reads_the_file(tmp_path):
    """compress(io.BytesIO(upload)) and compress(open(path, 'rb')) were refused ('not BytesIO'),
    where Pillow takes them; they are read as the file is (orientation, size guard, messages)."""
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the picture is turned for display
    Image.fromarray(np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)).save(path, exif=exif)
    from_path = quantize.compress(path, k=4)
    for stream in (io.BytesIO(path.read_bytes()), open(path, "rb")):
        with stream:
            read = quantize.compress(stream, k=4)
        np.testing.assert_array_equal(read.indices, from_path.indices)
        assert read.notes == from_path.notes and read.indices.shape == (6, 4)
    with open(path, "rb") as fh:
        np.testing.assert_array_equal(quantize.load_image(fh).pixels,
                                      quantize.load_image(path).pixels)
    with open(path, "rb") as named, pytest.raises(quantize.InputError,
                                                  match=r"more than the limit"):
        quantize.compress(named, max_pixels=10)
    with pytest.raises(quantize.InputError, match=r"^the image stream is not an image in a format "
                                                     r"quantize reads \(PNG, JPEG"):
        quantize.compress(io.BytesIO(b"not an image at all"))
    with pytest.raises(quantize.InputError, match=r"^the image stream is empty$"):
        quantize.compress(io.BytesIO())
    closed = io.BytesIO(path.read_bytes())
    closed.close()
    with pytest.raises(quantize.InputError, match=r"^cannot read the image stream: I/O operation "
                                                  r"on closed file"):
        quantize.compress(closed)
    with open(path, encoding="latin-1") as text, pytest.raises(
            quantize.ParameterError, match=r"opened in binary mode \('rb'\), not give str"):
        quantize.compress(text)


def test_load_reads_a_binary_file_object_as_compress_does(tmp_path):
    """load(open(path, 'rb')) said 'a packed file must be a file path, not BufferedReader', and
    decode of it 'load reads a file': each sent the caller to the other."""
    path = tmp_path / "p.qnt"
    path.write_bytes(quantize.encode(np.array([[0, 0, 0], [9, 9, 9]], np.uint8),
                                     np.array([[0, 1], [1, 1]])))
    with open(path, "rb") as fh:
        np.testing.assert_array_equal(quantize.load(fh).pixels(), quantize.load(path).pixels())
    with pytest.raises(quantize.FormatError):
        quantize.load(io.BytesIO(path.read_bytes()[:-1]))
    with open(path, encoding="latin-1") as text, pytest.raises(
            quantize.ParameterError, match=r"opened in binary mode"):
        quantize.load(text)
    fh = open(path, "rb")
    fh.close()  # a closed file, like an empty one, is one InputError, as load_animation's
    with pytest.raises(quantize.InputError, match=r"^cannot read packed file .*p\.qnt: "):
        quantize.load(fh)
    with pytest.raises(quantize.InputError, match=r"^the packed stream is empty$"):
        quantize.load(io.BytesIO())
    with pytest.raises(quantize.FormatError, match=r"^the packed stream: "):
        quantize.load(io.BytesIO(b"not a qnt file"))


def test_options_holding_arrays_compare_and_hash_by_value():
    """CompressOptions(palette=a) == CompressOptions(palette=a.copy()) raised NumPy's 'truth value
    of an array ... is ambiguous', and such options could not key a dict or an lru_cache."""
    palette = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    C, F = quantize.CompressOptions, quantize.FitOptions
    assert C(palette=palette) == C(palette=palette.copy())
    assert C(palette=palette) != C(palette=palette[::-1].copy())
    assert F(k=4, locked=palette[:1]) == F(k=4, locked=palette[:1].copy()) != F(k=4)
    assert F(init_centers=palette) != F(init_centers=palette.astype(np.float64))
    assert len({C(palette=palette), C(palette=palette.copy()), C(), C(fit=F(k=3))}) == 3
    assert C(fit=F(k=3)) != F(k=3) and C() == C()
    assert C(palette=palette) == mock.ANY  # another type's __eq__ is asked, as a dataclass's is


def test_a_max_pixels_of_the_wrong_kind_is_a_parameter_error(tmp_path):
    """compress(path, max_pixels="10") was an InputError blaming the file ("cannot decode the image
    ('>' not supported between ...)"), max_pixels=-5 refused the image as "more than the limit of
    -5", and load(path, max_pixels="10") a TypeError."""
    path = tmp_path / "p.png"
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(path)
    packed = tmp_path / "p.qnt"
    packed.write_bytes(quantize.encode(np.zeros((1, 3), np.uint8), np.zeros((2, 2), np.uint8)))
    for call, value in ((quantize.compress, "10"), (quantize.compress, -5),
                        (quantize.load_image, 2.5), (quantize.load, "10"), (quantize.load, 0)):
        with pytest.raises(quantize.ParameterError,
                           match=rf"^max_pixels must be a whole number >= 1, got {value!r}$"):
            call(packed if call is quantize.load else path, max_pixels=value)
    assert quantize.load_image(path, max_pixels=4).width == 2


def test_compress_names_its_own_words_for_scikit_learns_parameters():
    """compress(img, n_clusters=8, random_state=0), as KMeans takes them, said only "not
    n_clusters, random_state"."""
    with pytest.raises(quantize.ParameterError, match=r"not n_clusters, random_state \(scikit-"
                                                      r"learn's n_clusters, random_state: here k, "
                                                      r"seed\)$"):
        quantize.compress(np.zeros((2, 2, 3), np.uint8), n_clusters=2, random_state=0)
    with pytest.raises(quantize.ParameterError, match=r"fields, not bogus$"):
        quantize.compress(np.zeros((2, 2, 3), np.uint8), bogus=1)


def test_the_package_says_it_is_typed():
    """Without PEP 561's py.typed marker in the installed package, mypy calls quantize untyped
    ('missing library stubs or py.typed marker') and takes every name for Any."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11's
    package = Path(quantize.__file__).parent
    assert (package / "py.typed").is_file()
    config = tomllib.loads((package.parent / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["quantize"]


def test_a_result_gives_its_quantised_pixels_as_the_packed_file_does(tmp_path):
    """An in-memory Result had no way to the quantised image but palette[indices], where a
    PackedImage has pixels()."""
    path = tmp_path / "p.png"
    rgba = np.random.default_rng(0).integers(0, 256, (6, 5, 4), np.uint8)
    Image.fromarray(rgba).save(path)
    result = quantize.compress_file(path, tmp_path / "out", formats="qnt",
                                    options=quantize.CompressOptions(fit=quantize.FitOptions(k=8)))
    pixels = result.pixels()
    assert pixels.shape == (6, 5, 4) and pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, quantize.load(tmp_path / "out" / "p.qnt").pixels())


def test_the_hints_of_what_takes_nested_lists_say_array_like():
    """encode and image_from_array take nested lists, but their hints said np.ndarray, so a type
    checker flagged the calls README shows."""
    for function, names in ((quantize.encode, ("palette", "indices")),
                            (quantize.image_from_array, ("array",))):
        hints = typing.get_type_hints(function)
        assert all(hints[name] == ArrayLike for name in names), (function.__name__, hints)


def test_compress_file_takes_bytes_for_its_outputs_as_for_its_input(tmp_path):
    """compress_file took a bytes path but ended in pathlib's TypeError ("argument should be a str
    object or an os.PathLike object returning str, not <class 'bytes'>") for a bytes out_dir or
    out_file."""
    import os

    path = tmp_path / "p.png"
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(path)
    result = quantize.compress_file(os.fsencode(path), os.fsencode(tmp_path / "out"), formats="qnt")
    assert result.files["qnt"][0] == str(tmp_path / "out" / "p.qnt")
    quantize.compress_file(path, out_file=os.fsencode(tmp_path / "one.png"), formats="png")
    assert (tmp_path / "one.png").is_file()


def test_threads_may_call_the_library_at_once_under_numbas_workqueue_layer(tmp_path):
    """Numba's fallback threading layer, workqueue (where neither OpenMP nor TBB is found), stops
    the process when two threads launch parallel kernels at once ("Concurrent access has been
    detected"): compress, compress_file and KMeans from several threads crashed it."""
    rng = np.random.default_rng(0)
    for n in range(4):
        Image.fromarray(rng.integers(0, 256, (200, 300, 3), np.uint8)).save(tmp_path / f"{n}.png")
    script = f"""
import sys, numba, numpy as np, quantize
from concurrent.futures import ThreadPoolExecutor
X = np.random.default_rng(0).random((20000, 3))
def job(n):
    path = f"{tmp_path}/{{n % 4}}.png"
    quantize.compress_file(path, f"{tmp_path}/out{{n}}", formats="qnt")
    return (quantize.compress(path, k=64).indices.tolist(),
            quantize.KMeans(16, random_state=n % 4).fit(X).predict(X).tolist())
serial = [job(n) for n in range(4)]
with ThreadPoolExecutor(4) as pool:
    assert list(pool.map(job, range(4, 8))) == serial
print(numba.threading_layer())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "NUMBA_THREADING_LAYER": "workqueue"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["workqueue"]


def test_threads_may_animate_at_once_under_numbas_workqueue_layer(tmp_path):
    """As compress's, animate's kernels (the colour count, fits, mapping, GIF coding) run one
    thread at a time under workqueue: two threads animating crashed the process."""
    rng = np.random.default_rng(1)
    frames = [Image.fromarray(rng.integers(0, 256, (60, 80, 3), np.uint8)) for _ in range(4)]
    frames[0].save(tmp_path / "clip.gif", save_all=True, append_images=frames[1:], duration=100)
    script = f"""
import numba, quantize
from concurrent.futures import ThreadPoolExecutor
from quantize.animation.run import AnimationOptions
from quantize.core.fitting import FitOptions
def job(n):
    options = AnimationOptions(fit=FitOptions(k=16 + n % 2), formats=("gif",))
    return quantize.animate(f"{tmp_path}/clip.gif", options).outputs["gif"]
serial = [job(n) for n in range(4)]
with ThreadPoolExecutor(4) as pool:
    assert list(pool.map(job, range(4))) == serial
print(numba.threading_layer())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "NUMBA_THREADING_LAYER": "workqueue"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["workqueue"]
