//! The model of the single-table example: a SaaS whose organisations have users,
//! projects and invoices, all in one table with two overloaded indexes.
//!
//! | entity  | pk               | sk                                | gsi1pk            | gsi1sk                           | gsi2pk           | gsi2sk                 |
//! |---------|------------------|-----------------------------------|-------------------|----------------------------------|------------------|------------------------|
//! | Org     | `ORG#{org_id}`   | `ORG`                             | `ORGS`            | `ORG#{name}`                     |                  |                        |
//! | User    | `ORG#{org_id}`   | `USER#{user_id}`                  | `EMAIL#{email}`   | `USER`                           |                  |                        |
//! | Project | `ORG#{org_id}`   | `PROJECT#{project_id}`            |                   |                                  | `OWNER#{owner}`  | `PROJECT#{project_id}` |
//! | Invoice | `ORG#{org_id}`   | `INVOICE#{year}#{month}#{number}` | `STATUS#{status}` | `{year}#{month}#{org_id}#{number}` |                  |                        |
//!
//! A project without an owner (archived) is not in `gsi2`: the index is sparse.

use dynorm::{Collection, DynaModel, DynaTable};
use serde::{Deserialize, Serialize};
use validator::Validate;

/// The one table.
#[derive(DynaTable)]
#[table(name = "saas", hash_key = "pk", range_key = "sk")]
#[global_index(name = "gsi1", hash_key = "gsi1pk", range_key = "gsi1sk")]
#[global_index(name = "gsi2", hash_key = "gsi2pk", range_key = "gsi2sk")]
pub struct Saas {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    pub gsi2pk: String,
    pub gsi2sk: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "org", pk = "ORG#{org_id}", sk = "ORG")]
#[entity_index(name = "gsi1", pk = "ORGS", sk = "ORG#{name}")]
pub struct Org {
    pub org_id: String,
    #[validate(length(min = 1))]
    pub name: String,
    pub plan: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "user", pk = "ORG#{org_id}", sk = "USER#{user_id}")]
#[entity_index(name = "gsi1", pk = "EMAIL#{email}", sk = "USER")]
pub struct User {
    pub org_id: String,
    pub user_id: String,
    #[validate(email)]
    pub email: String,
    pub role: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "project", pk = "ORG#{org_id}", sk = "PROJECT#{project_id}")]
#[entity_index(name = "gsi2", pk = "OWNER#{owner}", sk = "PROJECT#{project_id}")]
pub struct Project {
    pub org_id: String,
    pub project_id: String,
    pub title: String,
    /// The owning user; `None` once the project is archived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "invoice", pk = "ORG#{org_id}", sk = "INVOICE#{year}#{month}#{number}")]
#[entity_index(name = "gsi1", pk = "STATUS#{status}", sk = "{year}#{month}#{org_id}#{number}")]
pub struct Invoice {
    pub org_id: String,
    pub year: u16,
    pub month: u8,
    pub number: u32,
    pub status: String,
    pub total_cents: i64,
    #[dynorm(version)]
    #[serde(default)]
    pub version: u32,
}

/// Everything in an organisation's partition, read by one query.
#[derive(Collection, Debug, Clone, PartialEq)]
pub enum OrgItem {
    Org(Org),
    User(User),
    Project(Project),
    Invoice(Invoice),
}
