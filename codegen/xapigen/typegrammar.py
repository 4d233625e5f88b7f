"""typegrammar.py: parser for XAPI's type notation.

  type := base | type 'set' | '(' type '->' type ')' 'map'
  base := string | int | float | bool | datetime | 'enum' NAME
        | CLASS 'ref' | CLASS 'record'
Postfix `set` may repeat. Returns model.Type or raises ValueError."""
import re

from .model import Type

_TOKEN = re.compile(r"\s*(->|\(|\)|[A-Za-z][A-Za-z0-9_]*)")
SCALARS = ("string", "int", "float", "bool", "datetime")


def _tokens(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError("unexpected character %r in type '%s'"
                             % (text[pos:].strip()[:1], text))
        out.append(m.group(1))
        pos = m.end()
    return out


def parse_type(text):
    if not isinstance(text, str):
        raise ValueError("type must be a string")
    toks = _tokens(text)
    t, i = _parse(toks, 0, text)
    if i != len(toks):
        raise ValueError("trailing '%s' in type '%s'" % (" ".join(toks[i:]), text))
    return t


def _parse(toks, i, text):
    def need(j):
        if j >= len(toks):
            raise ValueError("incomplete type '%s'" % text)
        return toks[j]

    tok = need(i)
    if tok == "(":
        key, i = _parse(toks, i + 1, text)
        if need(i) != "->":
            raise ValueError("expected '->' in type '%s'" % text)
        val, i = _parse(toks, i + 1, text)
        if need(i) != ")":
            raise ValueError("expected ')' in type '%s'" % text)
        if need(i + 1) != "map":
            raise ValueError("expected 'map' after ')' in type '%s'" % text)
        t, i = Type("map", elem=val, key=key), i + 2
    elif tok in SCALARS:
        t, i = Type(tok), i + 1
    elif tok == "enum":
        name = need(i + 1)
        if not re.match(r"[A-Za-z]", name) or name in ("set", "map", "ref", "record"):
            raise ValueError("expected enum name in type '%s'" % text)
        t, i = Type("enum", name=name), i + 2
    elif re.match(r"[A-Za-z]", tok) and tok not in ("set", "map", "ref", "record"):
        kind = need(i + 1)
        if kind not in ("ref", "record"):
            raise ValueError("unknown type '%s'" % tok)
        t, i = Type(kind, name=tok), i + 2
    else:
        raise ValueError("unexpected '%s' in type '%s'" % (tok, text))
    while i < len(toks) and toks[i] == "set":
        t, i = Type("set", elem=t), i + 1
    return t, i
