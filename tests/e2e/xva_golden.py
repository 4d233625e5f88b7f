"""XVA archives built from XAPI's format rules (spec storage-network-console.md §5.3),
independently of the gateway's exporter: ova.xml as an XML-RPC <value>, then each disk as
Ref:<n>/<8 digits> 1 MiB chunks with .xxhash (XXH64, uppercase hex) or .checksum (SHA-1)
members, all-zero chunks left out except the first and last. Pure Python (stdlib)."""
import hashlib
import io
import struct
import tarfile
from xml.sax.saxutils import escape

MiB = 1024 * 1024
M64 = (1 << 64) - 1
P1, P2, P3, P4, P5 = (11400714785074694791, 14029467366897019727, 1609587929392839161,
                      9650029242287828579, 2870177450012600261)


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def _round(acc, lane):
    acc = (acc + lane * P2) & M64
    return (_rotl(acc, 31) * P1) & M64


def _merge(acc, v):
    acc ^= _round(0, v)
    return (acc * P1 + P4) & M64


def xxh64(data, seed=0):
    """XXH64 as specified by xxHash (seed 0 is XAPI's)."""
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M64, (seed + P2) & M64, seed, (seed - P1) & M64]
        while i + 32 <= n:
            lanes = struct.unpack_from("<4Q", data, i)
            v = [_round(v[k], lanes[k]) for k in range(4)]
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M64
        for x in v:
            h = _merge(h, x)
    else:
        h = (seed + P5) & M64
    h = (h + n) & M64
    while i + 8 <= n:
        (k1,) = struct.unpack_from("<Q", data, i)
        h ^= _round(0, k1)
        h = (_rotl(h, 27) * P1 + P4) & M64
        i += 8
    if i + 4 <= n:
        (k,) = struct.unpack_from("<I", data, i)
        h ^= (k * P1) & M64
        h = (_rotl(h, 23) * P2 + P3) & M64
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M64
        h = (_rotl(h, 11) * P1) & M64
        i += 1
    h ^= h >> 33
    h = (h * P2) & M64
    h ^= h >> 29
    h = (h * P3) & M64
    h ^= h >> 32
    return h


def value(v):
    """An XML-RPC <value> as XAPI's ova.xml writes records (ints as strings)."""
    if isinstance(v, bool):
        return "<value><boolean>%d</boolean></value>" % v
    if isinstance(v, int):
        return "<value><i4>%d</i4></value>" % v
    if isinstance(v, str):
        return "<value>%s</value>" % escape(v)
    if isinstance(v, dict):
        return "<value><struct>%s</struct></value>" % "".join(
            "<member><name>%s</name>%s</member>" % (escape(k), value(x)) for k, x in v.items())
    if isinstance(v, list):
        return "<value><array><data>%s</data></array></value>" % "".join(value(x) for x in v)
    raise TypeError(v)


def ova_xml(objects):
    version = {"hostname": "xcp-golden", "date": "2025-01-01", "product_version": "8.3.0",
               "product_brand": "XCP-ng", "build_number": "8.3.0", "xapi_major": 25,
               "xapi_minor": 33, "export_vsn": 2}
    return value({"version": version, "objects": objects}).encode()


def vm_record(name, vbds, vifs):
    return {"uuid": "11111111-2222-3333-4444-555555555555", "name_label": name,
            "name_description": "golden", "power_state": "Halted", "is_a_template": False,
            "is_a_snapshot": False, "memory_static_max": str(512 * MiB),
            "memory_dynamic_max": str(512 * MiB), "memory_dynamic_min": str(256 * MiB),
            "memory_static_min": str(128 * MiB), "VCPUs_max": "2", "VCPUs_at_startup": "2",
            "actions_after_shutdown": "destroy", "actions_after_reboot": "restart",
            "actions_after_crash": "restart", "PV_bootloader": "pygrub", "HVM_boot_policy": "",
            "platform": {"acpi": "1"}, "other_config": {"mac_seed": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                                                       "golden": "yes"},
            "VBDs": vbds, "VIFs": vifs, "snapshots": [], "parent": "OpaqueRef:NULL",
            "snapshot_of": "OpaqueRef:NULL", "resident_on": "OpaqueRef:NULL",
            "suspend_VDI": "OpaqueRef:NULL", "domain_type": "pv"}


def disk_objects(vm_id, vdi_id, sr_id, vbd_id, size, userdevice="0"):
    vbd = {"uuid": "", "VM": vm_id, "VDI": vdi_id, "userdevice": userdevice, "bootable": True,
           "mode": "RW", "type": "Disk", "unpluggable": False, "empty": False,
           "other_config": {"owner": ""}, "qos_algorithm_type": "", "qos_algorithm_params": {}}
    vdi = {"uuid": "99999999-2222-3333-4444-555555555555", "name_label": "golden disk",
           "name_description": "", "SR": sr_id, "VBDs": [vbd_id], "virtual_size": str(size),
           "type": "system", "sharable": False, "read_only": False,
           "other_config": {"xo:tag": "t"}, "location": "../../../etc/passwd"}
    sr = {"uuid": "", "name_label": "Local storage", "type": "ext", "content_type": "user",
          "VDIs": [vdi_id]}
    return [{"class": "VBD", "id": vbd_id, "snapshot": vbd},
            {"class": "VDI", "id": vdi_id, "snapshot": vdi},
            {"class": "SR", "id": sr_id, "snapshot": sr}]


def golden_objects(size, name="golden VM"):
    vif = {"uuid": "", "VM": "Ref:0", "network": "Ref:5", "device": "0",
           "MAC": "de:ad:be:ef:00:01", "MTU": "1500", "other_config": {},
           "qos_algorithm_type": "", "qos_algorithm_params": {}}
    net = {"uuid": "", "name_label": "Pool-wide network associated with eth0", "bridge": "xenbr0",
           "other_config": {}}
    objs = [{"class": "VM", "id": "Ref:0", "snapshot": vm_record(name, ["Ref:1"], ["Ref:4"])}]
    objs += disk_objects("Ref:0", "Ref:2", "Ref:3", "Ref:1", size)
    objs += [{"class": "VIF", "id": "Ref:4", "snapshot": vif},
             {"class": "network", "id": "Ref:5", "snapshot": net}]
    return objs


def _member(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def chunk_members(disk, vdi_id, checksum="xxhash", skip_zero=True):
    """(name, bytes) of a disk's chunks and their checksum members."""
    out = []
    n = (len(disk) + MiB - 1) // MiB
    for i in range(n):
        chunk = disk[i * MiB:(i + 1) * MiB]
        if skip_zero and 0 < i < n - 1 and chunk.count(0) == len(chunk):
            continue
        name = "%s/%08d" % (vdi_id, i)
        out.append((name, chunk))
        if checksum == "xxhash":
            out.append((name + ".xxhash", ("%016X" % xxh64(chunk)).encode()))
        elif checksum == "sha1":
            out.append((name + ".checksum", hashlib.sha1(chunk).hexdigest().encode()))
    return out


def xva(objects, members, ova=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        _member(tar, "ova.xml", ova if ova is not None else ova_xml(objects))
        for name, data in members:
            _member(tar, name, data)
    return buf.getvalue()
