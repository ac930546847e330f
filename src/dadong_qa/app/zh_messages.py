"""Chinese for the library's messages, for the pages: readers and editors see Chinese only.

Ingest, fetch and the library say what went wrong in English ("name: reason"), which is what
the command line prints. The editor pages show the same messages through `in_chinese`, which
matches each known message and writes it in Chinese; a message it does not know is shown as it
is (tests/app/test_zh_messages.py checks that every message the library can raise is known).
"""

from __future__ import annotations

import re

# What decode.py's sniffing says a misnamed file really is ("this is a PDF document, not ...").
_KINDS = {
    "a PDF document": "PDF 文档",
    "a ZIP archive (docx/xlsx?)": "ZIP 压缩包（docx/xlsx？）",
    "a PNG image": "PNG 图片",
    "a JPEG image": "JPEG 图片",
    "a GIF image": "GIF 图片",
    "an old Office document": "旧版 Office 文档",
    "an executable": "可执行程序",
    "a gzip archive": "gzip 压缩包",
}

# (English message as a regex over the whole message, its Chinese). "s" is the subject: the file
# name, URL or doc_id the message starts with.
_S = r"(?P<s>.+?): "
_MESSAGES: list[tuple[str, str]] = [
    # ingestion/decode.py
    (_S + r"the file is empty", "{s}：文件是空的"),
    (_S + r"this is (?P<kind>.+), not a text article", "{s}：这是{kind}，不是文本文章"),
    (
        _S + r"the file is binary \(contains NUL bytes\), not a text article",
        "{s}：这是二进制文件（含 NUL 字节），不是文本文章",
    ),
    (
        _S + r"cannot determine the text encoding; save it as UTF-8 or GBK",
        "{s}：无法判断文字编码，请另存为 UTF-8 或 GBK",
    ),
    (_S + r"the file does not look like text in any known encoding", "{s}：文件内容不像任何已知编码的文字"),
    # ingestion/ingest.py and formats.py
    (r"(?:(?P<s>.+?): )?no article text found in the HTML page", "{s}：网页中没有找到文章正文"),
    (_S + r"no text in the file", "{s}：文件里没有文字"),
    (_S + r"no article text left after removing boilerplate", "{s}：去掉导航、版权声明等固定文字后没有剩下正文"),
    (_S + r"unsupported file type; use one of (?P<types>.+)", "{s}：不支持的文件类型（只接受 {types}）"),
    (
        _S + r"file is (?P<size>[\d.]+) MB, above the (?P<limit>[\d.]+) MB limit \(max_file_bytes\)",
        "{s}：文件太大（{size} MB，上限 {limit} MB）",
    ),
    (_S + r"is a folder, not an article file.*", "{s}：这是文件夹，不是文章文件"),
    (_S + r"no such file", "{s}：文件不存在"),
    (_S + r"not a readable Word \(\.docx\) file \((?P<why>.+)\)", "{s}：无法读取的 Word（.docx）文件（{why}）"),
    (
        _S + r"(?P<zh>[^（]+)（scanned PDF without a text layer; run OCR on it first）",
        "{s}：{zh}（请先用 OCR 识别出文字）",
    ),
    (_S + r"(?P<zh>[^（]+)（(?P<n>[\d,]+) parts in the archive）", "{s}：{zh}（压缩包内有 {n} 个部件）"),
    (
        _S + r"(?P<zh>[^（]+)（its XML unpacks to (?P<size>[\d,]+) MB, above the (?P<limit>[\d,.]+) MB limit）",
        "{s}：{zh}（其中的 XML 解压后有 {size} MB，超过上限 {limit} MB）",
    ),
    (_S + r"the PDF is password-protected", "{s}：PDF 有密码保护，无法读取"),
    (_S + r"not a readable PDF \((?P<why>.+)\)", "{s}：无法读取的 PDF（{why}）"),
    # library.py and ingestion/near_dup.py
    (
        _S + r"duplicate: every paragraph is already in (?P<where>.+); not added",
        "{s}：每一段都已收录在{where}中，未添加",
    ),
    (
        _S + r"duplicate: every paragraph is already in (?P<where>.+); skipped",
        "{s}：每一段都已收录在{where}中，已跳过",
    ),
    (
        r"(?P<s>.+) names index version (?P<v>.+), which is missing \(deleted or damaged\): the index is lost",
        "{s} 指向的索引版本 {v} 不存在（已删除或损坏），索引已丢失",
    ),
    (r"(?P<lost>.+); rebuilt from (?P<corpus>.+) \((?P<n>\d+) articles\)", "{lost}；已从 {corpus} 重建（{n} 篇文章）"),
    (_S + r"no such article in the index.*", "{s}：索引中没有这篇文章"),
    (_S + r"same article id '(?P<id>.+)' as another file; skipped", "{s}：与另一个文件的文章编号 {id} 相同，已跳过"),
    (
        _S + r"the same story as article '(?P<id>.+)'; kept as another source of it, not indexed twice",
        "{s}：与文章 {id} 是同一篇报道，已记作它的另一个来源，不重复收录",
    ),
    # ingestion/fetch.py
    (_S + r"only http and https addresses can be fetched", "{s}：只能抓取 http 和 https 网址"),
    (_S + r"no host name in the address", "{s}：网址中没有主机名"),
    (_S + r"cannot resolve host '(?P<host>.+?)' \(.*\)", "{s}：无法解析主机名 {host}"),
    (
        _S + r"(?P<host>\S+) is a private or local address \((?P<ip>.+?)\); refused .*",
        "{s}：{host} 是内网或本机地址（{ip}），不予抓取（可用 allow_private_urls 设置允许）",
    ),
    (_S + r"no answer within (?P<sec>[\d.]+) s \(fetch_timeout\)", "{s}：{sec} 秒内没有响应（fetch_timeout）"),
    (
        _S + r"not fetched within (?P<sec>[\d.]+) s \(fetch_timeout\); given up",
        "{s}：{sec} 秒内没有抓取完，已放弃（fetch_timeout）",
    ),
    (_S + r"cannot fetch \((?P<why>.+)\)", "{s}：无法抓取（{why}）"),
    (_S + r"more than (?P<n>\d+) redirects", "{s}：重定向超过 {n} 次"),
    (_S + r"the server answered HTTP (?P<code>\d+)", "{s}：服务器返回 HTTP {code}"),
    (_S + r"content type '(?P<type>.*)' is not a web page or feed", "{s}：内容类型 {type} 不是网页或订阅源"),
    (
        _S + r"(?P<size>[\d,]+) bytes, above the (?P<limit>[\d,]+) byte limit \(fetch_max_bytes\)",
        "{s}：{size} 字节，超过上限 {limit} 字节（fetch_max_bytes）",
    ),
    (
        _S + r"larger than the (?P<limit>[\d,]+) byte limit \(fetch_max_bytes\)",
        "{s}：超过上限 {limit} 字节（fetch_max_bytes）",
    ),
    (
        _S + r"download not finished within (?P<sec>[\d.]+) s \(fetch_timeout\)",
        "{s}：{sec} 秒内没有下载完（fetch_timeout）",
    ),
    (_S + r"not an RSS or Atom feed, or it has no items", "{s}：不是 RSS 或 Atom 订阅源，或其中没有条目"),
    # ingestion/corpus_meta.py (the editor's title/date correction)
    (r"the title is empty", "标题是空的"),
    (r"date '(?P<date>.*)' is not a date like 2022-09-20", "日期 {date} 不是 2022-09-20 这样的日期"),
    (r"nothing to change: give --title and/or --date", "没有要修改的内容：请填写标题或日期"),
    # library.py, a whole rebuild refused; `why` lists the first errors, each translated
    (
        r"no article could be read \((?P<why>.*)\); the index with (?P<n>\d+) articles was kept",
        "没有读到任何文章（{why}）；原有 {n} 篇文章的索引保持不变",
    ),
    (
        r"corpus folder (?P<s>.+) does not exist \(check --corpus\); the index was not changed",
        "文章文件夹 {s} 不存在，索引没有改动",
    ),
]
_COMPILED = [(re.compile(pattern, re.DOTALL), chinese) for pattern, chinese in _MESSAGES]


def in_chinese(message: str) -> str:
    """`message` in Chinese if it is one the library says, else as it is."""
    for pattern, chinese in _COMPILED:
        found = pattern.fullmatch(message)
        if found:
            parts = {k: v or "" for k, v in found.groupdict().items()}
            if "where" in parts:  # "article 'id'" or "other articles"
                named = re.fullmatch(r"article '(.+)'", parts["where"])
                parts["where"] = f"文章 {named[1]} " if named else "其他文章"
            if "kind" in parts:
                parts["kind"] = _KINDS.get(parts["kind"], parts["kind"])
            if "lost" in parts:
                parts["lost"] = in_chinese(parts["lost"])
            if "why" in parts and chinese.startswith("没有读到"):
                parts["why"] = "；".join(in_chinese(m) for m in parts["why"].split("; "))
            text = chinese.format(**parts)
            return text.removeprefix("：")  # a message with no subject
    return message
