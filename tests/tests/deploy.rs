//! The schema for infrastructure code: the CloudFormation resource of a table, checked
//! against what `create_table` sends (and what DynamoDB Local creates from it), and the
//! least-privilege IAM policy of a service's models.

#[path = "../../examples/single_table/model.rs"]
#[allow(dead_code)]
mod model;

use dynorm::iam::Policy;
use dynorm::{Db, DynaModel, DynaTable};
use dynorm_tests::db;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(
    name = "orders",
    hash_key = "customer",
    range_key = "placed",
    read = 5,
    write = 3,
    stream = "new_and_old_images"
)]
#[global_index(
    name = "by-status",
    hash_key = "status",
    range_key = "placed",
    projection = "include(total)",
    read = 2,
    write = 1
)]
#[local_index(name = "by-total", range_key = "total", projection = "keys_only")]
struct Order {
    customer: String,
    placed: u64,
    status: String,
    total: i64,
    #[dynorm(ttl)]
    expires: Option<u64>,
}

/// The CloudFormation resource and the CreateTable input describe the same table.
fn assert_same_table(resource: &Value, input: &aws_sdk_dynamodb::operation::create_table::CreateTableInput) {
    assert_eq!(resource["Type"], "AWS::DynamoDB::Table");
    let props = &resource["Properties"];
    assert_eq!(props["TableName"], json!(input.table_name()));
    let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Value {
        schema
            .iter()
            .map(|k| json!({ "AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str() }))
            .collect()
    };
    assert_eq!(props["KeySchema"], keys(input.key_schema()));
    let definitions: Value = input
        .attribute_definitions()
        .iter()
        .map(|d| json!({ "AttributeName": d.attribute_name(), "AttributeType": d.attribute_type().as_str() }))
        .collect();
    assert_eq!(props["AttributeDefinitions"], definitions);
    assert_eq!(props["BillingMode"], json!(input.billing_mode().map(|b| b.as_str())));
    let gsis = props["GlobalSecondaryIndexes"].as_array().cloned().unwrap_or_default();
    assert_eq!(gsis.len(), input.global_secondary_indexes().len());
    for (exported, sent) in gsis.iter().zip(input.global_secondary_indexes()) {
        assert_eq!(exported["IndexName"], json!(sent.index_name()));
        assert_eq!(exported["KeySchema"], keys(sent.key_schema()));
        assert_eq!(
            exported["Projection"]["ProjectionType"],
            json!(sent.projection().and_then(|p| p.projection_type()).map(|t| t.as_str()))
        );
    }
    let lsis = props["LocalSecondaryIndexes"].as_array().cloned().unwrap_or_default();
    assert_eq!(lsis.len(), input.local_secondary_indexes().len());
    assert_eq!(
        props["StreamSpecification"]["StreamViewType"].as_str(),
        input
            .stream_specification()
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str())
    );
}

#[tokio::test]
async fn the_cloudformation_resource_is_what_create_table_sends() {
    let db = db("deploy_cfn");
    let resource = Order::cloudformation(&db).unwrap();
    let input = Order::create_table(&db).to_input().unwrap();
    assert_same_table(&resource, &input);
    let props = &resource["Properties"];
    assert_eq!(
        props["ProvisionedThroughput"],
        json!({ "ReadCapacityUnits": 5, "WriteCapacityUnits": 3 })
    );
    assert_eq!(
        props["GlobalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"],
        json!(["total"])
    );
    assert_eq!(
        props["LocalSecondaryIndexes"][0]["Projection"]["ProjectionType"],
        "KEYS_ONLY"
    );
    assert_eq!(
        props["TimeToLiveSpecification"],
        json!({ "AttributeName": "expires", "Enabled": true })
    );

    // A single-table declaration exports every index its entities use.
    let saas = model::Saas::cloudformation(&db).unwrap();
    assert_same_table(&saas, &model::Saas::create_table(&db).to_input().unwrap());
    let names: Vec<&str> = saas["Properties"]["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["IndexName"].as_str())
        .collect();
    assert_eq!(names, ["gsi1", "gsi2"]);
    // The same table from one of its entities.
    assert_eq!(model::User::cloudformation(&db).unwrap(), saas);

    // And the table DynamoDB creates from it matches the model.
    Order::create_table(&db).await.unwrap();
    assert!(Order::plan_table(&db).await.unwrap().is_empty());
}

fn actions(statement: &Value) -> Vec<&str> {
    statement["Action"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn the_policy_grants_what_the_service_uses_on_its_tables_only() {
    let db = Db::offline().with_table_prefix("prod-");
    let policy = Policy::new(&db, "eu-west-1", "123456789012")
        .read_write::<model::Org>()
        .read_write::<model::User>()
        .read::<Order>()
        .streams::<Order>()
        .manage_tables::<model::Saas>()
        .to_json();
    assert_eq!(policy["Version"], "2012-10-17");
    let statements = policy["Statement"].as_array().unwrap();
    let table = "arn:aws:dynamodb:eu-west-1:123456789012:table";
    // Orders: reads on the table and its indexes, and its stream.
    let orders = &statements[0];
    assert_eq!(
        actions(orders),
        [
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:ConditionCheckItem"
        ]
    );
    assert_eq!(
        orders["Resource"],
        json!([format!("{table}/prod-orders"), format!("{table}/prod-orders/index/*")])
    );
    assert_eq!(
        statements[1]["Resource"],
        json!([format!("{table}/prod-orders/stream/*")])
    );
    // The single table: every entity's writes merge into one statement, plus management.
    let saas = &statements[2];
    assert!(actions(saas).contains(&"dynamodb:PutItem") && actions(saas).contains(&"dynamodb:BatchWriteItem"));
    assert!(!actions(saas).contains(&"dynamodb:DeleteTable"));
    assert_eq!(saas["Resource"][0], format!("{table}/prod-saas"));
    assert!(actions(&statements[3]).contains(&"dynamodb:CreateTable"));
    assert_eq!(statements[3]["Resource"], json!([format!("{table}/prod-saas")]));
    assert_eq!(statements.last().unwrap()["Action"], json!(["dynamodb:ListStreams"]));
    // No wildcard action anywhere.
    assert!(statements.iter().all(|s| actions(s).iter().all(|a| !a.contains('*'))));
}

#[test]
fn a_tenant_policy_is_scoped_by_leading_keys_and_leaves_scans_out() {
    let db = Db::offline();
    let policy = Policy::new(&db, "us-east-1", "111122223333")
        .read_write::<model::Invoice>()
        .leading_keys::<model::Invoice>(["ORG#acme"])
        .to_json();
    let statement = &policy["Statement"][0];
    assert_eq!(
        statement["Condition"],
        json!({ "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["ORG#acme"] } })
    );
    assert!(!actions(statement).contains(&"dynamodb:Scan"));
    assert!(actions(statement).contains(&"dynamodb:Query"));
    let text = Policy::new(&db, "us-east-1", "111122223333")
        .read::<Order>()
        .to_string();
    assert!(text.contains("\"dynamodb:GetItem\""));
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(
    name = "ledger",
    hash_key = "id",
    deletion_protection,
    table_class = "standard_infrequent_access",
    encryption = "kms",
    kms_key = "alias/ledger",
    tags(team = "payments", env = "prod"),
    point_in_time_recovery
)]
struct Ledger {
    id: String,
}

#[test]
fn table_options_are_sent_with_the_table() {
    let db = Db::offline();
    let input = Ledger::create_table(&db).to_input().unwrap();
    assert_eq!(input.deletion_protection_enabled(), Some(true));
    assert_eq!(
        input.table_class().map(|c| c.as_str()),
        Some("STANDARD_INFREQUENT_ACCESS")
    );
    let sse = input.sse_specification().unwrap();
    assert_eq!(sse.kms_master_key_id(), Some("alias/ledger"));
    let tags: Vec<(&str, &str)> = input.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("team", "payments"), ("env", "prod")]);
    assert_eq!(
        <Ledger as DynaModel>::schema().options.point_in_time_recovery,
        Some(true)
    );
    let props = Ledger::cloudformation(&db).unwrap()["Properties"].clone();
    assert_eq!(props["DeletionProtectionEnabled"], json!(true));
    assert_eq!(props["TableClass"], "STANDARD_INFREQUENT_ACCESS");
    assert_eq!(
        props["SSESpecification"],
        json!({ "SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": "alias/ledger" })
    );
    assert_eq!(
        props["Tags"],
        json!([{ "Key": "team", "Value": "payments" }, { "Key": "env", "Value": "prod" }])
    );
    assert_eq!(
        props["PointInTimeRecoverySpecification"],
        json!({ "PointInTimeRecoveryEnabled": true })
    );
}

#[tokio::test]
async fn tags_and_point_in_time_recovery_are_planned_where_the_service_tells_them() {
    use aws_sdk_dynamodb::operation::describe_continuous_backups::DescribeContinuousBackupsOutput;
    use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
    use aws_sdk_dynamodb::operation::describe_time_to_live::DescribeTimeToLiveOutput;
    use aws_sdk_dynamodb::operation::list_tags_of_resource::ListTagsOfResourceOutput;
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, BillingModeSummary, ContinuousBackupsDescription, ContinuousBackupsStatus,
        KeySchemaElement, KeyType, PointInTimeRecoveryDescription, PointInTimeRecoveryStatus, ScalarAttributeType,
        SseDescription, SseStatus, SseType, TableClass, TableClassSummary, TableDescription, TableStatus, Tag,
    };
    use aws_sdk_dynamodb::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    let describe = mock!(Client::describe_table).then_output(|| {
        DescribeTableOutput::builder()
            .table(
                TableDescription::builder()
                    .table_name("ledger")
                    .table_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/ledger")
                    .table_status(TableStatus::Active)
                    .key_schema(
                        KeySchemaElement::builder()
                            .attribute_name("id")
                            .key_type(KeyType::Hash)
                            .build()
                            .unwrap(),
                    )
                    .attribute_definitions(
                        AttributeDefinition::builder()
                            .attribute_name("id")
                            .attribute_type(ScalarAttributeType::S)
                            .build()
                            .unwrap(),
                    )
                    .billing_mode_summary(
                        BillingModeSummary::builder()
                            .billing_mode(BillingMode::PayPerRequest)
                            .build(),
                    )
                    .deletion_protection_enabled(true)
                    .table_class_summary(
                        TableClassSummary::builder()
                            .table_class(TableClass::StandardInfrequentAccess)
                            .build(),
                    )
                    .sse_description(
                        SseDescription::builder()
                            .status(SseStatus::Enabled)
                            .sse_type(SseType::Kms)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let ttl = mock!(Client::describe_time_to_live).then_output(|| DescribeTimeToLiveOutput::builder().build());
    let tags = mock!(Client::list_tags_of_resource).then_output(|| {
        ListTagsOfResourceOutput::builder()
            .tags(Tag::builder().key("team").value("payments").build().unwrap())
            .tags(Tag::builder().key("owner").value("ops").build().unwrap())
            .build()
    });
    let backups = mock!(Client::describe_continuous_backups).then_output(|| {
        DescribeContinuousBackupsOutput::builder()
            .continuous_backups_description(
                ContinuousBackupsDescription::builder()
                    .continuous_backups_status(ContinuousBackupsStatus::Enabled)
                    .point_in_time_recovery_description(
                        PointInTimeRecoveryDescription::builder()
                            .point_in_time_recovery_status(PointInTimeRecoveryStatus::Disabled)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&describe, &ttl, &tags, &backups]);
    let db = Db::from_client(client);
    let plan = Ledger::plan_table(&db).await.unwrap();
    assert_eq!(
        plan.steps,
        [
            dynorm::PlanStep::Tags {
                set: vec![("env".into(), "prod".into())]
            },
            dynorm::PlanStep::PointInTimeRecovery {
                live: false,
                model: true
            },
        ],
        "{plan}"
    );
    assert!(!plan.is_destructive());
}
