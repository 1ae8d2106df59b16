//! The derives must expand to code that compiles wherever a model is declared: in a
//! module that shadows the prelude (`Result`, `Option`, `Some`, `None`, `Ok`, `Err`,
//! `String`, `Vec`, `Box`, `Clone`, `Default`, ...), the crate names `core`, `std` and
//! `dynorm`, and the derive's own names, and in a `#[no_implicit_prelude]` module. The
//! tests then check that the impls generated there are the right ones. Nothing here
//! touches the network: `Db::local` builds a client without connecting, and `to_input()`
//! builds the SDK request without sending it.

#![allow(dead_code, non_camel_case_types, non_snake_case, non_upper_case_globals)]

mod shadow {
    // The prelude's types, variants and traits, replaced by unrelated items.
    pub struct Result;
    pub struct Option;
    pub struct Some;
    pub struct None;
    pub struct Ok;
    pub struct Err;
    pub struct String;
    pub struct Vec;
    pub struct Box;
    pub trait Clone {}
    pub trait Default {}
    pub trait Send {}
    pub trait Sync {}
    pub trait Sized {}
    pub trait Into {}
    pub trait From {}
    pub trait Iterator {}
    pub trait ToString {}
    pub trait Drop {}
    pub fn drop() {}
    pub fn panic() {}
    pub fn unreachable() {}

    // Crate names, as relative paths would see them.
    pub mod core {}
    pub mod std {}
    pub mod dynorm {}
    pub mod serde {}
    pub mod validator {}
    pub mod aws_sdk_dynamodb {}
    pub mod __private {}

    // Names the derives use or generate.
    pub struct DynaModel;
    pub struct KeyAttribute;
    pub struct KeyAttr;
    pub struct KeyType;
    pub struct TableSchema;
    pub struct IndexSchema;
    pub struct Projection;
    pub struct Throughput;
    pub struct StreamView;
    pub struct AttributeValue;
    pub struct FallbackKey;
    #[allow(clippy::upper_case_acronyms)]
    pub struct SCHEMA;
    pub struct Key;
    pub fn schema() {}
    pub fn pk() {}
    pub fn assert_key_attribute() {}
    pub fn to_attribute_value() {}

    /// A newtype key, derived in the shadowed scope.
    #[derive(
        ::dynorm::KeyAttribute,
        ::serde::Serialize,
        ::serde::Deserialize,
        ::core::clone::Clone,
        ::core::fmt::Debug,
        ::core::cmp::PartialEq,
    )]
    pub struct UserId(pub ::std::string::String);

    /// A named-field newtype key.
    #[derive(
        ::dynorm::KeyAttribute,
        ::serde::Serialize,
        ::serde::Deserialize,
        ::core::clone::Clone,
        ::core::fmt::Debug,
        ::core::cmp::PartialEq,
    )]
    pub struct Seq(pub u64);

    /// Hash-only, with a newtype key and a version field.
    #[derive(
        ::dynorm::DynaModel,
        ::serde::Serialize,
        ::serde::Deserialize,
        ::validator::Validate,
        ::core::fmt::Debug,
        ::core::cmp::PartialEq,
    )]
    #[table(name = "users", hash_key = "id")]
    #[serde(rename_all = "camelCase")]
    pub struct User {
        pub id: UserId,
        pub display_name: ::std::string::String,
        pub tags: ::std::vec::Vec<::std::string::String>,
        pub nickname: ::std::option::Option<::std::string::String>,
        #[dynorm(version)]
        #[serde(default)]
        pub version: u64,
    }

    /// Hash and range, provisioned, with a stream, a ttl and both kinds of index.
    #[derive(
        ::dynorm::DynaModel,
        ::serde::Serialize,
        ::serde::Deserialize,
        ::validator::Validate,
        ::core::fmt::Debug,
        ::core::cmp::PartialEq,
    )]
    #[table(
        name = "replies",
        hash_key = "thread",
        range_key = "posted",
        read = 5,
        write = 3,
        stream = "new_and_old_images"
    )]
    #[global_index(
        name = "by-author",
        hash_key = "author",
        range_key = "posted",
        projection = include(body),
        read = 2,
        write = 1
    )]
    #[local_index(name = "by-score", range_key = "score", projection = "keys_only")]
    pub struct Reply {
        pub thread: ::std::string::String,
        pub posted: u64,
        pub author: ::std::string::String,
        pub score: i32,
        pub body: ::std::string::String,
        #[dynorm(ttl)]
        pub expires: ::std::option::Option<u64>,
    }

    /// Hash and range with a binary hash key and a newtype range key.
    #[derive(
        ::dynorm::DynaModel,
        ::serde::Serialize,
        ::serde::Deserialize,
        ::validator::Validate,
        ::core::fmt::Debug,
        ::core::cmp::PartialEq,
    )]
    #[table(name = "chunks", partition_key = "digest", sort_key = "seq")]
    pub struct Chunk {
        #[serde(with = "::dynorm::bytes")]
        pub digest: ::std::vec::Vec<u8>,
        pub seq: Seq,
        #[serde(with = "::dynorm::bytes")]
        pub data: ::std::vec::Vec<u8>,
    }
}

/// The same derives with no prelude at all.
#[no_implicit_prelude]
mod bare {
    #[derive(
        ::dynorm::KeyAttribute, ::serde::Serialize, ::serde::Deserialize, ::core::clone::Clone, ::core::fmt::Debug,
    )]
    pub struct Slug(pub ::std::string::String);

    #[derive(
        ::dynorm::DynaModel, ::serde::Serialize, ::serde::Deserialize, ::validator::Validate, ::core::fmt::Debug,
    )]
    #[table(name = "pages", hash_key = "slug", range_key = "rev")]
    #[global_index(name = "by-title", hash_key = "title")]
    pub struct Page {
        pub slug: Slug,
        pub rev: i64,
        pub title: ::std::string::String,
        #[dynorm(version)]
        pub version: u32,
    }
}

use aws_sdk_dynamodb::types::AttributeValue;
use dynorm::{Db, DynaModel, KeyAttr, KeyAttribute, KeyType, Projection, StreamView, Throughput};

use bare::{Page, Slug};
use shadow::{Chunk, Reply, Seq, User, UserId};

fn db() -> Db {
    Db::local("http://127.0.0.1:1")
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_owned())
}

fn user() -> User {
    User {
        id: UserId("u-1".into()),
        display_name: "Ada".into(),
        tags: vec!["admin".into()],
        nickname: None,
        version: 0,
    }
}

fn reply() -> Reply {
    Reply {
        thread: "rust".into(),
        posted: 42,
        author: "ada".into(),
        score: -3,
        body: "hello".into(),
        expires: Some(1_900_000_000),
    }
}

#[test]
fn key_attribute_newtypes_delegate_to_their_field() {
    assert_eq!(<UserId as KeyAttribute>::KEY_TYPE, KeyType::String);
    assert_eq!(UserId("x".into()).to_attribute_value(), s("x"));
    assert_eq!(<Seq as KeyAttribute>::KEY_TYPE, KeyType::Number);
    assert_eq!(Seq(7).to_attribute_value(), n("7"));
    assert_eq!(<Slug as KeyAttribute>::KEY_TYPE, KeyType::String);
    assert_eq!(Slug("home".into()).to_attribute_value(), s("home"));
}

#[test]
fn hash_only_schema_and_key() {
    let schema = User::schema();
    assert_eq!(schema.name, "users");
    assert_eq!(
        schema.hash_key,
        KeyAttr {
            name: "id",
            key_type: KeyType::String
        }
    );
    assert_eq!(schema.range_key, None);
    assert_eq!(schema.throughput, None);
    assert_eq!(schema.stream, None);
    assert!(schema.global_indexes.is_empty());
    assert!(schema.local_indexes.is_empty());
    assert_eq!(schema.version_attribute, Some("version"));
    assert_eq!(schema.ttl_attribute, None);

    let key: UserId = user().pk();
    assert_eq!(key, UserId("u-1".into()));
}

#[test]
fn hash_only_requests_carry_the_key() {
    let db = db();
    let input = User::get(&db, UserId("u-1".into()))
        .consistent_read(true)
        .to_input()
        .unwrap();
    assert_eq!(input.table_name(), Some("users"));
    assert_eq!(input.consistent_read(), Some(true));
    let key = input.key().unwrap();
    assert_eq!(key.len(), 1);
    assert_eq!(key["id"], s("u-1"));

    let input = user().delete(&db).to_input().unwrap();
    assert_eq!(input.key().unwrap()["id"], s("u-1"));

    let input = user().put(&db).to_input().unwrap();
    let item = input.as_put().unwrap().item().unwrap();
    assert_eq!(item["id"], s("u-1"));
    assert_eq!(item["displayName"], s("Ada"));
}

#[test]
fn hash_and_range_schema_and_key() {
    let schema = Reply::schema();
    assert_eq!(schema.name, "replies");
    assert_eq!(schema.hash_key.name, "thread");
    assert_eq!(schema.hash_key.key_type, KeyType::String);
    assert_eq!(
        schema.range_key,
        Some(KeyAttr {
            name: "posted",
            key_type: KeyType::Number
        })
    );
    assert_eq!(schema.throughput, Some(Throughput::new(5, 3)));
    assert_eq!(schema.stream, Some(StreamView::NewAndOldImages));
    assert_eq!(schema.version_attribute, None);
    assert_eq!(schema.ttl_attribute, Some("expires"));

    let [gsi] = schema.global_indexes else {
        panic!("one global index expected: {:?}", schema.global_indexes)
    };
    assert_eq!(gsi.name, "by-author");
    assert_eq!(gsi.hash_key.name, "author");
    assert_eq!(gsi.range_key.map(|k| k.name), Some("posted"));
    assert_eq!(gsi.projection, Projection::Include(&["body"]));
    assert_eq!(gsi.throughput, Some(Throughput::new(2, 1)));

    let [lsi] = schema.local_indexes else {
        panic!("one local index expected: {:?}", schema.local_indexes)
    };
    assert_eq!(lsi.name, "by-score");
    assert_eq!(lsi.hash_key, schema.hash_key);
    assert_eq!(
        lsi.range_key,
        Some(KeyAttr {
            name: "score",
            key_type: KeyType::Number
        })
    );
    assert_eq!(lsi.projection, Projection::KeysOnly);
    assert_eq!(lsi.throughput, None);

    let (hash, range): (String, u64) = reply().pk();
    assert_eq!((hash.as_str(), range), ("rust", 42));
}

#[test]
fn hash_and_range_requests_carry_both_keys() {
    let db = db().with_table_prefix("test-");
    let input = Reply::get(&db, ("rust", 42u64)).to_input().unwrap();
    assert_eq!(input.table_name(), Some("test-replies"));
    let key = input.key().unwrap();
    assert_eq!(key.len(), 2);
    assert_eq!(key["thread"], s("rust"));
    assert_eq!(key["posted"], n("42"));

    let input = reply().delete(&db).to_input().unwrap();
    let key = input.key().unwrap();
    assert_eq!(key.len(), 2);
    assert_eq!(key["thread"], s("rust"));
    assert_eq!(key["posted"], n("42"));
}

#[test]
fn binary_and_newtype_keys() {
    let schema = Chunk::schema();
    assert_eq!(
        schema.hash_key,
        KeyAttr {
            name: "digest",
            key_type: KeyType::Binary
        }
    );
    assert_eq!(
        schema.range_key,
        Some(KeyAttr {
            name: "seq",
            key_type: KeyType::Number
        })
    );
    let chunk = Chunk {
        digest: vec![0xde, 0xad],
        seq: Seq(3),
        data: vec![1, 2, 3],
    };
    assert_eq!(chunk.pk(), (vec![0xde, 0xad], Seq(3)));

    let db = db();
    let input = Chunk::get(&db, (vec![0xde_u8, 0xad], Seq(3))).to_input().unwrap();
    let key = input.key().unwrap();
    assert_eq!(
        key["digest"],
        AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![0xde, 0xad]))
    );
    assert_eq!(key["seq"], n("3"));
}

#[test]
fn no_implicit_prelude_model() {
    let schema = Page::schema();
    assert_eq!(schema.name, "pages");
    assert_eq!(schema.hash_key.name, "slug");
    assert_eq!(schema.hash_key.key_type, KeyType::String);
    assert_eq!(schema.range_key.map(|k| k.key_type), Some(KeyType::Number));
    assert_eq!(schema.global_indexes[0].name, "by-title");
    assert_eq!(schema.global_indexes[0].projection, Projection::All);
    assert_eq!(schema.version_attribute, Some("version"));

    let page = Page {
        slug: Slug("home".into()),
        rev: -1,
        title: "Home".into(),
        version: 1,
    };
    let (slug, rev) = page.pk();
    assert_eq!((slug.0.as_str(), rev), ("home", -1));

    let db = db();
    let input = Page::get(&db, (Slug("home".into()), -1i64)).to_input().unwrap();
    let key = input.key().unwrap();
    assert_eq!(key["slug"], s("home"));
    assert_eq!(key["rev"], n("-1"));
}
