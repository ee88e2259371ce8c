"""Fake of ComfyUI's ``comfy`` package: only ``comfy.utils.ProgressBar`` (see utils.py)."""
