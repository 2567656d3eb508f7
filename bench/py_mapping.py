"""The event mapping of the service (README "The event"), written as a Python user would: the
baselines and the reference pipeline use it, so both sides do the same work per group.

Same fields, same subject, same UUIDv5 id (namespace and name as src/events/mapping.cpp), so
the Python events equal the service's events but for `time`.
"""
import datetime as dt
import json
import re
import urllib.parse
import uuid

EVENT_NAMESPACE = uuid.UUID(bytes=bytes([0x51, 0xc1, 0xa9, 0x26, 0x16, 0x1d, 0x44, 0xc6,
                                         0x81, 0x3f, 0xe2, 0x97, 0xc7, 0xbb, 0xe4, 0x43]))
SOURCE = "cloud.aws.billing"


def camel_case(name):
    if "_" in name or not re.search(r"[a-z]", name):
        parts = [p for p in name.lower().split("_") if p]
        return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:]) if parts else ""
    return name[:1].lower() + name[1:]


def field(s):
    return f"{len(s.encode())}:{s}"


def make_event(period, group, group_by, now):
    """One CloudEvent (a dict) from a ResultsByTime entry and one of its groups (boto3 shapes)."""
    date = period["TimePeriod"]["Start"]
    keys = group["Keys"]
    first = group_by[0]
    etype = "aws." + (first["Key"].lower() if first["Type"] == "DIMENSION" else
                      "tag" if first["Type"] == "TAG" else "cost_category") + ".daily"
    data = {"date": date}
    for gb, key in zip(group_by, keys):
        if gb["Type"] in ("TAG", "COST_CATEGORY"):
            name, _, value = key.partition("$")
            data["tag" if gb["Type"] == "TAG" else "costCategory"] = {"key": name, "value": value}
        else:
            data[camel_case(gb["Key"])] = key
    metrics = group["Metrics"]
    for name, m in metrics.items():
        data[camel_case(name)] = {"amount": m["Amount"], "unit": m["Unit"]}
    parts = [field(SOURCE), field(etype), field(date), field(str(len(keys)))]
    parts += [field(k) for k in keys]
    parts.append(field(str(len(metrics))))
    for name in sorted(metrics):
        parts += [field(name), field(metrics[name]["Amount"]), field(metrics[name]["Unit"])]
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid5(EVENT_NAMESPACE, "".join(parts))),
        "source": SOURCE,
        "type": etype,
        "datacontenttype": "application/json",
        "time": now,
        "subject": date + "/" + "/".join(keys),
        "estimated": bool(period.get("Estimated", False)),
        "data": data,
    }


def now_rfc3339():
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def structured(event):
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def binary(event):
    """(headers, body) of the CloudEvents HTTP binary mode."""
    headers = {"Content-Type": "application/json"}
    for attr in ("specversion", "id", "source", "type", "subject", "time"):
        headers["ce-" + attr] = urllib.parse.quote(event[attr], safe="!#$&'()*+,/:;<=>?@[]^`{|}~")
    headers["ce-estimated"] = "true" if event["estimated"] else "false"
    return headers, json.dumps(event["data"], separators=(",", ":"), ensure_ascii=False).encode()
