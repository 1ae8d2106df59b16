//! The access patterns of the single-table example, each one request.

use dynorm::{Db, DynaModel, Result};

use crate::model::{Invoice, Org, OrgItem, Project, User};

/// Pattern 1: An organisation by id: GetItem.
pub async fn org(db: &Db, org_id: &str) -> Result<Option<Org>> {
    Org::get(db, org_id).await
}

/// Pattern 2: A user by organisation and id: GetItem.
pub async fn user(db: &Db, org_id: &str, user_id: &str) -> Result<Option<User>> {
    User::get(db, (org_id, user_id)).await
}

/// Pattern 3: A user by email, across organisations: Query on `gsi1`.
pub async fn user_by_email(db: &Db, email: &str) -> Result<Option<User>> {
    Ok(User::gsi1().query(db, email).collect_all().await?.into_iter().next())
}

/// Pattern 4: An organisation's users: Query of its partition, `begins_with(sk, "USER#")`.
pub async fn users_of(db: &Db, org_id: &str) -> Result<Vec<User>> {
    User::query(db, org_id).recursive().collect_all().await
}

/// Pattern 5: An organisation with its users, projects and invoices: one Query of its partition.
pub async fn everything_of(db: &Db, org_id: &str) -> Result<Vec<OrgItem>> {
    OrgItem::query(db, org_id).recursive().collect_all().await
}

/// Pattern 6: An organisation's invoices of a month: Query, `begins_with(sk, "INVOICE#02026#011#")`.
pub async fn invoices_of_month(db: &Db, org_id: &str, year: u16, month: u8) -> Result<Vec<Invoice>> {
    Invoice::query(db, org_id)
        .sort_prefix((year, month))
        .collect_all()
        .await
}

/// Pattern 7: An organisation's invoices of a quarter: Query, `sk BETWEEN`.
pub async fn invoices_of_quarter(db: &Db, org_id: &str, year: u16, quarter: u8) -> Result<Vec<Invoice>> {
    let first = (quarter - 1) * 3 + 1;
    Invoice::query(db, org_id)
        .sort_between((year, first), (year, first + 2))
        .collect_all()
        .await
}

/// Pattern 8: Every open invoice of a year, across organisations, newest first: Query on `gsi1`.
pub async fn open_invoices(db: &Db, year: u16) -> Result<Vec<Invoice>> {
    Invoice::gsi1()
        .query(db, "open")
        .sort_prefix((year,))
        .reverse()
        .recursive()
        .collect_all()
        .await
}

/// Pattern 9: The projects a user owns (archived ones have no owner): Query on the sparse `gsi2`.
pub async fn projects_owned_by(db: &Db, user_id: &str) -> Result<Vec<Project>> {
    Project::gsi2().query(db, user_id).collect_all().await
}

/// Pattern 10: Every organisation, by name: Query on `gsi1` (`gsi1pk = "ORGS"`).
pub async fn orgs_by_name(db: &Db) -> Result<Vec<Org>> {
    Org::gsi1().query(db, ()).recursive().collect_all().await
}

/// Pattern 11: Mark an invoice paid: one UpdateItem, which also moves it from `STATUS#open` to
/// `STATUS#paid` in `gsi1`.
pub async fn mark_paid(db: &Db, org_id: &str, year: u16, month: u8, number: u32) -> Result<()> {
    Invoice::update_by_key(db, (org_id, year, month, number))
        .set(Invoice::fields().status(), "paid")
        .await?;
    Ok(())
}

/// Pattern 12: Sign up: an organisation and its first user, in one transaction (neither exists
/// before).
pub async fn sign_up(db: &Db, org: &Org, admin: &User) -> Result<()> {
    db.transact_write()
        .write(org.put_unique(db))
        .write(admin.put_unique(db))
        .await
}
