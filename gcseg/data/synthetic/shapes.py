"""Drawing pieces of the synthetic VOS benchmark: photographs, shapes, rasterisation.

:mod:`gcseg.data.synthetic.plan` and :mod:`gcseg.data.synthetic.render` plan and render whole
videos; this module holds the pieces they are built from, each small enough to try in a
notebook:

- :func:`load_photos` -- the real photographs that scikit-image ships inside its wheel (no
  download), used for backgrounds and object textures.
- :class:`Shape` -- a star-shaped outline (ellipse, random polygon or Fourier blob) whose radii
  can drift in time (non-rigid deformation), normalised to the area of the unit disk.
- :func:`place` -- the outline moved to the frame: ``x = c_t + s_t R(theta_t) u``.
- :func:`fill_alpha`, :func:`shape_area`, :func:`shape_iou` -- rasterisation with OpenCV
  (``cv2.fillPoly`` with sub-pixel vertices), never per-pixel Python loops.
- :func:`smooth_path`, :func:`fold`, :func:`smoothstep_window` -- smooth random trajectories.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "FAMILIES",
    "PHOTO_FILES",
    "Photo",
    "Shape",
    "load_photos",
    "make_shape",
    "similar_shape",
    "place",
    "bounding_box",
    "fill_alpha",
    "shape_area",
    "shape_iou",
    "smooth_path",
    "fold",
    "smoothstep_window",
]

FAMILIES: tuple[str, ...] = ("ellipse", "polygon", "blob")
"""Shape families of the synthetic objects."""

PHOTO_FILES: dict[str, str] = {
    # colour photographs
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "retina": "retina.jpg",
    "rocket": "rocket.jpg",
    "stereo_motorcycle": "motorcycle_left.png",
    # grayscale photographs (made RGB)
    "brick": "brick.png",
    "camera": "camera.png",
    "cell": "cell.png",
    "coins": "coins.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "moon": "moon.png",
    "page": "page.png",
    "text": "text.png",
}
"""``skimage.data`` loader name -> the file it reads from inside the scikit-image package.

Only photographs whose file ships in the scikit-image wheel are listed, so loading them never
touches the network (``eagle``, ``lily``, ``skin``, ... are downloaded by pooch and are left out;
so are the synthetic, tiny or nearly flat ones: ``logo``, ``horse``, ``checkerboard``,
``microaneurysms``, ``clock``).
"""

_SUBPIXEL_BITS = 4  # cv2.fillPoly shift: vertices in 1/16 pixel
_SUBPIXEL = 1 << _SUBPIXEL_BITS


@dataclass(frozen=True, eq=False)
class Photo:
    """A photograph from ``skimage.data``: ``image`` is ``(H, W, 3)`` uint8 RGB, read-only.

    ``pyramid[i]`` is the image shrunk ``2**i`` times (``cv2.pyrDown``), so that a strongly
    shrinking warp can sample a pre-filtered level instead of aliasing (:meth:`warp`).
    """

    name: str
    image: np.ndarray
    pyramid: tuple[np.ndarray, ...] = ()

    @classmethod
    def from_image(cls, name: str, image: np.ndarray) -> Photo:
        levels = [image]
        while min(levels[-1].shape[:2]) >= 64:
            level = cv2.pyrDown(levels[-1])
            level.setflags(write=False)
            levels.append(level)
        return cls(name, image, tuple(levels))

    def warp(self, affine: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
        """Sample the photo at ``affine @ (x, y, 1)`` for every output pixel ``(x, y)``.

        ``affine`` ``(2, 3)`` maps output pixels to photo pixels; returns ``(h, w, 3)`` uint8
        with reflected borders.  When one output pixel spans ``f >= 2`` photo pixels the
        pyramid level ``floor(log2 f)`` is sampled instead (its coordinates are halved per level).
        """
        spread = np.sqrt(abs(np.linalg.det(affine[:, :2])))  # photo pixels per output pixel
        level = int(np.clip(np.floor(np.log2(max(spread, 1.0))), 0, len(self.pyramid) - 1))
        source = self.pyramid[level] if self.pyramid else self.image
        return cv2.warpAffine(
            source, affine / (1 << level), size_wh,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT_101,
        )


def _to_rgb(image: np.ndarray, name: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)  # (H, W) -> (H, W, 3)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
        raise ValueError(f"skimage.data.{name}: unexpected image {image.shape} {image.dtype}")
    image = np.ascontiguousarray(image[:, :, :3])
    image.setflags(write=False)
    return image


@functools.lru_cache(maxsize=1)
def load_photos() -> tuple[Photo, ...]:
    """Load the photographs of :data:`PHOTO_FILES` that are present in the installed package.

    A loader is called only when its file is inside the scikit-image package folder, so nothing
    is downloaded. The result is cached (the images are read-only) and ordered as
    :data:`PHOTO_FILES`, so a seed picks the same photographs on every run.
    """
    import skimage.data

    package_dir = Path(skimage.data.__file__).parent
    photos = []
    for name, filename in PHOTO_FILES.items():
        if not (package_dir / filename).is_file():
            continue
        image = getattr(skimage.data, name)()
        if isinstance(image, tuple):  # stereo_motorcycle -> (left, right, disparity)
            image = image[0]
        photos.append(Photo.from_image(name, _to_rgb(image, name)))
    if len(photos) < 4:
        raise RuntimeError(
            f"{package_dir}: found only {len(photos)} of the scikit-image photographs "
            f"{sorted(PHOTO_FILES)}; the synthetic benchmark needs at least 4"
        )
    return tuple(photos)


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Shape:
    """A star-shaped outline with radii drifting in time (non-rigid deformation).

    The outline at time ``t`` has vertices at ``angles`` (radians, increasing) with radii::

        r(t) = rest * exp(sum_m amplitude_m * sin(2 pi freq_m t + phase_m) * modes_m)

    rescaled so that the polygon has area ``pi`` (the unit disk's): the object's size is then set
    by its scale alone and the shape only changes form.  ``modes`` are log-radius deformation
    modes: Fourier terms ``cos(k angle + phi)`` for blobs (their coefficients drift), one vertex
    each for polygons, and ``cos 2(angle - axis)`` (breathing) for ellipses.  With all amplitudes
    zero the shape is rigid.
    """

    family: str
    angles: np.ndarray  # (N,)
    rest: np.ndarray  # (N,) radii at rest
    modes: np.ndarray  # (M, N) log-radius modes
    amplitude: np.ndarray  # (M,)
    freq: np.ndarray  # (M,) cycles per frame
    phase: np.ndarray  # (M,)

    def radii(self, t: float) -> np.ndarray:
        """``(N,)`` radii at frame ``t``, area-normalised to ``pi``."""
        wave = self.amplitude * np.sin(2 * np.pi * self.freq * t + self.phase)  # (M,)
        radii = self.rest * np.exp(wave @ self.modes)  # (N,)
        return radii * np.sqrt(np.pi / _star_area(self.angles, radii))

    def outline(self, t: float) -> np.ndarray:
        """``(N, 2)`` vertices ``(x, y)`` in shape units at frame ``t``."""
        radii = self.radii(t)
        return np.stack([radii * np.cos(self.angles), radii * np.sin(self.angles)], axis=1)


def _star_area(angles: np.ndarray, radii: np.ndarray) -> float:
    """Area of the polygon with vertices at (angle, radius), by the shoelace formula."""
    x, y = radii * np.cos(angles), radii * np.sin(angles)
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _polygon_angles(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` sorted angles, jittered around an even spacing (keeps the polygon star-shaped)."""
    base = np.arange(n) * (2 * np.pi / n)
    jitter = rng.uniform(-0.35, 0.35, n) * (2 * np.pi / n)
    return np.sort(base + jitter + rng.uniform(0, 2 * np.pi)) % (2 * np.pi)


def make_shape(
    rng: np.random.Generator, family: str, *, deform: bool, n_points: int = 64
) -> Shape:
    """A random shape of ``family`` (see :data:`FAMILIES`); ``deform`` gives it strong drift.

    Rigid-looking shapes still get a faint drift (amplitude <= 0.03) as real objects do.
    """
    strength = (0.22, 0.38) if deform else (0.0, 0.03)
    if family == "ellipse":
        angles = np.linspace(0, 2 * np.pi, n_points, endpoint=False)
        aspect, axis = rng.uniform(1.0, 2.2), rng.uniform(0, np.pi)
        a, b = np.sqrt(aspect), 1 / np.sqrt(aspect)
        local = angles - axis
        rest = a * b / np.sqrt((b * np.cos(local)) ** 2 + (a * np.sin(local)) ** 2)
        modes = np.cos(2 * local)[None, :]  # (1, N) breathing
    elif family == "polygon":
        n = int(rng.integers(3, 9))
        angles = _polygon_angles(rng, n)
        rest = rng.uniform(0.65, 1.25, n)
        modes = np.eye(n)  # (n, n): each vertex drifts on its own
    elif family == "blob":
        angles = np.linspace(0, 2 * np.pi, n_points, endpoint=False)
        orders = np.arange(2, 6)  # (4,)
        coeffs = rng.normal(0, 1, 4) * 0.28 / orders
        phases = rng.uniform(0, 2 * np.pi, 4)
        rest = np.exp(coeffs @ np.cos(orders[:, None] * angles[None, :] + phases[:, None]))
        drift_phase = rng.uniform(0, 2 * np.pi, 4)
        modes = np.cos(orders[:, None] * angles[None, :] + drift_phase[:, None]) / np.sqrt(
            orders[:, None]
        )  # (4, N)
    else:
        raise ValueError(f"unknown shape family {family!r}; expected one of {FAMILIES}")
    count = modes.shape[0]
    return Shape(
        family=family,
        angles=angles,
        rest=rest,
        modes=modes,
        amplitude=rng.uniform(*strength, count),
        freq=rng.uniform(1 / 50, 1 / 15, count),
        phase=rng.uniform(0, 2 * np.pi, count),
    )


def similar_shape(rng: np.random.Generator, shape: Shape, jitter: float = 0.12) -> Shape:
    """A look-alike of ``shape``: same family and vertices, radii perturbed by ~``jitter``."""
    orders = np.arange(1, 5)[:, None]  # (4, 1): smooth, low-order log-radius perturbation
    terms = np.cos(orders * shape.angles[None, :] + rng.uniform(0, 2 * np.pi, (4, 1)))
    noise = (rng.normal(0, jitter, (4, 1)) / orders * terms).sum(axis=0)  # (N,)
    rest = shape.rest * np.exp(noise)
    return Shape(
        family=shape.family,
        angles=shape.angles,
        rest=rest,
        modes=shape.modes,
        amplitude=shape.amplitude,
        freq=shape.freq,
        phase=rng.uniform(0, 2 * np.pi, shape.phase.shape),
    )


def place(outline: np.ndarray, center: np.ndarray, scale: float, angle: float) -> np.ndarray:
    """Vertices in frame pixels: ``x = center + scale * R(angle) u`` for ``(N, 2)`` ``u``."""
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    return center[None, :] + scale * outline @ rotation.T  # (N, 2)


# --------------------------------------------------------------------------- rasterisation


def _fixed(points: np.ndarray) -> np.ndarray:
    """``(N, 2)`` float pixels -> ``(N, 1, 2)`` int32 fixed point for ``cv2.fillPoly``."""
    return np.round(points * _SUBPIXEL).astype(np.int32)[:, None, :]


def fill_alpha(points: np.ndarray, shape_hw: tuple[int, int], offset=(0, 0)) -> np.ndarray:
    """Soft coverage ``(h, w)`` uint8 0..255 of the polygon ``points`` (frame pixels).

    OpenCV's anti-aliased fill: pixels whose centres lie inside the closed polygon get 255 and
    the edges fade out over about one pixel (the frame blends textures with it).  A pixel belongs
    to the object's mask when its coverage is >= 128.  ``offset = (x0, y0)`` is the top-left
    pixel of the ``(h, w)`` window to draw into; windows at integer offsets rasterise alike.
    """
    canvas = np.zeros(shape_hw, dtype=np.uint8)
    shifted = points - np.asarray(offset, dtype=np.float64)[None, :]
    cv2.fillPoly(canvas, [_fixed(shifted)], 255, lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    return canvas


def bounding_box(points: np.ndarray, pad: float = 0.0) -> tuple[int, int, int, int]:
    """Integer ``(x0, y0, x1, y1)`` (exclusive ends) around ``points`` plus ``pad`` pixels."""
    x0, y0 = np.floor(points.min(axis=0) - pad - 1).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + pad + 2).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def shape_area(points: np.ndarray) -> int:
    """Pixels of the whole (unclipped) shape, rasterised exactly as in a frame.

    The shape is drawn into its own bounding box; the window starts at an integer pixel, so the
    rasterisation matches the one in the frame and ``in-frame area / shape_area`` measures how
    much of the shape the frame border cuts off.
    """
    x0, y0, x1, y1 = bounding_box(points)
    return int(np.count_nonzero(fill_alpha(points, (y1 - y0, x1 - x0), (x0, y0)) >= 128))


def shape_iou(outline_a: np.ndarray, outline_b: np.ndarray, pixels: int = 64) -> float:
    """IoU of two outlines in shape units (same centre, no rotation), on a ``pixels`` canvas."""
    unit = pixels / 5.0  # the unit-area shapes stay within radius ~2.5
    center = np.array([pixels / 2, pixels / 2])
    a = fill_alpha(center + unit * outline_a, (pixels, pixels)) >= 128
    b = fill_alpha(center + unit * outline_b, (pixels, pixels)) >= 128
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 1.0


# --------------------------------------------------------------------------- trajectories


def smooth_path(
    rng: np.random.Generator, n_frames: int, speed: float, wiggle: float, size_xy: np.ndarray
) -> np.ndarray:
    """``(T, 2)`` smooth random offsets from 0: constant velocity plus two slow sinusoids.

    ``speed`` is pixels per frame; ``wiggle`` the sinusoids' amplitude as a fraction of
    ``size_xy`` (the frame's ``(W, H)``); their periods are 25 to 90 frames, so motion per
    frame does not depend on the video's length.
    """
    t = np.arange(n_frames, dtype=np.float64)[:, None]  # (T, 1)
    heading = rng.uniform(0, 2 * np.pi)
    path = speed * t * np.array([np.cos(heading), np.sin(heading)])[None, :]  # (T, 2)
    for _ in range(2):
        amplitude = wiggle * rng.uniform(0.3, 1.0, 2) * size_xy  # (2,)
        cycles = rng.uniform(1 / 90, 1 / 25, 2)  # per frame
        phase = rng.uniform(0, 2 * np.pi, 2)
        wave = np.sin(2 * np.pi * cycles * t + phase)
        path += amplitude * (wave - np.sin(phase))  # starts at 0
    return path


def fold(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect ``values`` into ``[low, high]`` (a triangle wave): objects bounce off walls."""
    if high <= low:
        return np.full_like(values, (low + high) / 2)
    span = high - low
    phase = np.mod(values - low, 2 * span)
    return low + span - np.abs(phase - span)


def smoothstep_window(n_frames: int, start: int, ramp: int, plateau: int) -> np.ndarray:
    """``(T,)`` weights: 0, a smoothstep up over ``ramp`` frames, 1 for ``plateau``, back to 0.

    Frames ``start + ramp .. start + ramp + plateau - 1`` have weight exactly 1.
    """
    t = np.arange(n_frames, dtype=np.float64)
    up = np.clip((t - start) / ramp, 0, 1)
    down = np.clip((start + 2 * ramp + plateau - 1 - t) / ramp, 0, 1)
    x = np.minimum(up, down)
    return x * x * (3 - 2 * x)
