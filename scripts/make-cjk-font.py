#!/usr/bin/python3
"""Regenerates assets/fonts/SealDeskSansSC-Regular.otf: the GB2312 + ASCII subset of Noto Sans CJK SC
Regular (SIL OFL 1.1) from Debian's fonts-noto-cjk, renamed "SealDesk Sans SC" because the OFL reserves
the name "Noto" for unmodified fonts.

Needs: apt-get install fonts-noto-cjk fonttools; run with /usr/bin/python3 (Debian's fontTools).
"""
import sys
from fontTools import subset
from fontTools.ttLib import TTCollection

SRC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SC_INDEX = 2  # the TTC holds JP, KR, SC, TC, HK; index 2 is Simplified Chinese
OUT = sys.argv[1] if len(sys.argv) > 1 else "assets/fonts/SealDeskSansSC-Regular.otf"

chars = {chr(c) for c in range(0x20, 0x7F)}
for a in range(0xA1, 0xF8):
    for b in range(0xA1, 0xFF):
        try:
            chars.add(bytes([a, b]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars |= set("（）：；，。、“”《》【】·—…￥")

font = TTCollection(SRC).fonts[SC_INDEX]
opts = subset.Options()
opts.hinting = False
opts.layout_features = ["*"]
opts.name_IDs = ["*"]
opts.notdef_outline = True
sub = subset.Subsetter(opts)
sub.populate(text="".join(sorted(chars)))
sub.subset(font)

family, full, ps = "SealDesk Sans SC", "SealDesk Sans SC Regular", "SealDeskSansSC-Regular"
names = font["name"]
for rec in list(names.names):
    if rec.nameID in (1, 16, 21):
        names.setName(family, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
    elif rec.nameID in (4,):
        names.setName(full, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
    elif rec.nameID in (6, 20):
        names.setName(ps, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
    elif rec.nameID == 3:
        names.setName("SealDesk:" + ps, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
if "CFF " in font:
    cff = font["CFF "].cff
    cff.fontNames = [ps]
    top = cff.topDictIndex[0]
    top.FullName, top.FamilyName = full, family
font.save(OUT)
print(f"{OUT}: {len(chars)} characters")
