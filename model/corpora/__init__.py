"""Labelled corpora as examples: the catalogue of known corpora, an adapter per corpus family, an admin's own
labelled file, de-duplication.

`records` (Example, CorpusInfo, LoadedCorpus, errors), `catalogue` (CORPORA), `reading` (a corpus folder's
files), adapters by family (`toxicity`, `implicit`, `spam`), `labelled_files` (an admin's file), `loading`
(load_corpora, load_corpus, deduplicate, corpus_summary). The names below are the package's interface.
"""

from model.corpora.catalogue import CORPORA
from model.corpora.labelled_files import LABELLED_FILE_SUFFIXES, MAX_FILE_ERRORS, load_labelled_file
from model.corpora.loading import corpus_summary, deduplicate, load_corpora, load_corpus
from model.corpora.records import CorpusError, CorpusInfo, CorpusWarning, Example, LabelledFileError, LoadedCorpus
from model.corpora.toxicity import decode_impermium

__all__ = [
    "CORPORA",
    "LABELLED_FILE_SUFFIXES",
    "MAX_FILE_ERRORS",
    "CorpusError",
    "CorpusInfo",
    "CorpusWarning",
    "Example",
    "LabelledFileError",
    "LoadedCorpus",
    "corpus_summary",
    "decode_impermium",
    "deduplicate",
    "load_corpora",
    "load_corpus",
    "load_labelled_file",
]
