#!/usr/bin/env python3
"""Vendor the CJK font OneSeal embeds in its PDFs (licences, notices).

Source: Noto Sans CJK SC Regular, face 2 of Debian's fonts-noto-cjk
/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc (SIL Open Font License 1.1).
The full face is ~16 MB; this keeps the characters a Chinese government document
uses: Latin, punctuation, CJK symbols, all 27,584 ideographs of the CJK Unified
Ideographs block and Extension A (names with rare characters included), and the
full-width forms. Each PDF then embeds only its own glyphs (the `subsetter` crate).

    apt-get install fonts-noto-cjk && pip install fonttools
    python3 tools/vendor_font.py   # writes assets/fonts/NotoSansSC-OneSeal.otf

The output is deterministic for a given input font and fontTools version.
"""
import os
import sys

from fontTools import subset, ttLib

SRC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FACE = 2  # Noto Sans CJK SC
OUT = os.path.join(os.path.dirname(__file__), "..", "assets", "fonts", "NotoSansSC-OneSeal.otf")
RANGES = [
    (0x0020, 0x007E), (0x00A0, 0x017F), (0x2000, 0x206F), (0x2100, 0x218F), (0x2190, 0x21FF),
    (0x2460, 0x24FF), (0x2500, 0x257F), (0x25A0, 0x26FF), (0x2E80, 0x2FDF), (0x3000, 0x303F),
    (0x3200, 0x32FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
]


def main() -> int:
    font = ttLib.TTFont(SRC, fontNumber=FACE)
    if "Noto Sans CJK SC" not in str(font["name"].getDebugName(1)):
        print(f"face {FACE} of {SRC} is not Noto Sans CJK SC", file=sys.stderr)
        return 1
    opts = subset.Options()
    opts.layout_features = ["vert", "vrt2"]
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    opts.recalc_timestamp = False
    sub = subset.Subsetter(opts)
    unicodes = set()
    for lo, hi in RANGES:
        unicodes.update(range(lo, hi + 1))
    sub.populate(unicodes=unicodes)
    sub.subset(font)
    font.save(OUT)
    cmap = font.getBestCmap()
    print(f"{OUT}: {os.path.getsize(OUT)} bytes, {len(font.getGlyphOrder())} glyphs, {len(cmap)} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
