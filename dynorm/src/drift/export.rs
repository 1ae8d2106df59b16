//! The table as infrastructure code describes it: an `AWS::DynamoDB::Table` resource for
//! CloudFormation (and the CDK's `CfnTable`, or a Terraform translation), made from the
//! same `CreateTable` input that `create_table` sends, so the two cannot disagree.

use aws_sdk_dynamodb::operation::create_table::CreateTableInput;
use aws_sdk_dynamodb::types::{KeySchemaElement, Projection, ProvisionedThroughput};
use serde_json::{json, Map, Value};

use crate::schema::TableSchema;
use crate::table::create_table_input;
use crate::Result;

/// The `AWS::DynamoDB::Table` resource of a table: `Type` and `Properties`, with the
/// table's name, keys, attribute definitions, billing, indexes, stream and time to live
/// exactly as `create_table` would create them.
pub fn cloudformation(schema: &TableSchema, table_name: &str) -> Result<Value> {
    let input = create_table_input(schema, table_name)?;
    let mut resource = resource(&input, schema.ttl_attribute);
    if let Some(enabled) = schema.options.point_in_time_recovery {
        resource["Properties"]["PointInTimeRecoverySpecification"] = json!({ "PointInTimeRecoveryEnabled": enabled });
    }
    Ok(resource)
}

fn keys(schema: &[KeySchemaElement]) -> Value {
    Value::Array(
        schema
            .iter()
            .map(|k| json!({ "AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str() }))
            .collect(),
    )
}

fn projection(p: Option<&Projection>) -> Value {
    let mut out = Map::new();
    if let Some(p) = p {
        if let Some(kind) = p.projection_type() {
            out.insert("ProjectionType".into(), json!(kind.as_str()));
        }
        if !p.non_key_attributes().is_empty() {
            out.insert("NonKeyAttributes".into(), json!(p.non_key_attributes()));
        }
    }
    Value::Object(out)
}

fn throughput(t: &ProvisionedThroughput) -> Value {
    json!({ "ReadCapacityUnits": t.read_capacity_units(), "WriteCapacityUnits": t.write_capacity_units() })
}

fn resource(input: &CreateTableInput, ttl: Option<&str>) -> Value {
    let mut props = Map::new();
    props.insert("TableName".into(), json!(input.table_name()));
    props.insert(
        "AttributeDefinitions".into(),
        Value::Array(
            input
                .attribute_definitions()
                .iter()
                .map(|d| json!({ "AttributeName": d.attribute_name(), "AttributeType": d.attribute_type().as_str() }))
                .collect(),
        ),
    );
    props.insert("KeySchema".into(), keys(input.key_schema()));
    if let Some(mode) = input.billing_mode() {
        props.insert("BillingMode".into(), json!(mode.as_str()));
    }
    if let Some(t) = input.provisioned_throughput() {
        props.insert("ProvisionedThroughput".into(), throughput(t));
    }
    if !input.global_secondary_indexes().is_empty() {
        let gsis = input
            .global_secondary_indexes()
            .iter()
            .map(|g| {
                let mut index = Map::new();
                index.insert("IndexName".into(), json!(g.index_name()));
                index.insert("KeySchema".into(), keys(g.key_schema()));
                index.insert("Projection".into(), projection(g.projection()));
                if let Some(t) = g.provisioned_throughput() {
                    index.insert("ProvisionedThroughput".into(), throughput(t));
                }
                Value::Object(index)
            })
            .collect();
        props.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
    }
    if !input.local_secondary_indexes().is_empty() {
        let lsis = input
            .local_secondary_indexes()
            .iter()
            .map(|l| {
                json!({
                    "IndexName": l.index_name(),
                    "KeySchema": keys(l.key_schema()),
                    "Projection": projection(l.projection()),
                })
            })
            .collect();
        props.insert("LocalSecondaryIndexes".into(), Value::Array(lsis));
    }
    if let Some(stream) = input.stream_specification() {
        if let Some(view) = stream.stream_view_type() {
            props.insert("StreamSpecification".into(), json!({ "StreamViewType": view.as_str() }));
        }
    }
    if let Some(true) = input.deletion_protection_enabled() {
        props.insert("DeletionProtectionEnabled".into(), json!(true));
    }
    if let Some(class) = input.table_class() {
        props.insert("TableClass".into(), json!(class.as_str()));
    }
    if let Some(sse) = input.sse_specification() {
        let mut spec = Map::new();
        spec.insert("SSEEnabled".into(), json!(sse.enabled().unwrap_or(false)));
        if let Some(kind) = sse.sse_type() {
            spec.insert("SSEType".into(), json!(kind.as_str()));
        }
        if let Some(key) = sse.kms_master_key_id() {
            spec.insert("KMSMasterKeyId".into(), json!(key));
        }
        props.insert("SSESpecification".into(), Value::Object(spec));
    }
    if !input.tags().is_empty() {
        let tags = input
            .tags()
            .iter()
            .map(|t| json!({ "Key": t.key(), "Value": t.value() }))
            .collect();
        props.insert("Tags".into(), Value::Array(tags));
    }
    if let Some(attribute) = ttl {
        props.insert(
            "TimeToLiveSpecification".into(),
            json!({ "AttributeName": attribute, "Enabled": true }),
        );
    }
    json!({ "Type": "AWS::DynamoDB::Table", "Properties": Value::Object(props) })
}
