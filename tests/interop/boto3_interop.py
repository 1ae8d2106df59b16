"""boto3 side of dynorm's interop test: does an item written by dynorm read back the same
in boto3, and does an item written by boto3 read back in dynorm?

The Rust integration test runs it with the python that scripts/python-env prints
(a private virtual environment with a pinned boto3), against DynamoDB Local:

    python boto3_interop.py --endpoint URL --table NAME check-dynorm-item --id ID
    python boto3_interop.py --endpoint URL --table NAME write-boto3-item --id ID
    python boto3_interop.py --endpoint URL --table NAME bump-version --id ID

The table has the hash key `id` (S). Region us-east-1; dummy static credentials unless
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set.

check-dynorm-item  reads the item (get_item, ConsistentRead) dynorm wrote, checks its raw
                   DynamoDB types and values and what boto3's TypeDeserializer makes of it;
                   prints `ok` (exit 0), or every mismatch on stderr (exit 1). A number
                   that only boto3 bug #2500 stops TypeDeserializer from reading (plain
                   notation with more than 38 digits, all past the 38th zeros, such as
                   1E+125 as DynamoDB returns it) is a note on stderr, not a mismatch,
                   unless --strict-boto3-numbers comes after the command.
write-boto3-item   puts an item through the boto3 resource Table, from Python values, so
                   boto3's own serializer picks the DynamoDB types; prints `ok`.
bump-version       SET version = version + 1 on an existing item; prints the new version.

Any other failure (no such item, a DynamoDB error) is a message on stderr and exit 1.
Only the standard library and boto3 are used.
"""

import argparse
import os
import sys
from decimal import Decimal, InvalidOperation, Rounded

import boto3
from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeDeserializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

REGION = "us-east-1"
MAX_SIGNIFICANT_DIGITS = 38


def expected_raw(item_id):
    """The item dynorm writes, as raw DynamoDB AttributeValues (N values compare by value)."""
    return {
        "id": {"S": item_id},
        "text": {"S": "h\u00e9llo"},
        "tags": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2.5", "-3"]},
        "blobs": {"BS": [b"\x00\x01", b"\xff"]},
        # empty_tags: an empty set is left out of the item.
        "data": {"B": b"\x00\x01\x02\xff"},
        "digest": {"B": bytes(range(16))},
        "big": {"N": "12345678901234567890123456789012345678"},
        "huge": {"N": "9" * 38},
        "money": {"N": "1234.5678"},
        "tiny": {"N": "1E-130"},
        "large": {"N": "1E+125"},
        "float": {"N": "0.1"},
        "flag": {"BOOL": True},
        "nothing": {"NULL": True},
        "list": {"L": [{"S": "x"}, {"N": "1"}]},
        "nested": {"M": {"city": {"S": "Paris"}, "codes": {"SS": ["75001"]}}},
        "version": {"N": "1"},
    }


def expected_python(item_id):
    """The same item as boto3's TypeDeserializer should give it."""
    return {
        "id": item_id,
        "text": "h\u00e9llo",
        "tags": {"a", "b"},
        "scores": {Decimal("1"), Decimal("2.5"), Decimal("-3")},
        "blobs": {Binary(b"\x00\x01"), Binary(b"\xff")},
        "data": Binary(b"\x00\x01\x02\xff"),
        "digest": Binary(bytes(range(16))),
        "big": Decimal("12345678901234567890123456789012345678"),
        "huge": Decimal("9" * 38),
        "money": Decimal("1234.5678"),
        "tiny": Decimal("1E-130"),
        "large": Decimal("1E+125"),
        "float": Decimal("0.1"),
        "flag": True,
        "nothing": None,
        "list": ["x", Decimal("1")],
        "nested": {"city": "Paris", "codes": {"75001"}},
        "version": Decimal("1"),
    }



def significant_digits(value):
    """Digits of a Decimal without leading or trailing zeros, as DynamoDB counts them:
    1E+125, which DynamoDB returns as a 1 and 125 zeros, has one."""
    digits = "".join(map(str, value.as_tuple().digits)).strip("0")
    return max(len(digits), 1)


class Boto3Issue2500Deserializer(TypeDeserializer):
    """TypeDeserializer, except that a number whose digits past the 38th are all zeros is
    read instead of raising decimal.Rounded.

    DynamoDB returns numbers in plain notation, so 1E+125 comes back as a 1 and 125 zeros,
    and boto3's own TypeDeserializer raises Rounded on it although DynamoDB counts one
    significant digit (boto/boto3#2500, #4693, open in the pinned boto3). Inexact, that is
    more than 38 significant digits, still raises."""

    CONTEXT = DYNAMODB_CONTEXT.copy()
    CONTEXT.traps[Rounded] = False

    def _deserialize_n(self, value):
        return self.CONTEXT.create_decimal(value)


def parse_number(text):
    """A DynamoDB number string as a Decimal, or an error message."""
    if not isinstance(text, str):
        return None, "a number must be a string, got %r" % (text,)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, "%r is not a number" % (text,)
    if not value.is_finite():
        return None, "%r is not a finite number" % (text,)
    digits = significant_digits(value)
    if digits > MAX_SIGNIFICANT_DIGITS:
        return None, "%r has %d significant digits, more than %d" % (
            text, digits, MAX_SIGNIFICANT_DIGITS)
    return value, None


def compare_raw(path, expected, got, mismatches):
    """Compare two raw AttributeValues, appending (path, expected, got) for each difference."""

    def fail(note=None):
        got_text = repr(got) if note is None else "%r (%s)" % (got, note)
        mismatches.append((path, repr(expected), got_text))

    if not isinstance(got, dict) or len(got) != 1:
        return fail("not a single-type AttributeValue")
    (want_type, want), = expected.items()
    (got_type, value), = got.items()
    if got_type != want_type:
        return fail("type %s, expected %s" % (got_type, want_type))

    if want_type == "S":
        if not isinstance(value, str) or value != want:
            fail()
    elif want_type == "B":
        if not isinstance(value, bytes) or value != want:
            fail()
    elif want_type in ("BOOL", "NULL"):
        if value is not want:
            fail()
    elif want_type == "N":
        number, error = parse_number(value)
        if error:
            fail(error)
        elif number != Decimal(want):
            fail("value %s, expected %s" % (number, Decimal(want)))
    elif want_type in ("SS", "BS"):
        kind = str if want_type == "SS" else bytes
        if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
            fail("not a list of %s" % kind.__name__)
        elif len(set(value)) != len(value):
            fail("duplicate members")
        elif set(value) != set(want):
            fail()
    elif want_type == "NS":
        if not isinstance(value, list):
            return fail("not a list")
        numbers = []
        for member in value:
            number, error = parse_number(member)
            if error:
                return fail(error)
            numbers.append(number)
        if len(set(numbers)) != len(numbers):
            fail("duplicate members")
        elif set(numbers) != {Decimal(n) for n in want}:
            fail("values %s" % sorted(numbers))
    elif want_type == "L":
        if not isinstance(value, list) or len(value) != len(want):
            return fail()
        for index, (want_member, got_member) in enumerate(zip(want, value)):
            compare_raw("%s[%d]" % (path, index), want_member, got_member, mismatches)
    elif want_type == "M":
        if not isinstance(value, dict):
            return fail()
        compare_map(path + ".", want, value, mismatches, compare_raw)
    else:
        raise AssertionError("no comparison for type %s" % want_type)


def compare_map(prefix, expected, got, mismatches, compare):
    for name in sorted(set(expected) | set(got)):
        if name not in got:
            mismatches.append((prefix + name, repr(expected[name]), "absent"))
        elif name not in expected:
            mismatches.append((prefix + name, "absent", repr(got[name])))
        else:
            compare(prefix + name, expected[name], got[name], mismatches)


def same_python(expected, got):
    """Equal, and of the same types all the way down (so True is not 1, nor bytes Binary)."""
    if type(expected) is not type(got):
        return False
    if isinstance(expected, dict):
        return expected.keys() == got.keys() and all(
            same_python(expected[k], got[k]) for k in expected)
    if isinstance(expected, list):
        return len(expected) == len(got) and all(
            same_python(e, g) for e, g in zip(expected, got))
    if isinstance(expected, (set, frozenset)):
        return expected == got and {type(v) for v in expected} == {type(v) for v in got}
    if isinstance(expected, Binary):
        return expected.value == got.value
    return expected == got


def check_dynorm_item(client, table, item_id, strict):
    answer = client.get_item(TableName=table, Key={"id": {"S": item_id}}, ConsistentRead=True)
    item = answer.get("Item")
    if item is None:
        return fail("check-dynorm-item: no item with id=%r in table %s" % (item_id, table))

    mismatches = []
    # Every attribute of the item is compared, so one not expected (empty_tags too) fails.
    compare_map("", expected_raw(item_id), item, mismatches, compare_raw)

    deserializer = TypeDeserializer()
    notes = []
    python_item = {}
    for name, value in item.items():
        try:
            python_item[name] = deserializer.deserialize(value)
            continue
        except Exception as error:  # decimal.Rounded, decimal.Inexact, ...
            failure = "%r raised %s: %s" % (value, type(error).__name__, error)
        if not strict:
            try:
                python_item[name] = Boto3Issue2500Deserializer().deserialize(value)
                notes.append("%s: boto3's TypeDeserializer raises decimal.Rounded on %r, "
                             "whose digits past the %dth are all zeros, as DynamoDB writes "
                             "such numbers (boto3 bug boto/boto3#2500); compared with the "
                             "zeros dropped instead" % (name, value, MAX_SIGNIFICANT_DIGITS))
                continue
            except Exception:
                pass
        mismatches.append(("python " + name, "TypeDeserializer to accept it", failure))
    expected = expected_python(item_id)
    for name in sorted(set(expected) & set(python_item)):
        if not same_python(expected[name], python_item[name]):
            mismatches.append(("python " + name, repr(expected[name]), repr(python_item[name])))

    for note in notes:
        print("check-dynorm-item: note: " + note, file=sys.stderr)
    if mismatches:
        print("check-dynorm-item: %d mismatch(es) in item id=%r of table %s:"
              % (len(mismatches), item_id, table), file=sys.stderr)
        for path, want, got in mismatches:
            print("  %s: expected %s, got %s" % (path, want, got), file=sys.stderr)
        return 1
    print("ok")
    return 0


def write_boto3_item(resource, table, item_id):
    resource.Table(table).put_item(Item={
        "id": item_id,
        "hundred": Decimal("100.0"),
        "hundred_exp": Decimal("1E+2"),
        "big": Decimal("12345678901234567890123456789012345678"),
        "tiny": Decimal("1E-130"),
        "tags": {"a", "b"},
        "scores": {Decimal(1), Decimal("2.5")},
        "blobs": {Binary(b"\x00"), Binary(b"\x01\x02")},
        "data": Binary(b"\x00\xff"),
        "nothing": None,
        "nested": {"city": "Paris", "zip": {"code": Decimal(75001)}},
        "version": Decimal(7),
    })
    print("ok")
    return 0


def bump_version(client, table, item_id):
    try:
        answer = client.update_item(
            TableName=table,
            Key={"id": {"S": item_id}},
            UpdateExpression="SET #version = #version + :one",
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={"#version": "version", "#id": "id"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return fail("bump-version: no item with id=%r in table %s" % (item_id, table))
        raise
    print(answer["Attributes"]["version"]["N"])
    return 0


def fail(message):
    print(message, file=sys.stderr)
    return 1


COMMANDS = {
    "check-dynorm-item": lambda client, resource, args:
        check_dynorm_item(client, args.table, args.id, args.strict_boto3_numbers),
    "write-boto3-item": lambda client, resource, args:
        write_boto3_item(resource, args.table, args.id),
    "bump-version": lambda client, resource, args:
        bump_version(client, args.table, args.id),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="DynamoDB endpoint URL")
    parser.add_argument("--table", required=True, help="table name (hash key id, S)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        command = commands.add_parser(name)
        command.add_argument("--id", required=True, help="the item's id")
        if name == "check-dynorm-item":
            command.add_argument(
                "--strict-boto3-numbers", action="store_true",
                help="fail, too, where only boto3 bug #2500 stops TypeDeserializer")
    args = parser.parse_args(argv)

    # Only ever DynamoDB Local: dummy credentials, and no profile from the caller's setup.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "dynorm")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "dynorm")
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_DEFAULT_PROFILE", None)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    session = boto3.session.Session(
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
        region_name=REGION,
    )
    config = Config(connect_timeout=5, read_timeout=30,
                    retries={"max_attempts": 3, "mode": "standard"})
    client = session.client("dynamodb", endpoint_url=args.endpoint, config=config)
    resource = session.resource("dynamodb", endpoint_url=args.endpoint, config=config)

    try:
        return COMMANDS[args.command](client, resource, args)
    except (ClientError, BotoCoreError) as error:
        return fail("%s: %s" % (args.command, error))


if __name__ == "__main__":
    sys.exit(main())
