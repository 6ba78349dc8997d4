"""Draw the app icon (ranet.png) and write ranet.ico (Windows) and ranet.icns (macOS) from it.

Reproducible: plain shapes, no fonts. Run from anywhere with Pillow installed:
``python assets/icons/make_icons.py``. The three files it writes are committed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SIZE = 1024
BACKGROUND = (31, 59, 115)
COLUMNS = ((4, (94, 129, 196)), (8, (64, 170, 196)), (16, (96, 214, 160)))  # coarse to fine grids
EXIT = (255, 196, 64)


def draw(size: int = SIZE) -> Image.Image:
    """Three square grids from coarse to fine (the network's scales) and a gold early-exit dot."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    u = size / 64
    d.rounded_rectangle((2 * u, 2 * u, 62 * u, 62 * u), radius=12 * u, fill=BACKGROUND)
    side, gap, top = 16 * u, 3 * u, 17 * u
    left = (size - 3 * side - 2 * gap) / 2
    for i, (cells, colour) in enumerate(COLUMNS):
        x0 = left + i * (side + gap)
        step = side / cells
        for r in range(cells):
            for c in range(cells):
                if (r + c) % 2 == 0:
                    d.rectangle((x0 + c * step, top + r * step, x0 + (c + 1) * step - 1, top + (r + 1) * step - 1),
                                fill=colour)
        d.rectangle((x0, top, x0 + side, top + side), outline=colour, width=max(1, round(u / 2)))
    y = top + side + 9 * u
    d.line((left, y, left + 3 * side + 2 * gap, y), fill=(230, 236, 245), width=round(2 * u))
    cx = left + side / 2
    d.ellipse((cx - 5 * u, y - 5 * u, cx + 5 * u, y + 5 * u), fill=EXIT)
    return img


def main() -> None:
    img = draw()
    img.save(HERE / "ranet.png")
    img.save(HERE / "ranet.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    img.save(HERE / "ranet.icns")


if __name__ == "__main__":
    main()
