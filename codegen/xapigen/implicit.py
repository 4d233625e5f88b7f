"""implicit.py: derives XAPI's implicit messages (spec §4.2) for a class.

Generic ones (served from the store by server/implicit.c) carry `implicit` =
the generic kind; create/destroy and the setters of `effect` fields are
hand-written (`implicit` None) like explicit messages."""
from .model import IdlError, Message, Param, Type


def _ref(cls):
    return Type("ref", name=cls.name)


def _msg(name, doc, params, result, kind, field=None, hidden=False, is_async=False):
    return Message(name=name, doc=doc, params=params, result=result, implicit=kind,
                   field=field, hidden=hidden, is_async=is_async)


def derive(model, cls, src):
    if not cls.implicit:
        return
    self_p = Param("self", _ref(cls), "reference to the object")
    out = [_msg("get_record", "Get a record containing the current state of the given %s."
                % cls.name, [self_p], Type("record", name=cls.name), "get_record")]
    if cls.field("uuid") is not None:
        out.append(_msg("get_by_uuid", "Get a reference to the %s instance with the given uuid."
                        % cls.name, [Param("uuid", Type("string"), "UUID of object to return")],
                        _ref(cls), "get_by_uuid"))
    nl = cls.field("name_label")
    if nl is not None and nl.type.kind == "string" and not nl.internal:
        out.append(_msg("get_by_name_label", "Get all the %s instances with the given label."
                        % cls.name, [Param("label", Type("string"), "label of object to return")],
                        Type("set", elem=_ref(cls)), "get_by_name_label"))
    if cls.get_all:
        refset = Type("set", elem=_ref(cls))
        recmap = Type("map", key=_ref(cls), elem=Type("record", name=cls.name))
        expr = [Param("expr", Type("string"), "expression selecting the objects")]
        out.append(_msg("get_all", "Return a list of all the %s instances known to the system."
                        % cls.name, [], refset, "get_all"))
        out.append(_msg("get_all_records", "Return a map from reference to record for every "
                        "%s instance." % cls.name, [], recmap, "get_all_records"))
        out.append(_msg("get_all_where", "Return the references of the %s instances matching "
                        "an expression." % cls.name, expr, refset, "get_all_where", hidden=True))
        out.append(_msg("get_all_records_where", "Return the records of the %s instances "
                        "matching an expression." % cls.name, expr, recmap,
                        "get_all_records_where", hidden=True))
        out[-1].stream = out[-3].stream = True
    if cls.constructor:
        out.append(_msg("create", "Create a new %s instance, and return its handle." % cls.name,
                        [Param("args", Type("record", name=cls.name),
                               "all constructor arguments")], _ref(cls), None, is_async=True))
        out.append(_msg("destroy", "Destroy the specified %s instance." % cls.name, [self_p],
                        None, None, is_async=True))
    for f in cls.fields:
        if f.internal:
            continue
        out.append(_msg("get_" + f.name, "Get the %s field of the given %s." % (f.name, cls.name),
                        [self_p], f.type, "get_field", f))
        if not f.writable:
            continue
        kind = None if f.effect else "set_field"
        out.append(_msg("set_" + f.name, "Set the %s field of the given %s." % (f.name, cls.name),
                        [self_p, Param("value", f.type, "new value to set")], None, kind, f))
        if f.type.kind == "map":
            out.append(_msg("add_to_" + f.name, "Add the given key-value pair to the %s field "
                            "of the given %s." % (f.name, cls.name),
                            [self_p, Param("key", f.type.key, "key to add"),
                             Param("value", f.type.elem, "value to add")], None,
                            None if f.effect else "map_add", f))
            out.append(_msg("remove_from_" + f.name, "Remove the given key and its value from "
                            "the %s field of the given %s; no-op if the key is absent."
                            % (f.name, cls.name),
                            [self_p, Param("key", f.type.key, "key to remove")], None,
                            None if f.effect else "map_remove", f))
        elif f.type.kind == "set" and f.type.elem.kind != "ref":
            out.append(_msg("add_" + f.name, "Add the given value to the %s field of the given "
                            "%s; no-op if present." % (f.name, cls.name),
                            [self_p, Param("value", f.type.elem, "value to add")], None,
                            None if f.effect else "set_add", f))
            out.append(_msg("remove_" + f.name, "Remove the given value from the %s field of "
                            "the given %s; no-op if absent." % (f.name, cls.name),
                            [self_p, Param("value", f.type.elem, "value to remove")], None,
                            None if f.effect else "set_remove", f))
    explicit = {m.name: m for m in cls.messages}
    for m in out:
        if m.name in explicit:
            e = explicit[m.name]
            raise IdlError(src.at(*e.anchor), "message %s.%s clashes with the implicit message "
                           "of the same name" % (cls.name, m.name))
        m.where = cls.where
    cls.messages = sorted(cls.messages + out, key=lambda m: m.name)
