"""Fake of ComfyUI's ``folder_paths`` module, the part skelext's nodes use, as in ComfyUI
v0.3.64 (``folder_paths.py``): ``models_dir``, ``get_input_directory()``,
``get_output_directory()``, ``get_temp_directory()``, ``get_directory_by_type(type)``,
``get_folder_paths(name)`` and ``get_save_image_path(filename_prefix, output_dir,
image_width=0, image_height=0) -> (full_output_folder, filename, counter, subfolder,
filename_prefix)`` with the same numbering (``prefix_00001_``) and the same refusal of a
prefix that leaves the output folder. ``set_base(path)`` points every folder under one
base, as ``main.py --base-directory`` does.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

base_path = os.getcwd()
models_dir = os.path.join(base_path, "models")
output_directory = os.path.join(base_path, "output")
input_directory = os.path.join(base_path, "input")
temp_directory = os.path.join(base_path, "temp")
folder_names_and_paths: Dict[str, Tuple[List[str], set]] = {}


def set_base(path: str) -> None:
    global base_path, models_dir, output_directory, input_directory, temp_directory
    base_path = os.path.abspath(path)
    models_dir = os.path.join(base_path, "models")
    output_directory = os.path.join(base_path, "output")
    input_directory = os.path.join(base_path, "input")
    temp_directory = os.path.join(base_path, "temp")
    folder_names_and_paths["custom_nodes"] = ([os.path.join(base_path, "custom_nodes")], set())
    for folder in (models_dir, output_directory, input_directory, temp_directory):
        os.makedirs(folder, exist_ok=True)


def get_output_directory() -> str:
    return output_directory


def get_input_directory() -> str:
    return input_directory


def get_temp_directory() -> str:
    return temp_directory


def get_directory_by_type(type_name: str) -> Optional[str]:
    return {"output": output_directory, "input": input_directory, "temp": temp_directory}.get(type_name)


def get_folder_paths(folder_name: str) -> List[str]:
    return folder_names_and_paths[folder_name][0][:]


def get_save_image_path(filename_prefix: str, output_dir: str, image_width=0,
                        image_height=0) -> Tuple[str, str, int, str, str]:
    def map_filename(filename: str) -> Tuple[int, str]:
        prefix_len = len(os.path.basename(filename_prefix))
        prefix = filename[:prefix_len + 1]
        try:
            digits = int(filename[prefix_len + 1:].split("_")[0])
        except ValueError:
            digits = 0
        return digits, prefix

    subfolder = os.path.dirname(os.path.normpath(filename_prefix))
    filename = os.path.basename(os.path.normpath(filename_prefix))
    full_output_folder = os.path.join(output_dir, subfolder)
    if os.path.commonpath((output_dir, os.path.abspath(full_output_folder))) != output_dir:
        raise Exception("**** ERROR: Saving image outside the output folder is not allowed.")
    try:
        counter = max(filter(lambda a: os.path.normcase(a[1][:-1]) == os.path.normcase(filename)
                             and a[1][-1] == "_", map(map_filename, os.listdir(full_output_folder))))[0] + 1
    except (ValueError, FileNotFoundError):
        counter = 1
    return full_output_folder, filename, counter, subfolder, filename_prefix
