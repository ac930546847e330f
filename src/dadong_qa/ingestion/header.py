"""What an article's header says about it: its title without the site's name, its date, author
and source. The patterns of Chinese news pages and of search results, not of particular files.
"""

from __future__ import annotations

import re

from dadong_qa.text import CJK

_CJK_NAME = rf"[{CJK}·]{{2,4}}"
DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)
_ROLE = re.compile(r"记者|通讯员|作者|撰文|撰稿|编译|整理|报道")
BYLINE = re.compile(
    rf"^(?:[{CJK}、]{{0,16}}(?:记者|通讯员|作者|撰文|撰稿|文|图|编译|整理)\s*[:：/|]?\s*)+{_CJK_NAME}"
    rf"(?:[\s、,，]+{_CJK_NAME})*$"
)
# A byline inside a longer line: "来源：某报 作者：李晓冬 发布时间：…", "（记者 王小明）", "文/张三".
AUTHOR_IN_LINE = re.compile(
    rf"(?:作者|记者|撰文|文)\s*[:：/\s]\s*([{CJK}·]{{2,4}}?)(?=$|[\s,，;；|/)）]|来源|发布|时间|日期|编辑|通讯员)"
)
SOURCE = re.compile(r"(?:来源|稿源|出处)\s*[:：]\s*([^\d\s:：][^\s]{1,30})")
# Words a byline ends with that are not part of a name ("记者 王小明 报道").
_BYLINE_TAIL = {"报道", "摄影", "摄", "报", "文", "图", "整理", "编译"}
_SITE_SEP = r"\s*[-_|｜—–·]+\s*"
_SITE_SUFFIX = re.compile(
    _SITE_SEP + r"([^-_|｜—–·]{2,24}?(?:网|站|报|新闻|频道|在线|官网|客户端|头条|资讯|平台|日报|晚报"
    r"|\.com|\.cn|\.net))\s*$",
    re.I,
)
# The encyclopedias and Q&A sites search results come from ("…_百度百科", "… - 维基百科，自由的百科全书",
# "… - 知乎"): a name no title ends with, so even a one-character title ("硫_百度百科") loses it.
_REFERENCE_SUFFIX = re.compile(
    _SITE_SEP + r"([^-_|｜—–·]{2,24}?(?:百科|百科全书|知道|文库|贴吧|问答|博客|wiki)|知乎|豆瓣|简书)\s*$", re.I
)
# A search result's date before its text ("2019年3月5日 - …"): the page's date. Not a range
# ("1945年8月15日—9月2日"): the text after the dash must not open with a digit.
_DATED_LEAD = re.compile(rf"^\s*(?:{DATE.pattern})\s*[-–—－]{{1,2}}\s*(?=[^\d\s])")


def byline_name(line: str) -> str | None:
    """The first name in a byline after its role label ("沈阳日报记者 傅淞岩" -> 傅淞岩)."""
    roles = list(_ROLE.finditer(line))
    rest = line[roles[0].end() :] if roles else line
    words = [w for w in re.split(r"[:：/|\s、,，]+", rest) if w]
    names = [w for w in words if re.fullmatch(_CJK_NAME, w) and w not in _BYLINE_TAIL and not _ROLE.search(w)]
    return names[0] if names else None


def iso_date(match: re.Match[str]) -> str | None:
    """A DATE match as YYYY-MM-DD, or None when its month or day cannot be."""
    year, month, day = (int(g) for g in match.groups())
    if 1 <= month <= 12 and 1 <= day <= 31:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def clean_title(title: str) -> tuple[str, str | None]:
    """Strip a trailing site name (`…-某某网`); return (title, site name or None)."""
    title = re.sub(r"\s+", " ", title).strip()
    for pattern, keep in ((_REFERENCE_SUFFIX, 1), (_SITE_SUFFIX, 4)):  # "沙特雷-大堂站" keeps its 站
        m = pattern.search(title)
        if m and len(title[: m.start()].strip()) >= keep:
            return title[: m.start()].strip(), m.group(1).strip()
    return title, None


def dated_lead(text: str) -> tuple[str | None, int] | None:
    """A search result's date before its text: (the date, where the text starts), or None."""
    m = _DATED_LEAD.match(text)
    return (iso_date(m), m.end()) if m else None
