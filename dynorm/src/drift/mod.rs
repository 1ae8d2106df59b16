//! Tables as deployed things: what differs between a live table and its model.
//!
//! [`TablePlan`] is the typed difference, made by `DynaModel::plan_table` from
//! DescribeTable and DescribeTimeToLive: the steps that would make the table match the
//! model, each marked destructive where it deletes or rebuilds data. Its `Display` is a
//! short report for a person to review, and it is empty when the table matches.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

use aws_sdk_dynamodb::operation::create_table::CreateTableInput;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, Projection as SdkProjection, ProvisionedThroughput,
    ProvisionedThroughputDescription, StreamSpecification, TableDescription, TimeToLiveStatus,
};

mod apply;
mod ensure;
mod export;

pub use crate::table_plan::{PlanStep, TablePlan};
pub use apply::{ApplyTable, DEFAULT_STEP_TIMEOUT};
pub use ensure::EnsureTable;
pub(crate) use ensure::{prepare, Prepare};
pub use export::cloudformation;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;

use crate::ops::into_future;
use crate::schema::TableSchema;
use crate::table::create_table_input;
use crate::{Db, Error, Result, TableDef};

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

pub(crate) async fn plan(db: &Db, schema: &'static TableSchema, table: String) -> Result<TablePlan> {
    let described = db.client().describe_table().table_name(&table).send().await;
    let live = match described {
        Ok(out) => out.table,
        Err(err) => match Error::from_sdk(err, &table) {
            Error::TableNotFound { .. } => None,
            other => return Err(other),
        },
    };
    plan_with(db, schema, table, live).await
}

/// The plan for a table already described (`None`: it does not exist).
pub(crate) async fn plan_with(
    db: &Db,
    schema: &'static TableSchema,
    table: String,
    live: Option<TableDescription>,
) -> Result<TablePlan> {
    let desired = create_table_input(schema, &table)?;
    let Some(live) = live else {
        return Ok(TablePlan {
            table,
            steps: vec![PlanStep::CreateTable],
        });
    };
    let mut steps = compare(&desired, &live);
    compare_options(db, schema, &live, &mut steps).await?;
    // Local does not support every describe call; what the service cannot tell is skipped.
    if let Ok(ttl) = db.client().describe_time_to_live().table_name(&table).send().await {
        let description = ttl.time_to_live_description;
        let enabled = description.as_ref().and_then(|d| {
            // DISABLING is still in effect until DynamoDB finishes it.
            let on = matches!(
                d.time_to_live_status,
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling | TimeToLiveStatus::Disabling)
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

/// The table options: deletion protection, class and encryption from the description;
/// tags and point-in-time recovery from their own calls, skipped where the service
/// does not support them (DynamoDB Local).
async fn compare_options(
    db: &Db,
    schema: &TableSchema,
    live: &TableDescription,
    steps: &mut Vec<PlanStep>,
) -> Result<()> {
    use crate::schema::{Encryption, TableClass};
    let options = &schema.options;
    // An option the model does not declare is not managed: the table keeps its own.
    let live_protection = live.deletion_protection_enabled().unwrap_or(false);
    if let Some(model) = options.deletion_protection.filter(|m| *m != live_protection) {
        steps.push(PlanStep::DeletionProtection {
            live: live_protection,
            model,
        });
    }
    let live_class = live
        .table_class_summary()
        .and_then(|c| c.table_class())
        .map_or("STANDARD", |c| c.as_str())
        .to_owned();
    let model_class = options.table_class.map(TableClass::as_str);
    if let Some(model_class) = model_class.filter(|m| *m != live_class) {
        steps.push(PlanStep::TableClass {
            live: live_class,
            model: model_class.to_owned(),
        });
    }
    let sse_changing = live
        .sse_description()
        .is_some_and(|d| matches!(d.status(), Some(aws_sdk_dynamodb::types::SseStatus::Updating)));
    let live_kms = live.sse_description().is_some_and(|d| {
        matches!(
            d.status(),
            Some(aws_sdk_dynamodb::types::SseStatus::Enabled | aws_sdk_dynamodb::types::SseStatus::Enabling)
        ) && d.sse_type() == Some(&aws_sdk_dynamodb::types::SseType::Kms)
    });
    let live_key = live.sse_description().and_then(|d| d.kms_master_key_arn());
    let (model_kms, model_key) = match options.encryption {
        None | Some(Encryption::Owned) => (false, None),
        Some(Encryption::AwsManaged) => (true, None),
        Some(Encryption::CustomerKey(key)) => (true, Some(key)),
    };
    // A key named by ARN is compared; an alias or ID cannot be told from the ARN.
    let key_differs = matches!((model_key, live_key), (Some(m), Some(l)) if m.starts_with("arn:") && m != l);
    if options.encryption.is_some() && !sse_changing && (live_kms != model_kms || key_differs) {
        let describe = |kms: bool, key: Option<&str>| match (kms, key) {
            (false, _) => "owned".to_owned(),
            (true, None) => "kms".to_owned(),
            (true, Some(key)) => format!("kms {key}"),
        };
        steps.push(PlanStep::Encryption {
            live: describe(live_kms, live_key),
            model: describe(model_kms, model_key),
        });
    }
    if let (false, Some(arn)) = (options.tags.is_empty(), live.table_arn()) {
        // Every page of the table's tags; a service that cannot list them (DynamoDB
        // Local, a role without `ListTagsOfResource`) leaves them unchecked.
        let mut have: BTreeMap<String, String> = BTreeMap::new();
        let mut token: Option<String> = None;
        let mut listed = true;
        loop {
            match db
                .client()
                .list_tags_of_resource()
                .resource_arn(arn)
                .set_next_token(token.take())
                .send()
                .await
            {
                Ok(out) => {
                    have.extend(out.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())));
                    match out.next_token {
                        Some(next) => token = Some(next),
                        None => break,
                    }
                }
                Err(e) => {
                    if !crate::table::unsupported(e.as_service_error().and_then(|s| s.code())) {
                        tracing::debug!(table = live.table_name().unwrap_or_default(), error = %e, "dynorm: tags not listed");
                    }
                    listed = false;
                    break;
                }
            }
        }
        let set: Vec<(String, String)> = options
            .tags
            .iter()
            .filter(|(k, v)| have.get(*k).map(String::as_str) != Some(*v))
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if listed && !set.is_empty() {
            steps.push(PlanStep::Tags { set });
        }
    }
    let table = live.table_name().unwrap_or_default();
    let Some(model_pitr) = options.point_in_time_recovery else {
        return Ok(());
    };
    match db.client().describe_continuous_backups().table_name(table).send().await {
        Ok(out) => {
            let on = out
                .continuous_backups_description()
                .and_then(|d| d.point_in_time_recovery_description())
                .and_then(|p| p.point_in_time_recovery_status())
                == Some(&aws_sdk_dynamodb::types::PointInTimeRecoveryStatus::Enabled);
            if on != model_pitr {
                steps.push(PlanStep::PointInTimeRecovery {
                    live: on,
                    model: model_pitr,
                });
            }
        }
        Err(e) if crate::table::unsupported(e.as_service_error().and_then(|s| s.code())) => {}
        // Not every error means the service lacks the call; only a plan that could be
        // made is reported, so a failure here leaves the option unchecked.
        Err(e) => {
            tracing::debug!(table, error = %e, "dynorm: continuous backups not described");
        }
    }
    Ok(())
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

    let want_on_demand = desired.billing_mode() == Some(&BillingMode::PayPerRequest);
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

    // Billing and the table's capacity, after the indexes: switching to provisioned
    // gives every index that is then live its capacity.
    // A table without a billing summary is provisioned;
    // DynamoDB Local reports an on-demand table as provisioned with zero units.
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
