//! Relationships on DynamORM's forum model (Forum, Thread, Reply, User; the models of
//! `examples/forum`), against DynamoDB Local: accessors and back references in both
//! directions, prefetch without one sequential request per parent, and the OneToOne
//! auto-create and cascade.

use dynorm::rel::{ManyToOne, OneToMany};
use dynorm::{Db, DynaModel, Error, KeyProblem};
use dynorm_tests::{logged_db, seed};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[path = "../../examples/forum/model.rs"]
mod forum_model;
use forum_model::{Forum, Reply, Thread, User};

fn user(name: &str) -> User {
    User {
        name: name.into(),
        replies: OneToMany::default(),
    }
}

async fn forum(db: &Db) -> (Vec<Thread>, Vec<Reply>) {
    Reply::create_table(db).await.unwrap();
    User::create_table(db).await.unwrap();
    Thread::create_table(db).await.unwrap();
    Forum::create_table(db).await.unwrap();
    seed(db, &[user("ann"), user("bob"), user("cy")]).await;
    seed(
        db,
        &[
            Forum {
                name: "Rust".into(),
                threads: OneToMany::default(),
            },
            Forum {
                name: "Empty".into(),
                threads: OneToMany::default(),
            },
        ],
    )
    .await;
    let threads: Vec<Thread> = (0..100)
        .map(|i| Thread {
            forum_name: "Rust".into(),
            user_name: ["ann", "bob", "cy", "ghost"][i % 4].into(),
            subject: format!("subject {i:03}"),
            user: ManyToOne::default(),
            replies: OneToMany::default(),
        })
        .collect();
    seed(db, &threads).await;
    let replies: Vec<Reply> = threads
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            (0..i % 5).map(move |r| Reply {
                forum_thread: format!("{}\n{}", t.forum_name, t.subject),
                created: format!("2026-11-{:02}", r + 1),
                user_name: ["ann", "bob", "cy"][(i + r) % 3].into(),
                message: format!("reply {r} to {i}"),
            })
        })
        .collect();
    seed(db, &replies).await;
    (threads, replies)
}

#[tokio::test]
async fn relationships_and_prefetch() {
    let (db, log) = logged_db("rel-forum");
    let (threads, replies) = forum(&db).await;
    assert_eq!(Thread::scan(&db).recursive().count().await.unwrap(), 100);
    assert_eq!(Reply::scan(&db).recursive().count().await.unwrap(), replies.len());

    // One-to-many through the table, with a composite key.
    let mut thread = Thread::get(&db, ("Rust", "subject 008")).await.unwrap().unwrap();
    let mine = thread.replies(&db).recursive().collect_all().await.unwrap();
    let expected: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.forum_thread == "Rust\nsubject 008")
        .collect();
    assert_eq!(mine.iter().collect::<Vec<_>>(), expected);
    assert_eq!(thread.replies(&db).count().await.unwrap(), 3);

    // Many-to-one by key; a missing parent is None.
    assert_eq!(thread.user(&db).await.unwrap().unwrap().name, "ann");
    thread.user_name = "ghost".into();
    assert_eq!(thread.user(&db).await.unwrap(), None);

    // One-to-many through an index, for every user: exactly their replies.
    for name in ["ann", "bob", "cy"] {
        let u = User::get(&db, name).await.unwrap().unwrap();
        let mut got: Vec<(String, String)> = u
            .replies(&db)
            .recursive()
            .collect_all()
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.forum_thread, r.created))
            .collect();
        got.sort();
        let mut expected: Vec<(String, String)> = replies
            .iter()
            .filter(|r| r.user_name == name)
            .map(|r| (r.forum_thread.clone(), r.created.clone()))
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{name}");
    }
    // And every thread's replies, through the composite key.
    for t in &threads {
        let got = t.replies(&db).recursive().collect_all().await.unwrap();
        let key = format!("{}\n{}", t.forum_name, t.subject);
        let expected: Vec<Reply> = replies.iter().filter(|r| r.forum_thread == key).cloned().collect();
        assert_eq!(got, expected, "{}", t.subject);
    }

    // Forum -> threads; an empty forum has none.
    let rust = Forum::get(&db, "Rust").await.unwrap().unwrap();
    assert_eq!(rust.threads(&db).recursive().count().await.unwrap(), 100);
    let empty = Forum::get(&db, "Empty").await.unwrap().unwrap();
    assert!(empty.threads(&db).collect_all().await.unwrap().is_empty());

    // Prefetch the replies and users of 100 threads.
    let mut page = Forum::get(&db, "Rust")
        .await
        .unwrap()
        .unwrap()
        .threads(&db)
        .recursive()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(page.len(), 100);
    log.clear();
    Thread::prefetch_replies(&db, &mut page).await.unwrap();
    // 100 queries, but never one after the other: 8 at a time, so the prefetch takes
    // about 100 / 8 = 13 sequential round trips instead of 100.
    assert_eq!(log.count("Query"), 100);
    let in_flight = log.max_in_flight();
    assert!(
        in_flight > 1 && in_flight <= dynorm::rel::PREFETCH_CONCURRENCY,
        "queries run concurrently, within the bound: {in_flight}"
    );
    log.clear();
    Thread::prefetch_user(&db, &mut page).await.unwrap();
    assert_eq!(log.count("BatchGetItem"), 1, "three distinct users in one batch get");
    assert_eq!(log.count("GetItem"), 0);
    for t in &page {
        let one_by_one = t.replies(&db).recursive().collect_all().await.unwrap();
        assert_eq!(t.replies.loaded(), Some(&one_by_one));
        let user = t.user(&db).await.unwrap();
        assert_eq!(t.user.loaded(), Some(&user));
    }
    assert_eq!(threads.len(), page.len());
}

#[tokio::test]
async fn back_references() {
    let (db, _log) = logged_db("rel-back");
    let (threads, replies) = forum(&db).await;

    // Reply -> Thread, parsing "{forum_name}\n{subject}" back into the thread's key.
    let reply = &replies[0];
    let thread = reply.thread(&db).await.unwrap().unwrap();
    assert_eq!(format!("{}\n{}", thread.forum_name, thread.subject), reply.forum_thread);
    let odd = Reply {
        forum_thread: "no separator".into(),
        ..reply.clone()
    };
    assert_eq!(
        odd.thread(&db).await.unwrap(),
        None,
        "a value without the template's shape"
    );

    // Reply -> User through the index's hash key; Thread -> Forum.
    assert_eq!(reply.user(&db).await.unwrap().unwrap().name, reply.user_name);
    assert_eq!(threads[0].forum(&db).await.unwrap().unwrap().name, "Rust");

    // User -> Threads, the back reference of Thread::user, through threads-by-user.
    let bob = User::get(&db, "bob").await.unwrap().unwrap();
    let his: Vec<Thread> = bob.threads(&db).recursive().collect_all().await.unwrap();
    let expected = threads.iter().filter(|t| t.user_name == "bob").count();
    assert_eq!(his.len(), expected);
    assert!(his.iter().all(|t| t.user_name == "bob"));
    let nobody = user("nobody");
    assert!(nobody.threads(&db).collect_all().await.unwrap().is_empty());
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq, Default)]
#[table(name = "rel_profiles", hash_key = "id")]
struct Profile {
    id: String,
    #[serde(default)]
    bio: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "rel_accounts", hash_key = "id")]
struct Account {
    id: String,
    email: String,
    #[serde(skip)]
    #[dynorm(one_to_one(hash = "{id}", auto_create, cascade))]
    profile: dynorm::rel::OneToOne<Profile>,
}

#[tokio::test]
async fn one_to_one_auto_create_and_cascade() {
    let db = dynorm_tests::db("rel-one");
    Account::create_table(&db).await.unwrap();
    Profile::create_table(&db).await.unwrap();
    let mut account = Account {
        id: "a1".into(),
        email: "a1@example.com".into(),
        profile: Default::default(),
    };
    account.save(&db).await.unwrap();

    // Missing is None; auto-create makes it, once, and loads it into the field.
    assert_eq!(account.profile(&db).await.unwrap(), None);
    let created = account.profile_or_create(&db).await.unwrap().clone();
    assert_eq!(
        created,
        Profile {
            id: "a1".into(),
            bio: String::new()
        }
    );
    assert_eq!(account.profile.loaded(), Some(&Some(created.clone())));
    assert_eq!(account.profile(&db).await.unwrap(), Some(created.clone()));
    assert_eq!(*account.profile_or_create(&db).await.unwrap(), created);

    // Saving the parent saves the loaded child, and the instance keeps it loaded.
    let mut accounts = vec![account];
    Account::prefetch_profile(&db, &mut accounts).await.unwrap();
    let mut account = accounts.pop().unwrap();
    account.profile.loaded_mut().unwrap().as_mut().unwrap().bio = "hello".into();
    account.email = "new@example.com".into();
    account.save(&db).await.unwrap();
    assert!(
        account.profile.is_loaded(),
        "a refreshed instance keeps what was loaded"
    );
    let stored = Profile::get(&db, "a1").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(stored.bio, "hello");

    // Deleting the parent deletes the child.
    account.delete(&db).await.unwrap();
    assert_eq!(Account::get(&db, "a1").consistent_read(true).await.unwrap(), None);
    assert_eq!(Profile::get(&db, "a1").consistent_read(true).await.unwrap(), None);
}

/// `{field}_or_create` loads the child it created, or the one it found, into the
/// parent's field, so a cascading save of the parent saves what was changed on it.
#[tokio::test]
async fn or_create_loads_the_child_for_a_cascading_save() {
    let db = dynorm_tests::db("rel-or-create-cascade");
    Account::create_table(&db).await.unwrap();
    Profile::create_table(&db).await.unwrap();
    let mut account = Account {
        id: "a2".into(),
        email: "a2@example.com".into(),
        profile: Default::default(),
    };
    account.save(&db).await.unwrap();

    // Created: the returned child is the loaded one.
    let profile = account.profile_or_create(&db).await.unwrap();
    profile.bio = "first".into();
    assert_eq!(account.profile.loaded().unwrap().as_ref().unwrap().bio, "first");
    account.save(&db).await.unwrap();
    let stored = Profile::get(&db, "a2").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(stored.bio, "first", "the cascading save saved the created child");

    // Found: a fresh parent (nothing loaded) gets the stored child, replacing nothing.
    let mut fresh = Account::get(&db, "a2").consistent_read(true).await.unwrap().unwrap();
    assert!(!fresh.profile.is_loaded());
    let found = fresh.profile_or_create(&db).await.unwrap();
    assert_eq!(found.bio, "first");
    found.bio = "second".into();
    fresh.put(&db).await.unwrap();
    let stored = Profile::get(&db, "a2").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(stored.bio, "second", "the cascading put saved the found child");
    assert_eq!(Profile::scan(&db).recursive().count().await.unwrap(), 1);
}

fn thread(forum_name: &str, subject: &str) -> Thread {
    Thread {
        forum_name: forum_name.into(),
        user_name: "ann".into(),
        subject: subject.into(),
        user: ManyToOne::default(),
        replies: OneToMany::default(),
    }
}

/// The error of a key template value that contains the template's separator.
fn refused(result: dynorm::Result<impl std::fmt::Debug>) -> (String, &'static str) {
    match result {
        Err(Error::InvalidKey {
            attribute,
            problem: KeyProblem::TemplateSeparator { field },
        }) => (attribute, field),
        other => panic!("expected a refused key template value, got {other:?}"),
    }
}

#[tokio::test]
async fn template_separators_in_values_are_refused() {
    let (db, log) = logged_db("rel-separator");
    Reply::create_table(&db).await.unwrap();
    Thread::create_table(&db).await.unwrap();

    // Two threads of the forum model whose replies' key "{forum_name}\n{subject}" would
    // both be "a\nb\nc". Each thread's own key is fine.
    let ambiguous = thread("a\nb", "c");
    let other = thread("a", "b\nc");
    ambiguous.put(&db).await.unwrap();
    other.put(&db).await.unwrap();
    // A reply to ("a", "b\nc"), keyed as the template says.
    let reply = Reply {
        forum_thread: format!("{}\n{}", other.forum_name, other.subject),
        created: "2026-11-01".into(),
        user_name: "ann".into(),
        message: "first".into(),
    };
    reply.put(&db).await.unwrap();

    // The thread ("a\nb", "c") no longer lists the replies of ("a", "b\nc"): its key is
    // refused, by every way of reading it, before anything is sent.
    log.clear();
    let thread = Thread::get(&db, ("a\nb", "c")).await.unwrap().unwrap();
    assert_eq!(thread, ambiguous);
    log.clear();
    let expected = ("forum_thread".to_owned(), "forum_name");
    assert_eq!(refused(thread.replies(&db).collect_all().await), expected);
    assert_eq!(refused(thread.replies(&db).recursive().count().await), expected);
    assert_eq!(refused(thread.replies(&db).to_input()), expected);
    let mut stream = thread.replies(&db).recursive();
    assert_eq!(refused(stream.next().await.unwrap()), expected);
    assert!(stream.next().await.is_none(), "the stream ends after the error");
    let mut page = vec![other.clone(), thread.clone()];
    assert_eq!(refused(Thread::prefetch_replies(&db, &mut page).await), expected);
    assert!(page.iter().all(|t| !t.replies.is_loaded()));
    assert!(log.is_empty(), "nothing was sent: {:?}", log.operations());

    // The thread ("a", "b\nc") sees its reply, alone; the reply's back reference is
    // that thread; a prefetch of it loads the same.
    let mut other = vec![Thread::get(&db, ("a", "b\nc")).await.unwrap().unwrap()];
    assert_eq!(other[0].replies(&db).collect_all().await.unwrap(), vec![reply.clone()]);
    assert_eq!(reply.thread(&db).await.unwrap().as_ref(), Some(&other[0]));
    Thread::prefetch_replies(&db, &mut other).await.unwrap();
    assert_eq!(other[0].replies.loaded(), Some(&vec![reply.clone()]));
    assert_eq!(Reply::scan(&db).recursive().count().await.unwrap(), 1);
}

/// The views of a thread: one item per thread, keyed like its replies.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq, Default)]
#[table(name = "rel_thread_views", hash_key = "forum_thread")]
struct ThreadViews {
    forum_thread: String,
    #[serde(default)]
    views: u32,
}

/// A thread pinned on a forum's front page, with its views (one-to-one, created on
/// demand).
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "rel_pinned", hash_key = "forum_name", range_key = "subject")]
struct Pinned {
    forum_name: String,
    subject: String,
    #[serde(skip)]
    #[dynorm(one_to_one(hash = "{forum_name}\n{subject}", auto_create, cascade))]
    views: dynorm::rel::OneToOne<ThreadViews>,
}

/// A link to a thread by forum, section and topic: the thread's subject is
/// "{section}/{topic}" (a template for the range key).
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "rel_links", hash_key = "forum", range_key = "topic")]
struct Link {
    forum: String,
    section: String,
    topic: String,
    #[serde(skip)]
    #[dynorm(many_to_one(hash = "{forum}", range = "{section}/{topic}"))]
    thread: ManyToOne<Thread>,
}

#[tokio::test]
async fn template_separators_are_refused_for_gets_and_creates() {
    let (db, log) = logged_db("rel-separator-get");
    ThreadViews::create_table(&db).await.unwrap();
    Thread::create_table(&db).await.unwrap();
    thread("Rust", "news/a/b").put(&db).await.unwrap();
    let pinned = |forum: &str, subject: &str| Pinned {
        forum_name: forum.into(),
        subject: subject.into(),
        views: Default::default(),
    };
    let mut ambiguous = pinned("a\nb", "c");
    let mut other = pinned("a", "b\nc");
    let link = |section: &str, topic: &str| Link {
        forum: "Rust".into(),
        section: section.into(),
        topic: topic.into(),
        thread: ManyToOne::default(),
    };

    // Creating, getting or prefetching by a refused key sends nothing.
    log.clear();
    let expected = ("forum_thread".to_owned(), "forum_name");
    assert_eq!(refused(ambiguous.views_or_create(&db).await), expected);
    assert_eq!(refused(ambiguous.views(&db).await), expected);
    assert_eq!(
        refused(ambiguous.views(&db).consistent_read(true).send().await),
        expected
    );
    let mut page = vec![other.clone(), ambiguous.clone()];
    assert_eq!(refused(Pinned::prefetch_views(&db, &mut page).await), expected);
    assert!(page.iter().all(|p| !p.views.is_loaded()));
    // A range key template: the error names the range key attribute.
    let mut links = vec![link("news", "a/b"), link("news/a", "b")];
    assert_eq!(refused(links[1].thread(&db).await), ("subject".to_owned(), "section"));
    assert_eq!(
        refused(Link::prefetch_thread(&db, &mut links).await),
        ("subject".to_owned(), "section")
    );
    assert!(log.is_empty(), "nothing was sent: {:?}", log.operations());

    // The unambiguous ones work: ("a", "b\nc") gets its own views item, created once.
    let created = other.views_or_create(&db).await.unwrap().clone();
    assert_eq!(created.forum_thread, "a\nb\nc");
    assert_eq!(other.views(&db).consistent_read(true).await.unwrap(), Some(created));
    assert_eq!(ThreadViews::scan(&db).recursive().count().await.unwrap(), 1);
    let found = links[0].thread(&db).await.unwrap().unwrap();
    assert_eq!(
        (found.forum_name.as_str(), found.subject.as_str()),
        ("Rust", "news/a/b")
    );
}
