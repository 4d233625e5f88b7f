"""model.py: the checked IDL model, as the backends see it."""
from dataclasses import dataclass, field as dfield
from typing import Any, List, Optional


class IdlError(Exception):
    """A diagnostic in `file:line: message` form; the generator exits 1."""

    def __init__(self, where, msg):
        super().__init__(f"{where}: {msg}")


@dataclass
class Type:
    kind: str                      # string int float bool datetime enum ref record set map
    elem: Optional["Type"] = None  # set element, map value
    key: Optional["Type"] = None   # map key
    name: str = ""                 # enum name or class name

    @property
    def spelling(self):
        k = self.kind
        if k in ("string", "int", "float", "bool", "datetime"):
            return k
        if k == "enum":
            return "enum " + self.name
        if k == "ref":
            return self.name + " ref"
        if k == "record":
            return self.name + " record"
        if k == "set":
            return self.elem.spelling + " set"
        return "(%s -> %s) map" % (self.key.spelling, self.elem.spelling)

    def walk(self):
        if self.key:
            yield from self.key.walk()
        if self.elem:
            yield from self.elem.walk()
        yield self


@dataclass
class Enum:
    name: str
    doc: str
    values: List[tuple]            # (wire, doc)
    owner: str
    where: str


@dataclass
class Field:
    name: str
    type: Type
    qualifier: str
    doc: str
    default: Any = None
    has_default: bool = False
    setters: bool = False
    effect: bool = False
    maintained_by: Optional[str] = None
    internal: bool = False
    persist: bool = True
    where: str = ""
    inverse: Optional[tuple] = None    # (class, field) of the other side

    @property
    def cname(self):
        return cname(self.name)

    @property
    def writable(self):
        return (self.qualifier == "RW" or self.setters) and not self.maintained_by \
            and not self.internal


@dataclass
class Param:
    name: str
    type: Type
    doc: str = ""
    default: Any = None
    has_default: bool = False


@dataclass
class Message:
    name: str
    doc: str
    params: List[Param]
    result: Optional[Type]
    errors: List[str] = dfield(default_factory=list)
    is_async: bool = False
    session: bool = True
    stream: bool = False
    implicit: Optional[str] = None     # None = hand-written; else generic kind
    field: Optional[Field] = None      # for per-field implicit messages
    hidden: bool = False
    where: str = ""

    @property
    def handwritten(self):
        return self.implicit is None


@dataclass
class Class:
    name: str
    doc: str
    events: bool = True
    get_all: bool = True
    constructor: bool = False
    persist: bool = False
    implicit: bool = True
    enums: List[Enum] = dfield(default_factory=list)
    fields: List[Field] = dfield(default_factory=list)
    messages: List[Message] = dfield(default_factory=list)
    where: str = ""

    @property
    def cname(self):
        return cname(self.name)

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass
class Error:
    name: str
    params: List[str]
    doc: str
    where: str = ""


@dataclass
class XeField:
    xe: str                            # xe's name ("memory-actual")
    field: str                         # the field shown ("memory_actual")
    via: Optional[str] = None          # own ref field it is read through ("metrics")
    hidden: bool = False
    deprecated: bool = False
    empty: bool = False                # "<EMPTY>" while the record's own bool `empty` is true


@dataclass
class XeRecord:
    cls: str                           # API class ("VM")
    fields: List[XeField]


@dataclass
class Model:
    classes: List[Class]               # sorted by wire name
    enums: dict                        # name -> Enum
    errors: List[Error]                # sorted by name
    external: List[str]
    xe_records: List["XeRecord"] = dfield(default_factory=list)   # idl/xe_records.json

    def cls(self, name):
        for c in self.classes:
            if c.name == name:
                return c
        return None


def cname(wire):
    """Wire name -> C identifier part: lowercase, other chars -> '_'."""
    out = []
    for ch in wire:
        out.append(ch.lower() if ch.isalnum() else "_")
    return "".join(out)
