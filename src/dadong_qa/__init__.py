"""dadong-qa: Chinese retrieval-augmented QA over news articles, with verbatim citations.

from dadong_qa import ask
answer = ask("大东区2022年规上工业增加值是多少？")
answer.text, answer.answered, answer.citations, answer.passages
"""

from dadong_qa.answering.generate import GenerationError
from dadong_qa.answering.policy import PolicyError
from dadong_qa.answering.reader import E5Error, ReaderError
from dadong_qa.api import QA, ChangeReport, QuestionError, ask, default_qa
from dadong_qa.app.ratelimit import RateLimited
from dadong_qa.audit import AuditLogError
from dadong_qa.config import Settings, load_settings
from dadong_qa.embed import EmbedderError
from dadong_qa.index import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError, IndexStoreError
from dadong_qa.ingestion.fetch import FetchError
from dadong_qa.ingestion.formats import FormatError
from dadong_qa.ingestion.ingest import IngestError
from dadong_qa.retrieval.rerank import RerankerError
from dadong_qa.schema import Answer, Chunk, Citation, Document, Passage, Sentence

# Every error type the package raises to its callers is importable from here.
__all__ = [
    "QA",
    "Answer",
    "AuditLogError",
    "ChangeReport",
    "Chunk",
    "Citation",
    "Document",
    "E5Error",
    "EmbedderError",
    "FetchError",
    "FormatError",
    "GenerationError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexStoreError",
    "IngestError",
    "Passage",
    "PolicyError",
    "QuestionError",
    "RateLimited",
    "ReaderError",
    "RerankerError",
    "Sentence",
    "Settings",
    "ask",
    "default_qa",
    "load_settings",
]
__version__ = "0.1.0"
