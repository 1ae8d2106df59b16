//! Every access pattern of `examples/single_table` against DynamoDB Local, each checked
//! for its result and for sending exactly one request.

#[path = "../../examples/single_table/access.rs"]
mod access;
#[path = "../../examples/single_table/model.rs"]
#[allow(dead_code)]
mod model;

use dynorm::{Db, DynaModel, DynaTable, Error};
use dynorm_tests::{logged_db, RequestLog};
use model::{Invoice, Org, OrgItem, Project, Saas, User};

fn org(id: &str, name: &str) -> Org {
    Org {
        org_id: id.into(),
        name: name.into(),
        plan: "pro".into(),
    }
}

fn user(org_id: &str, user_id: &str) -> User {
    User {
        org_id: org_id.into(),
        user_id: user_id.into(),
        email: format!("{user_id}@{org_id}.test"),
        role: "member".into(),
    }
}

fn invoice(org_id: &str, year: u16, month: u8, number: u32, status: &str) -> Invoice {
    Invoice {
        org_id: org_id.into(),
        year,
        month,
        number,
        status: status.into(),
        total_cents: 100,
        version: 0,
    }
}

async fn seeded(test: &str) -> (Db, RequestLog) {
    let (db, log) = logged_db(test);
    Saas::create_table(&db).await.unwrap();
    access::sign_up(&db, &org("acme", "Acme Corp"), &user("acme", "admin"))
        .await
        .unwrap();
    access::sign_up(&db, &org("globex", "Globex"), &user("globex", "admin"))
        .await
        .unwrap();
    let users = [user("acme", "ada"), user("acme", "grace"), user("globex", "linus")];
    let projects = [("rocket", Some("ada")), ("anvil", Some("ada")), ("magnet", None)].map(|(id, owner)| Project {
        org_id: "acme".into(),
        project_id: id.into(),
        title: id.to_uppercase(),
        owner: owner.map(Into::into),
    });
    let invoices = [
        invoice("acme", 2026, 9, 1, "paid"),
        invoice("acme", 2026, 10, 2, "open"),
        invoice("acme", 2026, 11, 3, "open"),
        invoice("acme", 2026, 12, 4, "open"),
        invoice("globex", 2025, 12, 5, "open"),
        invoice("globex", 2026, 11, 6, "open"),
    ];
    db.batch_write()
        .put_all(&users)
        .put_all(&projects)
        .put_all(&invoices)
        .await
        .unwrap();
    log.clear();
    (db, log)
}

fn one_request(log: &RequestLog, operation: &str) {
    assert_eq!(log.operations(), [operation], "one {operation}");
    log.clear();
}

fn numbers(invoices: &[Invoice]) -> Vec<u32> {
    invoices.iter().map(|i| i.number).collect()
}

#[tokio::test]
async fn every_access_pattern_is_one_request() {
    let (db, log) = seeded("st_example").await;

    assert_eq!(access::org(&db, "acme").await.unwrap().unwrap().name, "Acme Corp");
    one_request(&log, "GetItem");

    assert_eq!(
        access::user(&db, "acme", "ada").await.unwrap().unwrap().email,
        "ada@acme.test"
    );
    one_request(&log, "GetItem");

    let linus = access::user_by_email(&db, "linus@globex.test").await.unwrap().unwrap();
    assert_eq!((linus.org_id.as_str(), linus.user_id.as_str()), ("globex", "linus"));
    one_request(&log, "Query");

    let users: Vec<String> = access::users_of(&db, "acme")
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.user_id)
        .collect();
    assert_eq!(users, ["ada", "admin", "grace"]);
    one_request(&log, "Query");

    let items = access::everything_of(&db, "acme").await.unwrap();
    one_request(&log, "Query");
    let count = |f: fn(&OrgItem) -> bool| items.iter().filter(|i| f(i)).count();
    assert_eq!(count(|i| matches!(i, OrgItem::Org(_))), 1);
    assert_eq!(count(|i| matches!(i, OrgItem::User(_))), 3);
    assert_eq!(count(|i| matches!(i, OrgItem::Project(_))), 3);
    assert_eq!(count(|i| matches!(i, OrgItem::Invoice(_))), 4);

    let november = access::invoices_of_month(&db, "acme", 2026, 11).await.unwrap();
    assert_eq!(numbers(&november), [3]);
    one_request(&log, "Query");

    let q4 = access::invoices_of_quarter(&db, "acme", 2026, 4).await.unwrap();
    assert_eq!(numbers(&q4), [2, 3, 4]);
    one_request(&log, "Query");

    let open = access::open_invoices(&db, 2026).await.unwrap();
    assert_eq!(numbers(&open), [4, 6, 3, 2], "newest first, across organisations");
    one_request(&log, "Query");

    let mut owned: Vec<String> = access::projects_owned_by(&db, "ada")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.project_id)
        .collect();
    owned.sort();
    assert_eq!(
        owned,
        ["anvil", "rocket"],
        "the archived project is not in the sparse index"
    );
    one_request(&log, "Query");

    let names: Vec<String> = access::orgs_by_name(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["Acme Corp", "Globex"]);
    one_request(&log, "Query");

    access::mark_paid(&db, "acme", 2026, 10, 2).await.unwrap();
    one_request(&log, "UpdateItem");
    let open = access::open_invoices(&db, 2026).await.unwrap();
    assert_eq!(numbers(&open), [4, 6, 3], "the paid invoice left STATUS#open");
    log.clear();
    let paid = Invoice::gsi1().query(&db, "paid").collect_all().await.unwrap();
    assert_eq!(numbers(&paid), [1, 2]);
    log.clear();

    let again = access::sign_up(&db, &org("acme", "Acme again"), &user("acme", "eve")).await;
    assert!(matches!(again, Err(Error::TransactionCanceled { .. })), "{again:?}");
    one_request(&log, "TransactWriteItems");
    assert!(
        User::get(&db, ("acme", "eve")).await.unwrap().is_none(),
        "nothing of a refused sign-up"
    );
}
