"""The pose editor's picture: an SVG (as an HTML string) drawn from an ``EditSession``.

The browser script (``javascript/skelext.js``) only makes it interactive: it
drags ``circle.skelext-joint`` elements (reading ``data-person`` /
``data-point``), moves the ``line.skelext-limb`` ends named by ``data-a`` /
``data-b`` and translates the ``g.skelext-follow`` group (hand or face) whose
``data-anchor`` is the dragged point, then reports the drop in canvas pixels.
Those class names and data attributes are the contract with the script.

The view box covers the canvas and every point, so completed points beyond
the image edge are visible and draggable.
"""
from __future__ import annotations

import base64
import html
import io
import itertools
from typing import List, Optional, Tuple

import numpy as np

from .edit_session import EditSession
from .pose import BODY_NAMES, L_WRIST, LIMBS, N_BODY, NOSE, R_WRIST, Person, Source
from .render import BODY_COLORS, HAND_EDGES, LOW_CONFIDENCE, hand_edge_color

_revision = itertools.count(1)

LEGEND = (
    '<div class="skelext-legend">'
    '<span><i class="skelext-key skelext-key-detected"></i>detected</span>'
    '<span><i class="skelext-key skelext-key-completed"></i>completed</span>'
    '<span><i class="skelext-key skelext-key-lowconf"></i>completed, low confidence</span>'
    '<span><i class="skelext-key skelext-key-edited"></i>edited</span>'
    '<span><i class="skelext-key skelext-key-hidden"></i>hidden</span>'
    '<span><i class="skelext-key skelext-key-locked"></i>locked</span>'
    '<span class="skelext-hint">drag a point; click to select it; dashed frame = the canvas (control image)</span>'
    "</div>"
)


def _rgb(color) -> str:
    r, g, b = (int(round(c)) for c in color)
    return f"rgb({r},{g},{b})"


def _num(value: float) -> str:
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def image_data_url(image: np.ndarray, fmt: str = "JPEG") -> str:
    """(H, W, 3) uint8 RGB -> data: URL (JPEG for photos, PNG for drawings)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image[..., :3], dtype=np.uint8)).save(
        buffer, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    mime = "image/jpeg" if fmt == "JPEG" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def view_box(session: EditSession, margin: float = 0.06) -> Tuple[float, float, float, float]:
    """(x, y, w, h) covering the canvas and every body/hand/face point, plus a margin."""
    frame = session.frame
    xs: List[float] = [0.0, float(frame.canvas_width)]
    ys: List[float] = [0.0, float(frame.canvas_height)]
    for person in frame.people:
        for part in (person.body, person.hand_left, person.hand_right, person.face):
            if part is not None:
                present = part[part[:, 2] > 0]
                xs.extend(present[:, 0].tolist())
                ys.extend(present[:, 1].tolist())
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = margin * max(x1 - x0, y1 - y0)
    return x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad


def _joint_kind(session: EditSession, p: int, i: int, person: Person) -> str:
    if session.hidden[p, i]:
        return "hidden"
    source = int(person.source[i])
    if source == Source.EDITED:
        return "edited"
    if source == Source.COMPLETED:
        conf = None if person.completion_confidence is None else float(person.completion_confidence[i])
        return "lowconf" if conf is not None and conf < LOW_CONFIDENCE else "completed"
    return "detected"


def _part_group(person: Person, p: int, name: str, anchor: int, r: float) -> str:
    part = getattr(person, name)
    if part is None:
        return ""
    out = [f'<g class="skelext-follow skelext-{name.replace("_", "-")}" data-person="{p}" data-anchor="{anchor}">']
    present = part[:, 2] > 0
    if name != "face":
        for k, (a, b) in enumerate(HAND_EDGES):
            if present[a] and present[b]:
                out.append(f'<line x1="{_num(part[a, 0])}" y1="{_num(part[a, 1])}" x2="{_num(part[b, 0])}" '
                           f'y2="{_num(part[b, 1])}" stroke="{_rgb(hand_edge_color(k))}" '
                           f'stroke-width="{_num(r * 0.35)}"/>')
    fill = "rgb(255,255,255)" if name == "face" else "rgb(0,0,255)"
    for x, y, c in part:
        if c > 0:
            out.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(r * 0.35)}" fill="{fill}"/>')
    out.append("</g>")
    return "".join(out)


def _person_svg(session: EditSession, p: int, person: Person, r: float, selected_point: Optional[int]) -> str:
    body = person.body
    hidden = session.hidden[p]
    shown = (body[:, 2] > 0) & ~hidden
    is_selected = p == session.selected_person
    out = [f'<g class="skelext-person{" skelext-selected-person" if is_selected else ""}" data-person="{p}">']
    for name, anchor in (("hand_left", L_WRIST), ("hand_right", R_WRIST), ("face", NOSE)):
        out.append(_part_group(person, p, name, anchor, r))
    for (a, b), color in zip(LIMBS, BODY_COLORS):
        if shown[a] and shown[b]:
            completed = person.source[a] == Source.COMPLETED or person.source[b] == Source.COMPLETED
            cls = "skelext-limb skelext-limb-completed" if completed else "skelext-limb"
            dash = f' stroke-dasharray="{_num(r)} {_num(r * 0.6)}"' if completed else ""
            out.append(f'<line class="{cls}" data-person="{p}" data-a="{a}" data-b="{b}" '
                       f'x1="{_num(body[a, 0])}" y1="{_num(body[a, 1])}" x2="{_num(body[b, 0])}" '
                       f'y2="{_num(body[b, 1])}" stroke="{_rgb(color)}" '
                       f'stroke-width="{_num(r * (0.45 if completed else 0.9))}"{dash}/>')
    for i in range(N_BODY):
        if body[i, 2] <= 0:
            continue
        kind = _joint_kind(session, p, i, person)
        classes = ["skelext-joint", f"skelext-{kind}"]
        if session.locked[p, i]:
            classes.append("skelext-locked")
        if is_selected and selected_point == i:
            classes.append("skelext-selected")
        color = _rgb(BODY_COLORS[i])
        if kind == "detected":
            paint = f'fill="{color}" stroke="rgb(0,0,0)" stroke-width="{_num(r * 0.2)}"'
        elif kind == "edited":
            paint = f'fill="{color}" stroke="rgb(255,255,0)" stroke-width="{_num(r * 0.35)}"'
        elif kind == "completed":
            paint = f'fill="rgba(0,0,0,0.35)" stroke="{color}" stroke-width="{_num(r * 0.4)}"'
        elif kind == "lowconf":
            paint = (f'fill="rgba(0,0,0,0.35)" stroke="rgb(150,150,150)" stroke-width="{_num(r * 0.4)}" '
                     f'stroke-dasharray="{_num(r * 0.5)} {_num(r * 0.4)}"')
        else:  # hidden
            paint = (f'fill="none" stroke="rgb(200,200,200)" stroke-opacity="0.6" stroke-width="{_num(r * 0.25)}" '
                     f'stroke-dasharray="{_num(r * 0.3)} {_num(r * 0.3)}"')
        conf = "" if person.completion_confidence is None else f", confidence {person.completion_confidence[i]:.2f}"
        lock = ", locked" if session.locked[p, i] else ""
        title = html.escape(f"person {p + 1}: {i} {BODY_NAMES[i].replace('_', ' ')} ({kind}{conf}{lock})")
        out.append(f'<circle class="{" ".join(classes)}" data-person="{p}" data-point="{i}" '
                   f'data-x="{_num(body[i, 0])}" data-y="{_num(body[i, 1])}" cx="{_num(body[i, 0])}" '
                   f'cy="{_num(body[i, 1])}" r="{_num(r)}" {paint}><title>{title}</title></circle>')
        if session.locked[p, i]:
            out.append(f'<rect class="skelext-lock-mark" x="{_num(body[i, 0] + r * 0.6)}" '
                       f'y="{_num(body[i, 1] - r * 1.6)}" width="{_num(r)}" height="{_num(r)}" '
                       f'fill="rgb(255,255,255)" stroke="rgb(0,0,0)" stroke-width="{_num(r * 0.15)}"/>')
    out.append("</g>")
    return "".join(out)


def editor_html(session: Optional[EditSession], selected_point: Optional[int] = None,
                image_url: Optional[str] = None) -> str:
    """The editor: an SVG of the session's people over the photo (or a black canvas)."""
    if session is None:
        return ('<div class="skelext-editor-wrap skelext-empty" data-rev="0">'
                "Upload a photo and press Run, or load a pose JSON.</div>")
    frame = session.frame
    vx, vy, vw, vh = view_box(session)
    r = max(2.5, 0.011 * max(vw, vh))
    w, h = frame.canvas_width, frame.canvas_height
    parts = [f'<div class="skelext-editor-wrap" data-rev="{next(_revision)}">',
             f'<svg class="skelext-svg" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="{_num(vx)} {_num(vy)} {_num(vw)} {_num(vh)}" data-canvas-width="{w}" '
             f'data-canvas-height="{h}" preserveAspectRatio="xMidYMid meet">',
             f'<rect class="skelext-outside" x="{_num(vx)}" y="{_num(vy)}" width="{_num(vw)}" height="{_num(vh)}"/>',
             f'<rect x="0" y="0" width="{w}" height="{h}" fill="rgb(0,0,0)"/>']
    if image_url:
        parts.append(f'<image href="{image_url}" x="0" y="0" width="{w}" height="{h}" opacity="0.75" '
                     'preserveAspectRatio="none"/>')
    parts.append(f'<rect class="skelext-canvas-border" x="0" y="0" width="{w}" height="{h}" fill="none" '
                 f'stroke-width="{_num(r * 0.25)}"/>')
    order = [p for p in range(len(frame.people)) if p != session.selected_person]
    if frame.people:
        order.append(session.selected_person)
    for p in order:
        parts.append(_person_svg(session, p, frame.people[p], r, selected_point))
    parts.append("</svg>")
    parts.append(LEGEND)
    parts.append("</div>")
    return "".join(parts)
