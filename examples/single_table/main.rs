//! Single-table design: a SaaS whose organisations, users, projects and invoices share
//! one table (see `model.rs` for the key layout), and its access patterns (`access.rs`),
//! each served by one request.
//!
//! | # | access pattern | request |
//! |---|---|---|
//! | 1 | an organisation by id | GetItem |
//! | 2 | a user by organisation and id | GetItem |
//! | 3 | a user by email | Query `gsi1` |
//! | 4 | an organisation's users | Query, `begins_with(sk)` |
//! | 5 | an organisation with all its items | Query (a collection) |
//! | 6 | an organisation's invoices of a month | Query, sort key prefix |
//! | 7 | an organisation's invoices of a quarter | Query, `sk BETWEEN` |
//! | 8 | open invoices of a year, newest first | Query `gsi1`, reversed |
//! | 9 | the projects a user owns | Query `gsi2` (sparse) |
//! | 10 | every organisation by name | Query `gsi1` |
//! | 11 | mark an invoice paid (moves it in `gsi1`) | UpdateItem |
//! | 12 | sign up an organisation and its admin | TransactWriteItems |
//!
//! Run it with `scripts/demo`, which starts DynamoDB Local; pointed elsewhere it uses
//! `DYNAMODB_ENDPOINT`. Its table gets a per-run prefix and is deleted at the end.

use std::error::Error;

mod access;
mod model;

use dynorm::{Db, DynaTable};
use model::{Invoice, Org, OrgItem, Project, Saas, User};

async fn seed(db: &Db) -> dynorm::Result<()> {
    let orgs = [("acme", "Acme Corp", "pro"), ("globex", "Globex", "free")];
    for (org_id, name, plan) in orgs {
        let org = Org {
            org_id: org_id.into(),
            name: name.into(),
            plan: plan.into(),
        };
        let admin = User {
            org_id: org_id.into(),
            user_id: "admin".into(),
            email: format!("admin@{org_id}.test"),
            role: "admin".into(),
        };
        access::sign_up(db, &org, &admin).await?;
    }
    let users = [
        ("acme", "ada", "member"),
        ("acme", "grace", "member"),
        ("globex", "linus", "member"),
    ]
    .map(|(org_id, user_id, role)| User {
        org_id: org_id.into(),
        user_id: user_id.into(),
        email: format!("{user_id}@{org_id}.test"),
        role: role.into(),
    });
    let projects = [
        ("acme", "rocket", "Rocket skates", Some("ada")),
        ("acme", "anvil", "Portable anvil", Some("ada")),
        ("acme", "magnet", "Giant magnet", None),
        ("globex", "dome", "Volcano dome", Some("linus")),
    ]
    .map(|(org_id, project_id, title, owner)| Project {
        org_id: org_id.into(),
        project_id: project_id.into(),
        title: title.into(),
        owner: owner.map(Into::into),
    });
    let mut invoices = Vec::new();
    for (n, (org_id, year, month, status)) in [
        ("acme", 2026, 9, "paid"),
        ("acme", 2026, 10, "open"),
        ("acme", 2026, 11, "open"),
        ("acme", 2026, 11, "open"),
        ("globex", 2025, 12, "open"),
        ("globex", 2026, 11, "open"),
    ]
    .into_iter()
    .enumerate()
    {
        invoices.push(Invoice {
            org_id: org_id.into(),
            year,
            month,
            number: n as u32 + 1,
            status: status.into(),
            total_cents: 10_000 * (n as i64 + 1),
            version: 0,
        });
    }
    db.batch_write()
        .put_all(&users)
        .put_all(&projects)
        .put_all(&invoices)
        .await?;
    Ok(())
}

fn invoice_line(i: &Invoice) -> String {
    format!(
        "{}/{:02} #{} of {} ({}, {:.2})",
        i.year,
        i.month,
        i.number,
        i.org_id,
        i.status,
        i.total_cents as f64 / 100.0
    )
}

async fn report(db: &Db) -> Result<(), Box<dyn Error>> {
    let org = access::org(db, "acme").await?.ok_or("no acme")?;
    println!(" 1. org acme: {} ({} plan)", org.name, org.plan);
    let ada = access::user(db, "acme", "ada").await?.ok_or("no ada")?;
    println!(" 2. user acme/ada: {} ({})", ada.email, ada.role);
    let by_email = access::user_by_email(db, "linus@globex.test")
        .await?
        .ok_or("no linus")?;
    println!(
        " 3. user by email linus@globex.test: {}/{}",
        by_email.org_id, by_email.user_id
    );
    let users: Vec<String> = access::users_of(db, "acme")
        .await?
        .into_iter()
        .map(|u| u.user_id)
        .collect();
    println!(" 4. users of acme: {}", users.join(", "));
    let items = access::everything_of(db, "acme").await?;
    let kinds: Vec<&str> = items
        .iter()
        .map(|i| match i {
            OrgItem::Org(_) => "org",
            OrgItem::User(_) => "user",
            OrgItem::Project(_) => "project",
            OrgItem::Invoice(_) => "invoice",
        })
        .collect();
    println!(
        " 5. everything of acme in one query ({} items): {}",
        items.len(),
        kinds.join(", ")
    );
    let november: Vec<String> = access::invoices_of_month(db, "acme", 2026, 11)
        .await?
        .iter()
        .map(invoice_line)
        .collect();
    println!(" 6. acme's invoices of 2026/11: {}", november.join("; "));
    let q4: Vec<String> = access::invoices_of_quarter(db, "acme", 2026, 4)
        .await?
        .iter()
        .map(invoice_line)
        .collect();
    println!(" 7. acme's invoices of 2026 Q4: {}", q4.join("; "));
    let open: Vec<String> = access::open_invoices(db, 2026)
        .await?
        .iter()
        .map(invoice_line)
        .collect();
    println!(" 8. open invoices of 2026, newest first: {}", open.join("; "));
    let owned: Vec<String> = access::projects_owned_by(db, "ada")
        .await?
        .into_iter()
        .map(|p| p.title)
        .collect();
    println!(" 9. projects ada owns: {}", owned.join(", "));
    let names: Vec<String> = access::orgs_by_name(db).await?.into_iter().map(|o| o.name).collect();
    println!("10. organisations by name: {}", names.join(", "));
    access::mark_paid(db, "acme", 2026, 10, 2).await?;
    let open: Vec<String> = access::open_invoices(db, 2026)
        .await?
        .iter()
        .map(invoice_line)
        .collect();
    println!("11. after paying acme's #2, open invoices of 2026: {}", open.join("; "));
    let again = access::sign_up(db, &org, &ada).await;
    println!(
        "12. signing up acme again: {}",
        match again {
            Err(dynorm::Error::TransactionCanceled { .. }) => "refused, it exists".to_owned(),
            other => format!("{other:?}"),
        }
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").ok();
    let base = match &endpoint {
        Some(endpoint) => Db::local(endpoint),
        None => Db::from_env().await,
    };
    let db = base.with_table_prefix(format!("single-table-{}-", std::process::id()));
    println!("== single-table design: one table, four entities, twelve access patterns");
    Saas::create_table(&db).await?;
    let result = async {
        seed(&db).await?;
        report(&db).await
    }
    .await;
    Saas::delete_table(&db).await?;
    result
}
