"""Fake sd-webui-controlnet >= 1.1.444 ``scripts/supported_preprocessor.py``, per host-notes.

A ``@dataclass`` ABC ``Preprocessor``: ``name`` required, ``_label=None`` (``label``
is ``_label or name``), ``tags``, sliders as ``PreprocessorParameter``; the class
registry asserts a new name and label; ``get_preprocessor`` looks up the label,
then the name; calls go through ``cached_call``, which wraps the value in ``Result``.

Checked against sd-webui-controlnet v1.1.455 (56cec5b2), where it differed before:
``cached_call`` goes through ``_cached_call``, an ``ndarray_lru_cache`` (``scripts/utils.py``):
the image reaches ``__call__`` as a ``HashableNpArray`` (an ndarray subclass whose ``==``
returns one bool) and every argument, the pose callback included, is part of the cache
key (a new callback each request, so the real route never hits the cache).
"""
import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, NamedTuple, Optional

import numpy as np


class HashableNpArray(np.ndarray):
    """ControlNet's ``ndarray_lru_cache`` wrapper type: equality is one bool, hash the bytes."""

    def __new__(cls, input_array):
        return np.asarray(input_array).view(cls)

    def __eq__(self, other) -> bool:
        return np.array_equal(self, other)

    def __hash__(self):
        return hash(self.tobytes())


def ndarray_lru_cache(max_size: int = 128):
    def decorator(func):
        @functools.lru_cache(maxsize=max_size)
        def cached_func(*args, **kwargs):
            return func(*args, **kwargs)

        @functools.wraps(func)
        def decorated(*args, **kwargs):
            def convert(item):
                if isinstance(item, np.ndarray):
                    return HashableNpArray(item)
                if isinstance(item, tuple):
                    return tuple(convert(i) for i in item)
                return item

            return cached_func(*[convert(a) for a in args], **{k: convert(v) for k, v in kwargs.items()})

        return decorated

    return decorator


@dataclass
class PreprocessorParameter:
    label: str = "EMPTY_LABEL"
    minimum: float = 0.0
    maximum: float = 1.0
    step: float = 0.01
    value: float = 0.5
    visible: bool = True

    @property
    def gradio_update_kwargs(self) -> dict:
        return dict(minimum=self.minimum, maximum=self.maximum, step=self.step, label=self.label,
                    value=self.value, visible=self.visible)


@dataclass
class Preprocessor(ABC):
    name: str
    _label: str = None
    tags: List[str] = field(default_factory=list)
    slider_resolution = PreprocessorParameter(label="Resolution", minimum=64, maximum=2048, value=512, step=8,
                                              visible=True)
    slider_1 = PreprocessorParameter(visible=False)
    slider_2 = PreprocessorParameter(visible=False)
    slider_3 = PreprocessorParameter(visible=False)
    returns_image: bool = True
    show_control_mode = True
    do_not_need_model = False
    sorting_priority = 0
    accepts_mask: bool = False
    requires_mask: bool = False
    use_soft_projection_in_hr_fix = False
    model: Optional[Any] = None

    all_processors: ClassVar[Dict[str, "Preprocessor"]] = {}
    all_processors_by_name: ClassVar[Dict[str, "Preprocessor"]] = {}

    @property
    def label(self) -> str:
        return self._label if self._label is not None else self.name

    @classmethod
    def add_supported_preprocessor(cls, p: "Preprocessor"):
        assert p.label not in cls.all_processors, f"{p.label} already registered!"
        cls.all_processors[p.label] = p
        assert p.name not in cls.all_processors_by_name, f"{p.name} already registered!"
        cls.all_processors_by_name[p.name] = p

    @classmethod
    def get_preprocessor(cls, name: str) -> Optional["Preprocessor"]:
        return cls.all_processors.get(name, cls.all_processors_by_name.get(name, None))

    class Result(NamedTuple):
        value: Any
        display_images: List[Any]

    def cached_call(self, input_image, *args, **kwargs) -> "Preprocessor.Result":
        result = self._cached_call(input_image, *args, **kwargs)
        if isinstance(result, Preprocessor.Result):
            return result
        return Preprocessor.Result(value=result, display_images=[result if self.returns_image else input_image])

    @ndarray_lru_cache(max_size=16)
    def _cached_call(self, *args, **kwargs):
        return self(*args, **kwargs)

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        return self.__hash__() == other.__hash__()

    @abstractmethod
    def __call__(self, input_image, resolution, slider_1=None, slider_2=None, slider_3=None, input_mask=None,
                 **kwargs):
        pass

    def unload(self):
        if self.model is not None:
            if hasattr(self.model, "unload_model"):
                self.model.unload_model()
                return True
            if hasattr(self.model, "to"):
                self.model.to("cpu")
                return True
        return False


class PreprocessorNone(Preprocessor):
    def __init__(self):
        super().__init__(name="none")

    def __call__(self, input_image, resolution, slider_1=None, slider_2=None, slider_3=None, input_mask=None,
                 **kwargs):
        return input_image


Preprocessor.add_supported_preprocessor(PreprocessorNone())
