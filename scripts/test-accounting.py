#!/usr/bin/env python3
"""Counts the tests of a `swift test` run that were skipped or recorded known issues, and fails when one
is not in the allow-list: a green run must mean every check ran.

    scripts/test-accounting.py EVENTS.jsonl Tests/allowed-skips.txt

EVENTS.jsonl is Swift Testing's event stream (`swift test --event-stream-output-path EVENTS.jsonl
--event-stream-version 0`). The allow-list has one entry a line, `skip|known <test id> <reason>`, the test
id as the stream names it without its source location (`EndToEndTests.ArchiveErrorTests/fullDisk()`);
an entry without a reason is refused. Prints the counts, each skip and known issue, and last the test
runner's own closing line. Exit 0 when everything is allowed, 1 otherwise.
"""
import json
import re
import sys

LOCATION = re.compile(r"/[^/]+\.swift:\d+:\d+$")


def test_id(raw):
    """`Target.Suite/test()/File.swift:12:6` -> `Target.Suite/test()` (lines move, names stay)."""
    return LOCATION.sub("", raw or "?")


def read_allow_list(path):
    allowed, problems = {}, []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 3 or parts[0] not in ("skip", "known"):
                problems.append(f"{path}:{number}: expected `skip|known <test id> <reason>`: {line}")
                continue
            allowed[(parts[0], parts[1])] = parts[2]
    return allowed, problems


def main(events_path, allow_path):
    allowed, problems = read_allow_list(allow_path)
    tests, skipped, known, closing = set(), [], [], None
    try:
        with open(events_path, encoding="utf-8") as file:
            for line in file:
                record = json.loads(line)
                payload = record.get("payload", {})
                if record.get("kind") == "test":
                    if payload.get("kind") == "function":
                        tests.add(test_id(payload.get("id")))
                    continue
                kind = payload.get("kind")
                texts = [message.get("text", "") for message in payload.get("messages", [])]
                if kind == "testSkipped":
                    skipped.append((test_id(payload.get("testID")), " ".join(payload.get("_comments", [])) or texts[0]))
                elif kind == "issueRecorded" and payload.get("issue", {}).get("isKnown"):
                    known.append((test_id(payload.get("testID")), " / ".join(texts[1:]) or texts[0]))
                elif kind == "runEnded":
                    closing = texts[0] if texts else "(the runner printed no closing line)"
    except FileNotFoundError:
        problems.append(f"no test events at {events_path}: the test run did not start")

    unexpected = 0
    print(f"test accounting: {len(tests)} tests, {len(skipped)} skipped, {len(known)} known issues "
          f"(allowed: {allow_path})")
    for label, entries in (("skip", skipped), ("known", known)):
        for name, reason in entries:
            allowance = allowed.get((label, name))
            if allowance is None:
                unexpected += 1
                print(f"  NOT ALLOWED {label}: {name}: {reason}")
            else:
                print(f"  allowed {label}: {name}: {reason} (allowed because: {allowance})")
    for problem in problems:
        print(f"  {problem}")
    if closing is None:
        problems.append("the test run did not finish")
        print("  the event stream has no end of run: the test process crashed or was killed")
    if unexpected or problems:
        print(f"test accounting FAILED: {unexpected} not in the allow-list, {len(problems)} other problem(s)")
    print(closing or "Test run did not finish.")
    return 1 if unexpected or problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
