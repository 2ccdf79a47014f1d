"""The photos of the simulated demo history: a small pool of drawn street scenes, shared by all cases.

The history (civicgrid/cases/history.py) attaches a photo wherever the services would store
one — the inspector's photo with a report, the handler's after-photo with each 处置反馈, the
inspector's photo with a failed check — but tens of thousands of cases must not write tens of
thousands of files. Instead, 24 pictures are drawn once with Pillow: for each of eight scene
themes (litter, road damage, manhole covers, posters, street trading, parking, greenery,
public fixtures) a scene before handling (处置前), after handling (处置后) and at a failed check
(核查不通过, the problem only partly gone), each captioned in Chinese and marked as a demo
photo. They go through the same code as an upload (`normalise_photo` for the stored copy,
`make_thumbnail` for the thumbnail) and are saved through the default storage under
`demo/history-photos/v1/` in MEDIA_ROOT; Attachment rows then point at them, many rows to one
file.

Sharing is safe because nothing in CivicGrid deletes files: Django's FileField leaves the
file in storage when its row is deleted, and no signal handler or app (such as
django-cleanup) removes it. A test deletes a case and an attachment and checks that the pool
file is still there. Whoever adds file clean-up must skip paths under `demo/`.

The drawing is deterministic: the same Pillow and font give the same bytes. Files already in
storage are kept as they are (only their size and SHA-256 are read), so the pool is drawn
once per MEDIA_ROOT; change POOL_VERSION when the drawing changes.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from civicgrid.cases.models import Attachment
from civicgrid.core.uploads import make_thumbnail, normalise_photo

POOL_VERSION = "v1"
POOL_DIR = f"demo/history-photos/{POOL_VERSION}"
WIDTH, HEIGHT = 800, 600
NOISE = 0.8  # standard deviation of the grain, in 8-bit levels
CONTENT_TYPE = "image/jpeg"  # what store_attachment records for every photo

# Shots: the report's photo and the failed check's are stored as before-photos (kind "before"),
# as services.case_act stores the photos of every action other than 处置反馈.
BEFORE, AFTER, RECHECK = "before", "after", "recheck"
SHOTS = {BEFORE: "处置前", AFTER: "处置后", RECHECK: "核查不通过"}

# Themes and the category-name keywords that select them, first match wins; other categories
# (noise, smoke, public toilets…) get the generic street scene "public".
THEMES = {
    "manhole": ("井盖", "箅子"),
    "parking": ("停放", "废弃车辆"),
    "ads": ("广告", "牌匾", "标识", "涂写", "张贴"),
    "vending": ("经营", "游商", "烧烤", "晾挂", "摊"),
    "greenery": ("绿地", "绿化", "树", "草"),
    "road": ("道路破损", "积水", "下水道", "施工", "扬尘", "路面", "人行道", "盲道"),
    "garbage": ("垃圾", "不洁", "渣土", "杂物", "遗撒", "家具", "尸体", "水域"),
    "public": (),
}
THEME_LABELS = {
    "garbage": "环境卫生",
    "road": "道路设施",
    "manhole": "井盖设施",
    "ads": "乱张贴·广告",
    "vending": "街面秩序",
    "parking": "停车秩序",
    "greenery": "园林绿化",
    "public": "市政公用",
}

# CJK fonts where Debian/Ubuntu (fonts-noto-cjk, fonts-wqy-*), Fedora and macOS put them.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)


@dataclass(frozen=True)
class PoolPhoto:
    """One picture of the pool, as an Attachment row stores it."""

    file: str
    thumbnail: str
    size: int
    sha256: str
    content_type: str = CONTENT_TYPE


def theme_for(category_name: str) -> str:
    for theme, words in THEMES.items():
        if any(word in category_name for word in words):
            return theme
    return "public"


def shot_for(kind: str, action: str) -> str:
    """The picture a photo of this kind, attached to an event of this action, shows."""
    if kind == Attachment.Kind.AFTER:
        return AFTER
    return RECHECK if action == "check_fail" else BEFORE


def photo_pool() -> dict[tuple[str, str], PoolPhoto]:
    """The 24 pool photos by (theme, shot), drawn and stored first where missing."""
    pool = {}
    for theme in THEMES:
        for shot in SHOTS:
            pool[theme, shot] = _ensure(theme, shot)
    return pool


def _ensure(theme: str, shot: str) -> PoolPhoto:
    name = f"{POOL_DIR}/{theme}-{shot}.jpg"
    thumb = f"{POOL_DIR}/thumbs/{theme}-{shot}.jpg"
    if default_storage.exists(name) and default_storage.exists(thumb):
        with default_storage.open(name, "rb") as f:
            data = f.read()
    else:
        drawn = io.BytesIO()
        draw_scene(theme, shot).save(drawn, format="JPEG", quality=92)
        drawn.seek(0)
        data = normalise_photo(drawn).read()  # the stored copy, as for an upload
        drawn.seek(0)
        for path, content in ((name, data), (thumb, make_thumbnail(drawn).read())):
            if default_storage.exists(path):
                default_storage.delete(path)  # half a pool from an interrupted run
            saved = default_storage.save(path, ContentFile(content))
            if saved != path:
                raise RuntimeError(f"demo photo stored as {saved}, not {path}")
    return PoolPhoto(name, thumb, len(data), hashlib.sha256(data).hexdigest())


#
# Drawing
#


@cache
def _font_path() -> str | None:
    return next((p for p in FONT_CANDIDATES if Path(p).exists()), None)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def draw_scene(theme: str, shot: str) -> Image.Image:
    """A street scene of this theme, before or after handling or at a failed check (RGB, 800×600)."""
    scene_rng = random.Random(theme)  # the same street in the three shots of a theme
    image = Image.new("RGB", (WIDTH, HEIGHT))
    d = ImageDraw.Draw(image)
    _backdrop(d, scene_rng, cloudy=shot != AFTER)
    amount = {BEFORE: 1.0, RECHECK: 0.35, AFTER: 0.0}[shot]
    DRAW[theme](d, random.Random(f"{theme}/items"), amount, shot)
    image = _grain(image, f"{theme}/{shot}")
    _caption(image, theme, shot)
    return image


def _backdrop(d: ImageDraw.ImageDraw, rng: random.Random, cloudy: bool) -> None:
    horizon = 250
    top, bottom = ((150, 170, 185), (200, 205, 210)) if cloudy else ((95, 150, 215), (185, 215, 240))
    for y in range(horizon):
        t = y / horizon
        d.line([(0, y), (WIDTH, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    # A row of buildings along the street: shops below, flats above.
    x = -rng.randint(0, 60)
    while x < WIDTH:
        w, h = rng.randint(110, 190), rng.randint(120, 230)
        wall = rng.choice([(205, 190, 170), (180, 175, 165), (225, 215, 195), (170, 150, 135), (200, 200, 205)])
        d.rectangle([x, horizon + 60 - h, x + w, horizon + 60], fill=wall, outline=(120, 115, 110))
        for wy in range(horizon + 70 - h, horizon + 10, 28):
            for wx in range(x + 12, x + w - 20, 30):
                d.rectangle([wx, wy, wx + 16, wy + 16], fill=(110, 130, 150), outline=(90, 90, 95))
        awning = rng.choice([(180, 40, 40), (40, 90, 160), (50, 130, 70), (200, 140, 30)])
        d.rectangle([x + 6, horizon + 18, x + w - 6, horizon + 34], fill=awning)
        d.rectangle([x + 14, horizon + 36, x + w - 14, horizon + 60], fill=(70, 70, 75))
        x += w + rng.randint(0, 8)
    # Pavement (tiles), kerb and road with a lane marking, in perspective.
    d.rectangle([0, horizon + 60, WIDTH, 430], fill=(175, 170, 160))
    for y in range(horizon + 70, 430, 22):
        d.line([(0, y), (WIDTH, y)], fill=(150, 145, 138))
    for k in range(-12, 30):
        d.line([(k * 40, horizon + 60), (k * 40 - (k - 10) * 18, 430)], fill=(150, 145, 138))
    d.rectangle([0, 430, WIDTH, 442], fill=(215, 215, 210))
    d.rectangle([0, 442, WIDTH, HEIGHT], fill=(85, 88, 92))
    for x in range(-40, WIDTH, 160):
        d.polygon([(x, 528), (x + 90, 528), (x + 96, 540), (x + 6, 540)], fill=(230, 230, 225))


def _blob(d, rng, cx, cy, r, fill) -> None:
    points = []
    for k in range(14):
        a = 2 * math.pi * k / 14
        rr = r * rng.uniform(0.7, 1.15)
        points.append((cx + rr * math.cos(a), cy + 0.6 * rr * math.sin(a)))
    d.polygon(points, fill=fill, outline=tuple(max(c - 40, 0) for c in fill))


def _some(items: list, amount: float) -> list:
    """The first share `amount` of the items: fewer left at a failed check, none after."""
    return items[: round(len(items) * amount)]


def _garbage(d: ImageDraw.ImageDraw, items: random.Random, amount: float, shot: str) -> None:
    colours = [(40, 40, 45), (30, 110, 60), (220, 220, 215), (180, 60, 50), (60, 90, 170), (150, 120, 80)]
    pile = [(items.uniform(180, 620), items.uniform(350, 425), items.uniform(14, 34)) for _ in range(26)]
    for cx, cy, r in sorted(_some(pile, amount), key=lambda p: p[1]):
        _blob(d, items, cx, cy, r, items.choice(colours))
    # The litter bin, emptied in the after shot.
    d.rectangle([660, 330, 705, 420], fill=(40, 120, 70), outline=(20, 60, 35))
    if shot != AFTER:
        for k in range(5):
            _blob(d, items, 668 + 8 * k, 328, 10, items.choice(colours))


def _road(d: ImageDraw.ImageDraw, items: random.Random, amount: float, shot: str) -> None:
    if shot == AFTER:
        d.rectangle([250, 452, 560, 530], fill=(55, 57, 60))  # fresh asphalt patch
        return
    d.polygon([(270, 455), (540, 450), (560, 528), (250, 535)], fill=(70, 70, 72))
    depth = 1 if shot == BEFORE else 0.5
    _blob(d, items, 400, 492, 90 * depth, (45, 42, 40))
    if shot == BEFORE:
        _blob(d, items, 420, 496, 40, (110, 130, 150))  # a puddle
    for _ in range(14 if shot == BEFORE else 5):
        x, y = items.uniform(260, 550), items.uniform(458, 528)
        d.line([(x, y), (x + items.uniform(-60, 60), y + items.uniform(-20, 20))], fill=(35, 35, 35), width=3)
    if shot == BEFORE:
        d.rectangle([228, 446, 238, 500], fill=(230, 120, 30))  # a warning post


def _manhole(d: ImageDraw.ImageDraw, items: random.Random, amount: float, shot: str) -> None:
    box = [300, 455, 500, 530]
    d.ellipse([box[0] - 12, box[1] - 8, box[2] + 12, box[3] + 8], fill=(60, 60, 62))
    if shot == BEFORE:
        d.ellipse(box, fill=(15, 15, 18))  # the cover is gone or sunk
        d.polygon([(320, 480), (420, 465), (470, 485), (380, 505)], fill=(90, 85, 80))
        for k in range(3):
            d.polygon([(540 + 60 * k, 530), (560 + 60 * k, 450), (580 + 60 * k, 530)], fill=(240, 110, 20))
        return
    d.ellipse(box, fill=(75, 72, 70), outline=(40, 40, 40), width=4)
    for k in range(1, 6):
        d.line([(box[0] + 30 * k + 10, box[1] + 8), (box[0] + 30 * k + 10, box[3] - 8)], fill=(50, 50, 50), width=3)
    if shot == RECHECK:  # re-set but not level: a tilted edge and a gap
        d.arc([box[0] - 5, box[1] - 12, box[2] + 5, box[3] - 10], 180, 360, fill=(15, 15, 18), width=8)


def _ads(d: ImageDraw.ImageDraw, items: random.Random, amount: float, shot: str) -> None:
    d.rectangle([120, 270, 680, 410], fill=(215, 210, 200), outline=(150, 145, 140))  # the wall by the street
    d.rectangle([720, 250, 735, 430], fill=(120, 120, 125))  # a utility pole
    flyers = [
        (
            items.uniform(125, 640),
            items.uniform(275, 370),
            items.choice([(250, 250, 245), (245, 220, 60), (230, 80, 80)]),
        )
        for _ in range(40)
    ]
    for x, y, colour in _some(flyers, amount):
        d.rectangle([x, y, x + 34, y + 26], fill=colour, outline=(120, 120, 120))
        d.line([(x + 4, y + 8), (x + 28, y + 8)], fill=(40, 40, 40), width=2)
        d.line([(x + 4, y + 16), (x + 22, y + 16)], fill=(40, 40, 40), width=2)
    if shot == AFTER:
        for x, y, _colour in flyers[:8]:  # faint marks where they were scraped off
            d.rectangle([x, y, x + 34, y + 26], outline=(195, 190, 182))


def _vending(d: ImageDraw.ImageDraw, items: random.Random, amount: float, shot: str) -> None:
    stalls = [
        (80 + 170 * k + items.uniform(-20, 20), items.choice([(200, 40, 40), (30, 90, 180), (240, 170, 30)]))
        for k in range(4)
    ]
    for x, colour in _some(stalls, amount):
        d.polygon([(x, 330), (x + 70, 300), (x + 140, 330)], fill=colour)
        d.line([(x + 70, 330), (x + 70, 420)], fill=(90, 90, 90), width=4)
        d.rectangle([x + 10, 380, x + 130, 420], fill=(150, 110, 70))
        for k in range(5):
            _blob(d, items, x + 25 + 22 * k, 375, 9, items.choice([(230, 90, 40), (90, 170, 60), (240, 220, 80)]))
    if shot == AFTER:
        for k in range(4):
            d.line([(60 + 200 * k, 425), (160 + 200 * k, 425)], fill=(250, 250, 250), width=4)  # kept-clear line


def _parking(d: ImageDraw.ImageDraw, items: random.Random, amount: float, shot: str) -> None:
    colours = [(200, 30, 30), (240, 240, 240), (30, 30, 30), (40, 80, 160), (230, 190, 40)]
    if shot == AFTER:
        for k in range(8):  # bicycles lined up in their bay
            x = 150 + 50 * k
            d.rectangle([x - 8, 340, x + 40, 420], outline=(250, 250, 250), width=2)
            _bike(d, x, 380, items.choice(colours), upright=True)
        return
    bikes = [(items.uniform(60, 700), items.uniform(340, 420), items.choice(colours)) for _ in range(16)]
    for x, y, colour in _some(bikes, amount):
        _bike(d, x, y, colour, upright=False, tilt=items.uniform(-0.6, 0.6))
    if shot == BEFORE:  # a car on the pavement
        d.rounded_rectangle([380, 360, 580, 425], radius=18, fill=(150, 155, 165), outline=(60, 60, 60))
        d.rectangle([420, 335, 540, 362], fill=(110, 140, 170))
        for x in (410, 550):
            d.ellipse([x - 18, 410, x + 18, 446], fill=(25, 25, 25))


def _bike(d, x, y, colour, upright: bool, tilt: float = 0.0) -> None:
    dx, dy = (32, 0) if upright else (32 * math.cos(tilt), 32 * math.sin(tilt))
    for cx, cy in ((x, y), (x + dx, y + dy)):
        d.ellipse([cx - 13, cy - 13, cx + 13, cy + 13], outline=(20, 20, 20), width=3)
    d.line([(x, y), (x + dx / 2, y + dy / 2 - 16), (x + dx, y + dy)], fill=colour, width=4)


def _greenery(d: ImageDraw.ImageDraw, items: random.Random, amount: float, shot: str) -> None:
    grass = {BEFORE: (150, 140, 80), RECHECK: (120, 140, 70), AFTER: (70, 150, 60)}[shot]
    d.rounded_rectangle([60, 340, 740, 425], radius=12, fill=grass, outline=(120, 110, 100), width=4)
    for k in range(4):
        x = 130 + 180 * k
        d.rectangle([x - 7, 250, x + 7, 345], fill=(100, 70, 45))
        crown = (60, 130, 55) if shot == AFTER else (95, 120, 50)
        _blob(d, items, x, 240, 55 if shot == AFTER else items.uniform(45, 75), crown)
    bare = [(items.uniform(80, 720), items.uniform(350, 415), items.uniform(18, 40)) for _ in range(12)]
    for x, y, r in _some(bare, amount):
        _blob(d, items, x, y, r, (130, 105, 70))  # bare earth
        d.line([(x - r, y), (x + r, y - 10)], fill=(90, 60, 35), width=4)  # a fallen branch


def _public(d: ImageDraw.ImageDraw, items: random.Random, amount: float, shot: str) -> None:
    for k, x in enumerate((140, 420, 700)):
        lean = 25 if shot == BEFORE and k == 1 else 0
        d.line([(x, 430), (x + lean, 180)], fill=(90, 95, 100), width=9)
        d.line([(x + lean, 180), (x + lean + 50, 185)], fill=(90, 95, 100), width=7)
        lit = shot == AFTER or (shot == RECHECK and k != 1)
        head = [x + lean + 38, 178, x + lean + 72, 194]
        d.ellipse(head, fill=(255, 235, 150) if lit else (60, 60, 60))
    d.rectangle([230, 380, 330, 425], fill=(60, 110, 70), outline=(30, 60, 40))  # a utility box
    if shot != AFTER:
        d.line([(330, 300), (380, 420), (440, 330)], fill=(20, 20, 20), width=3)  # a loose cable
    if shot == BEFORE:
        d.polygon([(480, 425), (520, 370), (560, 425)], fill=(240, 110, 20))


DRAW = {
    "garbage": _garbage,
    "road": _road,
    "manhole": _manhole,
    "ads": _ads,
    "vending": _vending,
    "parking": _parking,
    "greenery": _greenery,
    "public": _public,
}


def _grain(image: Image.Image, seed: str) -> Image.Image:
    """Soften the drawing and add sensor noise (seeded), so it looks and compresses more like a photo."""
    image = image.filter(ImageFilter.GaussianBlur(1.1))
    gen = np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8]))
    noise = gen.normal(0, NOISE, (HEIGHT, WIDTH, 1)).astype(np.float32)
    pixels = np.asarray(image, dtype=np.float32) + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _caption(image: Image.Image, theme: str, shot: str) -> None:
    band = Image.new("RGB", (WIDTH, 56), (0, 0, 0))
    image.paste(Image.blend(image.crop((0, HEIGHT - 56, WIDTH, HEIGHT)), band, 0.6), (0, HEIGHT - 56))
    d = ImageDraw.Draw(image)
    caption = f"{SHOTS[shot]} · {THEME_LABELS[theme]}" if _font_path() else f"{shot.upper()} · {theme}"
    d.text((20, HEIGHT - 48), caption, font=_font(30), fill=(255, 255, 255))
    mark = "演示照片 CivicGrid" if _font_path() else "CivicGrid demo photo"
    d.text((WIDTH - 20, HEIGHT - 28), mark, font=_font(18), fill=(230, 230, 230), anchor="rm")
    tag = {BEFORE: (200, 50, 40), RECHECK: (220, 140, 20), AFTER: (40, 150, 70)}[shot]
    d.rectangle([0, 0, 14, HEIGHT - 57], fill=tag)
