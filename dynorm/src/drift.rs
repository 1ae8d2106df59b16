//! Tables as deployed things: what differs between a live table and its model.
//!
//! [`TablePlan`] is the typed difference, made by `DynaModel::plan_table` from
//! DescribeTable and DescribeTimeToLive: the steps that would make the table match the
//! model, each marked destructive where it deletes or rebuilds data. Its `Display` is a
//! short report for a person to review, and it is empty when the table matches.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;

use aws_sdk_dynamodb::operation::create_table::CreateTableInput;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, Projection as SdkProjection, ProvisionedThroughput,
    ProvisionedThroughputDescription, StreamSpecification, TableDescription, TimeToLiveStatus,
};

use crate::ops::into_future;
use crate::schema::TableSchema;
use crate::table::create_table_input;
use crate::{Db, Error, Result, TableDef};

/// What differs between a live table and its model: the steps that would make the table
/// match, in the order they would be applied. Empty when the table matches.
///
/// ```no_run
/// # use dynorm::{Db, DynaModel};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let plan = Book::plan_table(&db).await?;
/// if !plan.is_empty() {
///     println!("{plan}");
///     // table `books`: 1 change
///     //   + create global index `by-author` (hash `author` S, range `published` N; projection ALL)
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TablePlan {
    /// The full table name, prefix included.
    pub table: String,
    /// The steps, in order.
    pub steps: Vec<PlanStep>,
}

/// One difference between a live table and its model.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PlanStep {
    /// The table does not exist: create it from the model.
    CreateTable,
    /// The table's own key schema differs: only a new table can change it (destructive).
    TableKeyDiffers {
        /// The live key, as `hash` or `hash, range`, with attribute types.
        live: String,
        /// The model's key.
        model: String,
    },
    /// The model has a global index the table lacks.
    CreateIndex {
        /// The index name.
        name: String,
        /// Its keys and projection, for the report.
        definition: String,
    },
    /// The table has a global index the model does not declare (destructive).
    DeleteIndex {
        /// The index name.
        name: String,
    },
    /// A global index whose key schema or projection differs: deleted and created again
    /// (destructive: it is unavailable until rebuilt).
    ReplaceIndex {
        /// The index name.
        name: String,
        /// The live definition.
        live: String,
        /// The model's definition.
        model: String,
    },
    /// A local index differs or is missing: local indexes exist only from the table's
    /// creation, so only a new table can change them (destructive).
    LocalIndexDiffers {
        /// The index name.
        name: String,
    },
    /// The billing mode changes (`PAY_PER_REQUEST` or `PROVISIONED`).
    Billing {
        /// The live mode.
        live: String,
        /// The model's mode.
        model: String,
    },
    /// The provisioned capacity of the table, or of one of its global indexes, changes.
    Throughput {
        /// The index, or `None` for the table.
        index: Option<String>,
        /// The live read and write units.
        live: (i64, i64),
        /// The model's read and write units.
        model: (i64, i64),
    },
    /// The stream changes: its view type, or `None` for no stream.
    Stream {
        /// The live view type.
        live: Option<String>,
        /// The model's view type.
        model: Option<String>,
    },
    /// Time to live changes: the attribute it is enabled on, or `None`.
    TimeToLive {
        /// The live attribute.
        live: Option<String>,
        /// The model's attribute.
        model: Option<String>,
    },
}

impl PlanStep {
    /// Whether the step deletes data or makes it unavailable while it runs (deleting or
    /// rebuilding an index, changing what only a new table can change).
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            PlanStep::TableKeyDiffers { .. }
                | PlanStep::DeleteIndex { .. }
                | PlanStep::ReplaceIndex { .. }
                | PlanStep::LocalIndexDiffers { .. }
        )
    }
}

impl TablePlan {
    /// Whether the table matches the model.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether any step is destructive.
    pub fn is_destructive(&self) -> bool {
        self.steps.iter().any(PlanStep::is_destructive)
    }
}

impl fmt::Display for PlanStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let off = |v: &Option<String>| v.clone().unwrap_or_else(|| "off".to_owned());
        match self {
            PlanStep::CreateTable => f.write_str("+ create the table"),
            PlanStep::TableKeyDiffers { live, model } => {
                write!(f, "! table key is {live}, the model's is {model}: needs a new table")
            }
            PlanStep::CreateIndex { name, definition } => write!(f, "+ create global index `{name}` ({definition})"),
            PlanStep::DeleteIndex { name } => write!(f, "- delete global index `{name}`"),
            PlanStep::ReplaceIndex { name, live, model } => {
                write!(f, "~ replace global index `{name}`: ({live}) -> ({model})")
            }
            PlanStep::LocalIndexDiffers { name } => {
                write!(f, "! local index `{name}` differs: needs a new table")
            }
            PlanStep::Billing { live, model } => write!(f, "~ billing: {live} -> {model}"),
            PlanStep::Throughput { index, live, model } => {
                let of = index.as_ref().map_or("table".to_owned(), |i| format!("index `{i}`"));
                write!(
                    f,
                    "~ {of} capacity: {} read / {} write -> {} read / {} write",
                    live.0, live.1, model.0, model.1
                )
            }
            PlanStep::Stream { live, model } => write!(f, "~ stream: {} -> {}", off(live), off(model)),
            PlanStep::TimeToLive { live, model } => {
                write!(f, "~ time to live: {} -> {}", off(live), off(model))
            }
        }?;
        if self.is_destructive() {
            f.write_str(" [destructive]")?;
        }
        Ok(())
    }
}

impl fmt::Display for TablePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.steps.len() {
            0 => write!(f, "table `{}` matches the model", self.table),
            n => {
                write!(f, "table `{}`: {n} change{}", self.table, if n == 1 { "" } else { "s" })?;
                for step in &self.steps {
                    write!(f, "\n  {step}")?;
                }
                Ok(())
            }
        }
    }
}

/// Compares the live table of a model with the model. Made by `DynaModel::plan_table`.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct PlanTable<'a, M: TableDef> {
    db: &'a Db,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: TableDef> PlanTable<'a, M> {
    pub(crate) fn new(db: &'a Db) -> Self {
        PlanTable {
            db,
            _model: PhantomData,
        }
    }

    /// Sends DescribeTable and DescribeTimeToLive, and compares.
    pub async fn send(self) -> Result<TablePlan> {
        plan(self.db, M::TABLE, self.db.table_name::<M>()).await
    }
}

into_future!(PlanTable, TablePlan, crate::TableDef);

async fn plan(db: &Db, schema: &'static TableSchema, table: String) -> Result<TablePlan> {
    let desired = create_table_input(schema, &table)?;
    let described = db.client().describe_table().table_name(&table).send().await;
    let live = match described {
        Ok(out) => out.table,
        Err(err) => match Error::from_sdk(err, &table) {
            Error::TableNotFound { .. } => None,
            other => return Err(other),
        },
    };
    let Some(live) = live else {
        return Ok(TablePlan {
            table,
            steps: vec![PlanStep::CreateTable],
        });
    };
    let mut steps = compare(&desired, &live);
    // Local does not support every describe call; what the service cannot tell is skipped.
    if let Ok(ttl) = db.client().describe_time_to_live().table_name(&table).send().await {
        let description = ttl.time_to_live_description;
        let enabled = description.as_ref().and_then(|d| {
            let on = matches!(
                d.time_to_live_status,
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            );
            on.then(|| d.attribute_name.clone()).flatten()
        });
        let model = schema.ttl_attribute.map(str::to_owned);
        if enabled != model {
            steps.push(PlanStep::TimeToLive { live: enabled, model });
        }
    }
    Ok(TablePlan { table, steps })
}

/// A key schema with its attribute types: `hash \`a\` S, range \`b\` N`.
fn describe_keys(keys: &[KeySchemaElement], types: &BTreeMap<String, String>) -> String {
    keys.iter()
        .map(|k| {
            let role = if k.key_type.as_str() == "HASH" { "hash" } else { "range" };
            let ty = types.get(k.attribute_name.as_str()).map_or("?", String::as_str);
            format!("{role} `{}` {ty}", k.attribute_name)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_projection(projection: Option<&SdkProjection>) -> String {
    let Some(p) = projection else {
        return "projection ALL".to_owned();
    };
    let kind = p.projection_type.as_ref().map_or("ALL", |t| t.as_str());
    let attrs: BTreeSet<&str> = p.non_key_attributes().iter().map(String::as_str).collect();
    if attrs.is_empty() {
        format!("projection {kind}")
    } else {
        format!("projection {kind} {}", attrs.into_iter().collect::<Vec<_>>().join(", "))
    }
}

fn types(definitions: &[AttributeDefinition]) -> BTreeMap<String, String> {
    definitions
        .iter()
        .map(|d| (d.attribute_name.clone(), d.attribute_type.as_str().to_owned()))
        .collect()
}

fn units(t: Option<&ProvisionedThroughput>) -> Option<(i64, i64)> {
    t.map(|t| (t.read_capacity_units, t.write_capacity_units))
}

fn live_units(t: Option<&ProvisionedThroughputDescription>) -> Option<(i64, i64)> {
    t.map(|t| (t.read_capacity_units.unwrap_or(0), t.write_capacity_units.unwrap_or(0)))
}

fn stream_view(spec: Option<&StreamSpecification>) -> Option<String> {
    spec.filter(|s| s.stream_enabled).map(|s| {
        s.stream_view_type
            .as_ref()
            .map_or("KEYS_ONLY", |v| v.as_str())
            .to_owned()
    })
}

/// The steps from `live` to `desired` (a model's CreateTable input).
fn compare(desired: &CreateTableInput, live: &TableDescription) -> Vec<PlanStep> {
    let mut steps = Vec::new();
    let want_types = types(desired.attribute_definitions());
    let live_types = types(live.attribute_definitions());

    let want_key = describe_keys(desired.key_schema(), &want_types);
    let live_key = describe_keys(live.key_schema(), &live_types);
    if want_key != live_key {
        steps.push(PlanStep::TableKeyDiffers {
            live: live_key,
            model: want_key,
        });
    }

    // Billing and the table's capacity. A table without a billing summary is provisioned;
    // DynamoDB Local reports an on-demand table as provisioned with zero units.
    let want_on_demand = desired.billing_mode() == Some(&BillingMode::PayPerRequest);
    let live_throughput = live_units(live.provisioned_throughput());
    let live_on_demand = match live.billing_mode_summary().and_then(|b| b.billing_mode()) {
        Some(mode) => mode == &BillingMode::PayPerRequest,
        None => live_throughput.is_none_or(|t| t == (0, 0)),
    };
    let mode = |on_demand: bool| if on_demand { "PAY_PER_REQUEST" } else { "PROVISIONED" }.to_owned();
    if want_on_demand != live_on_demand {
        steps.push(PlanStep::Billing {
            live: mode(live_on_demand),
            model: mode(want_on_demand),
        });
    } else if !want_on_demand {
        if let (Some(live), Some(model)) = (live_throughput, units(desired.provisioned_throughput())) {
            if live != model {
                steps.push(PlanStep::Throughput {
                    index: None,
                    live,
                    model,
                });
            }
        }
    }

    // Global indexes: created, deleted, replaced, or their capacity changed.
    let live_gsis: BTreeMap<&str, _> = live
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| Some((i.index_name()?, i)))
        .collect();
    let want_gsis: BTreeMap<&str, _> = desired
        .global_secondary_indexes()
        .iter()
        .map(|i| (i.index_name(), i))
        .collect();
    for (name, want) in &want_gsis {
        let model = format!(
            "{}; {}",
            describe_keys(want.key_schema(), &want_types),
            describe_projection(want.projection())
        );
        match live_gsis.get(name) {
            None => steps.push(PlanStep::CreateIndex {
                name: (*name).to_owned(),
                definition: model,
            }),
            Some(have) => {
                let live_def = format!(
                    "{}; {}",
                    describe_keys(have.key_schema(), &live_types),
                    describe_projection(have.projection())
                );
                if live_def != model {
                    steps.push(PlanStep::ReplaceIndex {
                        name: (*name).to_owned(),
                        live: live_def,
                        model,
                    });
                } else if !want_on_demand {
                    let live = live_units(have.provisioned_throughput());
                    if let (Some(live), Some(model)) = (live, units(want.provisioned_throughput())) {
                        if live != model {
                            steps.push(PlanStep::Throughput {
                                index: Some((*name).to_owned()),
                                live,
                                model,
                            });
                        }
                    }
                }
            }
        }
    }
    for name in live_gsis.keys().filter(|n| !want_gsis.contains_key(*n)) {
        steps.push(PlanStep::DeleteIndex {
            name: (*name).to_owned(),
        });
    }

    // Local indexes can only be compared: they exist from the table's creation.
    let live_lsis: BTreeMap<&str, String> = live
        .local_secondary_indexes()
        .iter()
        .filter_map(|i| {
            let name = i.index_name()?;
            let keys = describe_keys(i.key_schema(), &live_types);
            Some((name, format!("{keys}; {}", describe_projection(i.projection()))))
        })
        .collect();
    let want_lsis: BTreeMap<&str, String> = desired
        .local_secondary_indexes()
        .iter()
        .map(|i| {
            let keys = describe_keys(i.key_schema(), &want_types);
            (
                i.index_name(),
                format!("{keys}; {}", describe_projection(i.projection())),
            )
        })
        .collect();
    let names: BTreeSet<&str> = live_lsis.keys().chain(want_lsis.keys()).copied().collect();
    for name in names {
        if live_lsis.get(name) != want_lsis.get(name) {
            steps.push(PlanStep::LocalIndexDiffers { name: name.to_owned() });
        }
    }

    let want_stream = stream_view(desired.stream_specification());
    let live_stream = stream_view(live.stream_specification());
    if want_stream != live_stream {
        steps.push(PlanStep::Stream {
            live: live_stream,
            model: want_stream,
        });
    }
    steps
}
