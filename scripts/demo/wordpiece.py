"""A BERT WordPiece tokenizer that reads a Hugging Face `tokenizer.json`.

It follows the `tokenizers` library's BertNormalizer, BertPreTokenizer and WordPiece
model closely enough to give the same ids on ordinary text, so the demo model can be
trained in Python and explained in the editor with the very same tokenization.
"""

import json
import unicodedata

# Rust's `char::is_whitespace` (the Unicode White_Space property), which the Rust
# implementation uses; Python's str.isspace() differs on a few separators.
_WHITESPACE = set(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)


def _is_whitespace(ch):
    return ch in _WHITESPACE


def _is_control(ch):
    # Tab, newline and carriage return count as whitespace, not control.
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch):
    cp = ord(ch)
    # ASCII symbols such as "$" and "^" are not Unicode punctuation, but BERT splits on them.
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp):
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class BertNormalizer:
    def __init__(self, clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True):
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        # As in `tokenizers`: when unset, accents are stripped exactly when lowercasing.
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self.lowercase = lowercase

    def __call__(self, text):
        if self.clean_text:
            out = []
            for ch in text:
                if ch == "\0" or ch == "\ufffd" or _is_control(ch):
                    continue
                out.append(" " if _is_whitespace(ch) else ch)
            text = "".join(out)
        if self.handle_chinese_chars:
            text = "".join(f" {ch} " if _is_chinese_char(ord(ch)) else ch for ch in text)
        if self.strip_accents:
            text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
        if self.lowercase:
            text = text.lower()
        return text


def bert_pre_tokenize(text):
    """Split on whitespace, and isolate every punctuation character as its own word."""
    words = []
    current = []
    for ch in text:
        if _is_whitespace(ch):
            if current:
                words.append("".join(current))
                current = []
        elif _is_punctuation(ch):
            if current:
                words.append("".join(current))
                current = []
            words.append(ch)
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words


class WordPieceTokenizer:
    def __init__(self, vocab, unk_token="[UNK]", prefix="##", max_input_chars_per_word=100,
                 normalizer=None, cls_token="[CLS]", sep_token="[SEP]"):
        self.vocab = vocab
        self.unk_token = unk_token
        self.prefix = prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        self.normalizer = normalizer or BertNormalizer()
        self.cls_token = cls_token
        self.sep_token = sep_token

    @classmethod
    def from_file(cls, path):
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        model = spec["model"]
        norm = spec.get("normalizer") or {}
        normalizer = BertNormalizer(
            clean_text=norm.get("clean_text", True),
            handle_chinese_chars=norm.get("handle_chinese_chars", True),
            strip_accents=norm.get("strip_accents"),
            lowercase=norm.get("lowercase", True),
        )
        return cls(
            model["vocab"],
            unk_token=model.get("unk_token", "[UNK]"),
            prefix=model.get("continuing_subword_prefix", "##"),
            max_input_chars_per_word=model.get("max_input_chars_per_word", 100),
            normalizer=normalizer,
        )

    def word_pieces(self, word):
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end]
                if start > 0:
                    piece = self.prefix + piece
                if piece in self.vocab:
                    found = piece
                    break
                end -= 1
            if found is None:
                # One unmatched stretch makes the whole word unknown, as in `tokenizers`.
                return [self.unk_token]
            pieces.append(found)
            start = end
        return pieces

    def tokenize(self, text):
        tokens = []
        for word in bert_pre_tokenize(self.normalizer(text)):
            tokens.extend(self.word_pieces(word))
        return tokens

    def encode(self, text, max_length=None):
        """Token ids with [CLS] and [SEP], truncating the sentence so that both fit."""
        tokens = self.tokenize(text)
        if max_length is not None:
            tokens = tokens[: max_length - 2]
        tokens = [self.cls_token] + tokens + [self.sep_token]
        return [self.vocab[t] for t in tokens]
