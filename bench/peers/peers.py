"""The peer benchmark's Python side: the same workload with PynamoDB and with boto3
(its resource API, `Table`), against the DynamoDB Local at $DYNAMODB_ENDPOINT. Prints
one JSON line per measured operation: library, operation, items, wall and CPU seconds.

    python peers.py pynamodb|boto3 TABLE_PREFIX ITEMS

Run through bench/peers/run, which installs the packages into a private environment.
"""

import json
import os
import sys
import threading
import time

LIB, PREFIX, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
ENDPOINT = os.environ["DYNAMODB_ENDPOINT"]
REGION = "us-east-1"
CREDS = dict(aws_access_key_id="dynorm", aws_secret_access_key="dynorm")
BODY = "x" * 900
SINGLE = max(N // 10, 100)
PAGE_ITEMS = 1000
PAGE_READS = 10


def doc(pk, sk, i):
    return {"pk": pk, "sk": sk, "title": f"title {i}", "count": i, "active": i % 2 == 0, "body": BODY}


def measure(op, items, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"lib": LIB, "op": op, "items": items, "wall": wall, "cpu": cpu}), flush=True)


def run_pynamodb():
    from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class Doc(Model):
        class Meta:
            table_name = PREFIX + "docs"
            host = ENDPOINT
            region = REGION
            aws_access_key_id = CREDS["aws_access_key_id"]
            aws_secret_access_key = CREDS["aws_secret_access_key"]
            billing_mode = "PAY_PER_REQUEST"

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        title = UnicodeAttribute()
        count = NumberAttribute()
        active = BooleanAttribute()
        body = UnicodeAttribute()

    Doc.create_table(wait=True)
    try:
        keys = [(f"single-{i % 50}", f"{i:08}") for i in range(SINGLE)]

        def puts():
            for i, (pk, sk) in enumerate(keys):
                Doc(**doc(pk, sk, i)).save()

        def gets():
            for pk, sk in keys:
                Doc.get(pk, sk)

        def updates():
            for pk, sk in keys:
                Doc(pk, sk).update(actions=[Doc.count.add(1)], condition=Doc.pk.exists())

        measure("put", SINGLE, puts)
        measure("get", SINGLE, gets)
        measure("conditional update", SINGLE, updates)

        with Doc.batch_write() as batch:
            for i in range(PAGE_ITEMS):
                batch.save(Doc(**doc("page", f"{i:08}", i)))

        def page_once():
            count = 0
            for _ in range(PAGE_READS):
                for _doc in Doc.query("page", limit=PAGE_ITEMS):
                    count += 1
            return count

        measure("1 MB page query", PAGE_ITEMS * PAGE_READS, page_once)

        def batch_writes():
            with Doc.batch_write() as batch:
                for i in range(N):
                    batch.save(Doc(**doc(f"batch-{i % 100}", f"{i:08}", i)))

        measure("batch writes", N, batch_writes)

        total = SINGLE + PAGE_ITEMS + N

        def scan():
            counts = [0] * 4

            def segment(s):
                for _doc in Doc.scan(segment=s, total_segments=4):
                    counts[s] += 1

            threads = [threading.Thread(target=segment, args=(s,)) for s in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sum(counts) == total, (sum(counts), total)

        measure("4-segment scan", total, scan)
    finally:
        Doc.delete_table()


def run_boto3():
    import boto3
    from boto3.dynamodb.conditions import Attr, Key

    dynamodb = boto3.resource("dynamodb", endpoint_url=ENDPOINT, region_name=REGION, **CREDS)
    table = dynamodb.create_table(
        TableName=PREFIX + "docs",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    try:
        keys = [(f"single-{i % 50}", f"{i:08}") for i in range(SINGLE)]

        def puts():
            for i, (pk, sk) in enumerate(keys):
                table.put_item(Item=doc(pk, sk, i))

        def gets():
            for pk, sk in keys:
                table.get_item(Key={"pk": pk, "sk": sk})["Item"]

        def updates():
            for pk, sk in keys:
                table.update_item(
                    Key={"pk": pk, "sk": sk},
                    UpdateExpression="ADD #c :one",
                    ConditionExpression=Attr("pk").exists(),
                    ExpressionAttributeNames={"#c": "count"},
                    ExpressionAttributeValues={":one": 1},
                )

        measure("put", SINGLE, puts)
        measure("get", SINGLE, gets)
        measure("conditional update", SINGLE, updates)

        with table.batch_writer() as batch:
            for i in range(PAGE_ITEMS):
                batch.put_item(Item=doc("page", f"{i:08}", i))

        def page_once():
            count = 0
            for _ in range(PAGE_READS):
                out = table.query(KeyConditionExpression=Key("pk").eq("page"))
                count += len(out["Items"])
                assert "LastEvaluatedKey" not in out or len(out["Items"]) > 0

        measure("1 MB page query", PAGE_ITEMS * PAGE_READS, page_once)

        def batch_writes():
            with table.batch_writer() as batch:
                for i in range(N):
                    batch.put_item(Item=doc(f"batch-{i % 100}", f"{i:08}", i))

        measure("batch writes", N, batch_writes)

        total = SINGLE + PAGE_ITEMS + N

        def scan():
            counts = [0] * 4

            def segment(s):
                # A client per thread: boto3 resources are not thread-safe.
                t = boto3.resource("dynamodb", endpoint_url=ENDPOINT, region_name=REGION, **CREDS).Table(
                    PREFIX + "docs"
                )
                start = None
                while True:
                    args = {"Segment": s, "TotalSegments": 4}
                    if start:
                        args["ExclusiveStartKey"] = start
                    out = t.scan(**args)
                    counts[s] += len(out["Items"])
                    start = out.get("LastEvaluatedKey")
                    if not start:
                        break

            threads = [threading.Thread(target=segment, args=(s,)) for s in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sum(counts) == total, (sum(counts), total)

        measure("4-segment scan", total, scan)
    finally:
        table.delete()


{"pynamodb": run_pynamodb, "boto3": run_boto3}[LIB]()
