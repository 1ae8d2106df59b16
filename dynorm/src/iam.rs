//! Least privilege from the models: the IAM policy a service needs for the tables it
//! uses and what it does with them, scoped to their ARNs (and, where asked, to the
//! partition keys a tenant may touch), instead of `dynamodb:*`.
//!
//! ```
//! use dynorm::iam::Policy;
//! use dynorm::{Db, DynaModel};
//! # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
//! # #[table(name = "books", hash_key = "isbn")]
//! # #[global_index(name = "by-author", hash_key = "author")]
//! # struct Book { isbn: String, author: String }
//! # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
//! # #[table(name = "authors", hash_key = "name")]
//! # struct Author { name: String }
//!
//! let db = Db::offline().with_table_prefix("prod-");
//! let policy = Policy::new(&db, "eu-west-1", "123456789012")
//!     .read_write::<Book>()
//!     .read::<Author>()
//!     .to_json();
//! // One statement per table and kind of access, in table-name order.
//! let books = &policy["Statement"][1];
//! assert_eq!(books["Resource"][0], "arn:aws:dynamodb:eu-west-1:123456789012:table/prod-books");
//! assert_eq!(books["Resource"][1], "arn:aws:dynamodb:eu-west-1:123456789012:table/prod-books/index/*");
//! assert_eq!(policy["Statement"][0]["Action"].as_array().unwrap().len(), 5, "reads only");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Value};

use crate::db::Db;
use crate::model::TableDef;

/// The item actions a read needs: single gets, batch gets, queries, scans, and the
/// condition checks of transactions.
pub const READ_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
];

/// The item actions writes need besides the reads: puts, updates, deletes and batch
/// writes (transactions are authorized per item by these).
pub const WRITE_ACTIONS: &[&str] = &[
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
];

/// What table management (`create_table`, `ensure_table`, `apply_table`, `plan_table`,
/// `delete_table`, auto-created tables) sends.
pub const MANAGE_ACTIONS: &[&str] = &[
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:ListTagsOfResource",
    "dynamodb:TagResource",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:UpdateContinuousBackups",
];

/// What reading a table's stream needs, on the stream's ARN.
pub const STREAM_ACTIONS: &[&str] = &[
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
];

#[derive(Debug, Clone, Default)]
struct Grant {
    indexes: bool,
    read: bool,
    write: bool,
    manage: bool,
    streams: bool,
    leading_keys: Option<Vec<String>>,
}

/// An IAM policy document for the tables a service uses, built from their models or
/// declarations and the handle's table names (prefix and deployed names included).
///
/// Each table gets the actions asked for, on its ARN and (for reads and writes) its
/// indexes' ARNs; [`leading_keys`](Self::leading_keys) restricts its item actions to
/// items whose partition key is one of the given values (the `dynamodb:LeadingKeys`
/// condition), which leaves scans out, as a scan is not limited to a partition.
#[derive(Debug, Clone)]
pub struct Policy {
    db: Db,
    partition: String,
    region: String,
    account: String,
    tables: BTreeMap<String, Grant>,
}

impl Policy {
    /// A policy for tables in `region` of `account`, named as `db` names them.
    pub fn new(db: &Db, region: impl Into<String>, account: impl Into<String>) -> Self {
        Policy {
            db: db.clone(),
            partition: "aws".to_owned(),
            region: region.into(),
            account: account.into(),
            tables: BTreeMap::new(),
        }
    }

    /// The AWS partition of the ARNs: `aws` (the default), `aws-cn` or `aws-us-gov`.
    pub fn partition(mut self, partition: impl Into<String>) -> Self {
        self.partition = partition.into();
        self
    }

    fn grant<M: TableDef>(mut self, change: impl FnOnce(&mut Grant)) -> Self {
        let name = self.db.table_name::<M>();
        let grant = self.tables.entry(name).or_default();
        grant.indexes |= M::TABLE.indexes().next().is_some();
        change(grant);
        self
    }

    /// Reads of `M`'s table and its indexes: gets, batch gets, queries, scans and
    /// transactions' condition checks.
    pub fn read<M: TableDef>(self) -> Self {
        self.grant::<M>(|g| g.read = true)
    }

    /// Reads and writes of `M`'s table: puts, updates, deletes, batch writes, and the
    /// item writes of transactions, with the reads.
    pub fn read_write<M: TableDef>(self) -> Self {
        self.grant::<M>(|g| {
            g.read = true;
            g.write = true;
        })
    }

    /// Table management of `M`'s table: create, describe, update and delete it, and its
    /// time to live.
    pub fn manage_tables<M: TableDef>(self) -> Self {
        self.grant::<M>(|g| g.manage = true)
    }

    /// Reading `M`'s table's stream (and listing streams, which IAM cannot scope).
    pub fn streams<M: TableDef>(self) -> Self {
        self.grant::<M>(|g| g.streams = true)
    }

    /// Restricts the item actions on `M`'s table to items whose partition key value is
    /// one of `keys` (for an entity, the rendered key: `"ORG#acme"`), for per-tenant
    /// scoping. Scans are left out: a scan is not limited to a partition.
    pub fn leading_keys<M: TableDef>(self, keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let keys: Vec<String> = keys.into_iter().map(Into::into).collect();
        self.grant::<M>(|g| g.leading_keys.get_or_insert_with(Vec::new).extend(keys))
    }

    fn table_arn(&self, table: &str) -> String {
        format!(
            "arn:{}:dynamodb:{}:{}:table/{table}",
            self.partition, self.region, self.account
        )
    }

    /// The policy document: `Version` and one statement per table and kind of access.
    pub fn to_json(&self) -> Value {
        let mut statements = Vec::new();
        let mut any_stream = false;
        for (n, (table, grant)) in self.tables.iter().enumerate() {
            let arn = self.table_arn(table);
            // Sids are alphanumeric; the table's position keeps them unique when two
            // names differ only in punctuation.
            let sid: String = table
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .chain(n.to_string().chars())
                .collect();
            if grant.read || grant.write {
                let mut actions: Vec<&str> = Vec::new();
                if grant.read {
                    actions.extend(READ_ACTIONS);
                }
                if grant.write {
                    actions.extend(WRITE_ACTIONS);
                }
                if grant.leading_keys.is_some() {
                    actions.retain(|a| *a != "dynamodb:Scan");
                }
                let mut resources = vec![arn.clone()];
                if grant.indexes {
                    resources.push(format!("{arn}/index/*"));
                }
                let mut statement = json!({
                    "Sid": format!("Items{sid}"),
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": resources,
                });
                if let Some(keys) = &grant.leading_keys {
                    statement["Condition"] = json!({
                        "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": keys }
                    });
                }
                statements.push(statement);
            }
            if grant.manage {
                statements.push(json!({
                    "Sid": format!("Table{sid}"),
                    "Effect": "Allow",
                    "Action": MANAGE_ACTIONS,
                    "Resource": [arn.clone()],
                }));
            }
            if grant.streams {
                any_stream = true;
                statements.push(json!({
                    "Sid": format!("Stream{sid}"),
                    "Effect": "Allow",
                    "Action": STREAM_ACTIONS,
                    "Resource": [format!("{arn}/stream/*")],
                }));
            }
        }
        if any_stream {
            statements.push(json!({
                "Sid": "ListStreams",
                "Effect": "Allow",
                "Action": ["dynamodb:ListStreams"],
                "Resource": ["*"],
            }));
        }
        json!({ "Version": "2012-10-17", "Statement": statements })
    }
}

/// The policy document as pretty-printed JSON.
impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(&self.to_json()).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}
