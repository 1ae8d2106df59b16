// The peer benchmark's JavaScript side: the same workload with ElectroDB on the AWS SDK
// for JavaScript v3, against the DynamoDB Local at $DYNAMODB_ENDPOINT. Prints one JSON
// line per measured operation: library, operation, items, wall and CPU seconds.
//
//     node peers.mjs TABLE_PREFIX ITEMS
//
// Run through bench/peers/run, which installs the packages into a private node_modules.

import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, waitUntilTableExists } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Entity } from "electrodb";

const [prefix, itemsArg] = process.argv.slice(2);
const N = Number(itemsArg);
const SINGLE = Math.max(Math.floor(N / 10), 100);
const PAGE_ITEMS = 1000;
const PAGE_READS = 10;
const BODY = "x".repeat(900);
const table = `${prefix}docs`;

const raw = new DynamoDBClient({
  endpoint: process.env.DYNAMODB_ENDPOINT,
  region: "us-east-1",
  credentials: { accessKeyId: "dynorm", secretAccessKey: "dynorm" },
});
const client = DynamoDBDocumentClient.from(raw);

const Doc = new Entity(
  {
    model: { entity: "doc", version: "1", service: "bench" },
    attributes: {
      part: { type: "string", required: true },
      id: { type: "string", required: true },
      title: { type: "string", required: true },
      count: { type: "number", required: true },
      active: { type: "boolean", required: true },
      body: { type: "string", required: true },
    },
    indexes: {
      primary: {
        pk: { field: "pk", composite: ["part"] },
        sk: { field: "sk", composite: ["id"] },
      },
    },
  },
  { client, table },
);

const doc = (part, id, i) => ({ part, id, title: `title ${i}`, count: i, active: i % 2 === 0, body: BODY });
const pad = (i) => String(i).padStart(8, "0");

async function measure(op, items, fn) {
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - wall) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(JSON.stringify({ lib: "electrodb", op, items, wall: seconds, cpu: cpuSeconds }));
}

await raw.send(
  new CreateTableCommand({
    TableName: table,
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "sk", AttributeType: "S" },
    ],
    BillingMode: "PAY_PER_REQUEST",
  }),
);
await waitUntilTableExists({ client: raw, maxWaitTime: 60 }, { TableName: table });
try {
  const keys = Array.from({ length: SINGLE }, (_, i) => [`single-${i % 50}`, pad(i)]);
  await measure("put", SINGLE, async () => {
    for (let i = 0; i < keys.length; i++) {
      await Doc.put(doc(keys[i][0], keys[i][1], i)).go();
    }
  });
  await measure("get", SINGLE, async () => {
    for (const [part, id] of keys) {
      const { data } = await Doc.get({ part, id }).go();
      if (!data) throw new Error("missing item");
    }
  });
  await measure("conditional update", SINGLE, async () => {
    for (const [part, id] of keys) {
      await Doc.patch({ part, id }).add({ count: 1 }).go();
    }
  });

  await Doc.put(Array.from({ length: PAGE_ITEMS }, (_, i) => doc("page", pad(i), i))).go();
  await measure("1 MB page query", PAGE_ITEMS * PAGE_READS, async () => {
    let count = 0;
    for (let r = 0; r < PAGE_READS; r++) {
      const { data } = await Doc.query.primary({ part: "page" }).go({ pages: 1 });
      count += data.length;
    }
    if (count === 0) throw new Error("empty pages");
  });

  await measure("batch writes", N, async () => {
    await Doc.put(Array.from({ length: N }, (_, i) => doc(`batch-${i % 100}`, pad(i), i))).go({ concurrency: 1 });
  });

  const total = SINGLE + PAGE_ITEMS + N;
  await measure("4-segment scan", total, async () => {
    const counts = await Promise.all(
      [0, 1, 2, 3].map(async (segment) => {
        const { data } = await Doc.scan.go({ pages: "all", params: { Segment: segment, TotalSegments: 4 } });
        return data.length;
      }),
    );
    const sum = counts.reduce((a, b) => a + b, 0);
    if (sum !== total) throw new Error(`scanned ${sum} of ${total}`);
  });
} finally {
  await raw.send(new DeleteTableCommand({ TableName: table }));
}
