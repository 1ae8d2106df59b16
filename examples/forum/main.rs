//! DynamORM's forum model (Forum, Thread, Reply, User) with its relationships: seeds a
//! small forum, walks the relationships in both directions, and prefetches the replies
//! and authors of a page of threads without one request per thread.
//!
//! Run it with `scripts/demo`, which starts DynamoDB Local; pointed elsewhere it uses
//! `DYNAMODB_ENDPOINT`. Its tables get a per-run prefix and are deleted at the end.

use std::error::Error;

mod model;

use dynorm::rel::{ManyToOne, OneToMany};
use dynorm::{Db, DynaModel};
use model::{Forum, Reply, Thread, User};

async fn seed(db: &Db) -> dynorm::Result<()> {
    let users = ["ada", "grace", "linus"].map(|name| User {
        name: name.into(),
        replies: OneToMany::default(),
    });
    let forums = ["Rust", "DynamoDB"].map(|name| Forum {
        name: name.into(),
        threads: OneToMany::default(),
    });
    let threads = [
        ("Rust", "ada", "Async traits, finally"),
        ("Rust", "linus", "Is unsafe ever fine?"),
        ("DynamoDB", "grace", "Single-table design"),
        ("DynamoDB", "ada", "Sparse indexes"),
    ]
    .map(|(forum, user, subject)| Thread {
        forum_name: forum.into(),
        user_name: user.into(),
        subject: subject.into(),
        user: ManyToOne::default(),
        replies: OneToMany::default(),
    });
    let mut replies = Vec::new();
    for (i, thread) in threads.iter().enumerate() {
        for (n, author) in ["grace", "linus", "ada"].iter().take(i + 1).enumerate() {
            replies.push(Reply {
                forum_thread: format!("{}\n{}", thread.forum_name, thread.subject),
                created: format!("2026-11-2{n}T10:00:00Z"),
                user_name: (*author).into(),
                message: format!("{author} on {}: point {}", thread.subject, n + 1),
            });
        }
    }
    db.batch_write()
        .put_all(&users)
        .put_all(&forums)
        .put_all(&threads)
        .put_all(&replies)
        .await?;
    Ok(())
}

async fn report(db: &Db) -> Result<(), Box<dyn Error>> {
    println!("Forums, their threads and replies (parent to children):");
    for forum_name in ["Rust", "DynamoDB"] {
        let forum = Forum::get(db, forum_name).await?.ok_or("forum missing")?;
        let mut threads = forum.threads(db).recursive().collect_all().await?;
        // Two prefetches for the whole page: concurrent queries for the replies, one
        // batch get for the authors.
        Thread::prefetch_replies(db, &mut threads).await?;
        Thread::prefetch_user(db, &mut threads).await?;
        println!("  {} ({} threads)", forum.name, threads.len());
        for thread in &threads {
            let author = thread
                .user
                .loaded()
                .and_then(Option::as_ref)
                .map_or("?", |u| u.name.as_str());
            let replies = thread.replies.loaded().map_or(0, Vec::len);
            println!(
                "    \"{}\" by {author}, {replies} repl{}",
                thread.subject,
                if replies == 1 { "y" } else { "ies" }
            );
        }
    }

    println!("Users, what they wrote, and where (children to parents):");
    for name in ["ada", "grace", "linus"] {
        let user = User::get(db, name).await?.ok_or("user missing")?;
        let started = user.threads(db).recursive().collect_all().await?;
        let replies = user.replies(db).recursive().collect_all().await?;
        println!(
            "  {name}: started {} thread(s), wrote {} repl{}",
            started.len(),
            replies.len(),
            if replies.len() == 1 { "y" } else { "ies" }
        );
        if let Some(reply) = replies.first() {
            // The keys-only index holds the reply's key; read it whole, then climb up.
            let reply = Reply::get(db, (reply.forum_thread.as_str(), reply.created.as_str()))
                .await?
                .ok_or("reply missing")?;
            let thread = reply.thread(db).await?.ok_or("thread missing")?;
            let forum = thread.forum(db).await?.ok_or("forum missing")?;
            let author = reply.user(db).await?.ok_or("user missing")?;
            println!(
                "    e.g. \"{}\" in \"{}\" of forum {} (by {})",
                reply.message, thread.subject, forum.name, author.name
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").ok();
    let base = match &endpoint {
        Some(endpoint) => Db::local(endpoint),
        None => Db::from_env().await,
    };
    let db = base.with_table_prefix(format!("forum-{}-", std::process::id()));
    Reply::create_table(&db).await?;
    User::create_table(&db).await?;
    Thread::create_table(&db).await?;
    Forum::create_table(&db).await?;
    let result = async {
        seed(&db).await?;
        report(&db).await
    }
    .await;
    Reply::delete_table(&db).await?;
    User::delete_table(&db).await?;
    Thread::delete_table(&db).await?;
    Forum::delete_table(&db).await?;
    result
}
