//! Relationships between models (DynamORM's OneToOne, OneToMany and ManyToOne),
//! resolved through the related model's table or one of its indexes.
//!
//! A relationship is a field of type [`OneToMany<T>`], [`ManyToOne<T>`] or
//! [`OneToOne<T>`], never stored (`#[serde(skip)]` is required), with a key template
//! naming fields of the declaring model:
//!
//! ```no_run
//! use dynorm::rel::{ManyToOne, OneToMany};
//! use dynorm::{Db, DynaModel};
//! # use serde::{Deserialize, Serialize};
//! # #[derive(DynaModel, Serialize, Deserialize, validator::Validate, Clone)]
//! # #[table(name = "users", hash_key = "name")]
//! # struct User { name: String }
//! # #[derive(DynaModel, Serialize, Deserialize, validator::Validate, Clone)]
//! # #[table(name = "replies", hash_key = "forum_thread", range_key = "created")]
//! # struct Reply { forum_thread: String, created: String }
//!
//! #[derive(DynaModel, Serialize, Deserialize, validator::Validate, Clone)]
//! #[table(name = "threads", hash_key = "forum_name", range_key = "subject")]
//! #[global_index(name = "threads-by-user", hash_key = "user_name", range_key = "subject")]
//! struct Thread {
//!     forum_name: String,
//!     subject: String,
//!     user_name: String,
//!     /// `thread.user(&db)`: a get; every `User` gets `user.threads(&db)`.
//!     #[serde(skip)]
//!     #[dynorm(many_to_one(hash = "{user_name}", back = "threads", back_index = "threads-by-user"))]
//!     user: ManyToOne<User>,
//!     /// `thread.replies(&db)`: a query; every `Reply` gets `reply.thread(&db)`.
//!     #[serde(skip)]
//!     #[dynorm(one_to_many(hash = "{forum_name}\n{subject}", back = "thread"))]
//!     replies: OneToMany<Reply>,
//! }
//!
//! # async fn run(db: Db, mut page: Vec<Thread>) -> dynorm::Result<()> {
//! Thread::prefetch_replies(&db, &mut page).await?; // bounded concurrent queries
//! Thread::prefetch_user(&db, &mut page).await?; // one batch get
//! for thread in &page {
//!     let replies: &Vec<Reply> = thread.replies.loaded().expect("prefetched");
//! }
//! # Ok(()) }
//! ```
//!
//! A one-to-many queries the child's table, or `index = "..."`; a many-to-one or
//! one-to-one gets the related item by key (`hash`, and `range` for a hash and range
//! key), `None` when it is missing. `back = "name"` adds the reverse accessor on the
//! other model: a one-to-many's back parses the child's attribute with the template into
//! the parent's key (so the template must name the parent's key fields), a
//! many-to-one's back queries this model's table or `back_index`. A one-to-one may add
//! `auto_create` (`{field}_or_create`) and `cascade` (a put or save of the parent saves
//! the loaded child; deleting the parent instance deletes the child).

use std::fmt;

/// The children of a one-to-many relationship, once loaded by a prefetch. Not stored.
///
/// Equality ignores the loaded children: two models are equal when their stored
/// attributes are.
pub struct OneToMany<T> {
    loaded: Option<Vec<T>>,
}

/// The parent of a many-to-one relationship, once loaded by a prefetch. Not stored.
pub struct ManyToOne<T> {
    loaded: Option<Option<T>>,
}

/// The other side of a one-to-one relationship, once loaded. Not stored.
pub struct OneToOne<T> {
    loaded: Option<Option<T>>,
}

macro_rules! relation_common {
    ($name:ident, $loaded:ty) => {
        impl<T> Default for $name<T> {
            fn default() -> Self {
                $name { loaded: None }
            }
        }

        impl<T: Clone> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name {
                    loaded: self.loaded.clone(),
                }
            }
        }

        impl<T> PartialEq for $name<T> {
            fn eq(&self, _: &Self) -> bool {
                true
            }
        }

        impl<T: fmt::Debug> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match &self.loaded {
                    Some(loaded) => f.debug_tuple(stringify!($name)).field(loaded).finish(),
                    None => f.write_str(concat!(stringify!($name), "(not loaded)")),
                }
            }
        }

        impl<T> $name<T> {
            /// What a prefetch loaded; `None` when nothing was loaded yet.
            pub fn loaded(&self) -> Option<&$loaded> {
                self.loaded.as_ref()
            }

            /// Whether a prefetch loaded this relationship.
            pub fn is_loaded(&self) -> bool {
                self.loaded.is_some()
            }

            /// Sets what was loaded. Used by prefetches.
            pub fn set(&mut self, loaded: $loaded) {
                self.loaded = Some(loaded);
            }

            /// What a prefetch loaded, to change before a cascading save.
            pub fn loaded_mut(&mut self) -> Option<&mut $loaded> {
                self.loaded.as_mut()
            }

            /// Takes what was loaded out.
            pub fn take(&mut self) -> Option<$loaded> {
                self.loaded.take()
            }
        }
    };
}
relation_common!(OneToMany, Vec<T>);
relation_common!(ManyToOne, Option<T>);
relation_common!(OneToOne, Option<T>);

/// A key template such as `"{forum_name}\n{subject}"`: literal text and field names.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Text(&'static str),
    /// A field's value.
    Field(&'static str),
}

/// Splits `value` along a template's literal parts, giving each field's text, in order;
/// `None` when the value does not have the template's shape. Fields must be separated by
/// literal text, so the split is unambiguous (the derive checks it).
#[doc(hidden)]
pub fn parse_template(parts: &[TemplatePart], value: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = value;
    let mut i = 0;
    while i < parts.len() {
        match &parts[i] {
            TemplatePart::Text(text) => rest = rest.strip_prefix(text)?,
            TemplatePart::Field(_) => match parts.get(i + 1) {
                Some(TemplatePart::Text(next)) => {
                    let at = rest.find(next)?;
                    out.push(rest[..at].to_owned());
                    rest = &rest[at..];
                }
                Some(TemplatePart::Field(_)) => return None,
                None => {
                    out.push(rest.to_owned());
                    rest = "";
                }
            },
        }
        i += 1;
    }
    rest.is_empty().then_some(out)
}

/// How many child queries a one-to-many prefetch runs at once.
pub const PREFETCH_CONCURRENCY: usize = 8;

/// Loads the children of every parent with concurrent queries (at most
/// [`PREFETCH_CONCURRENCY`] at once, never one sequential request per parent), then
/// hands each parent its children. Used by the derive's `prefetch_{field}`.
#[doc(hidden)]
pub async fn prefetch_many<P, S, T>(
    parents: &mut [P],
    query: impl Fn(&P) -> S,
    set: impl Fn(&mut P, Vec<T>),
) -> crate::Result<()>
where
    S: futures::Stream<Item = crate::Result<T>>,
{
    use futures::{StreamExt, TryStreamExt};
    let results: Vec<(usize, Vec<T>)> = {
        let query = &query;
        futures::stream::iter(parents.iter().enumerate())
            .map(|(i, parent)| async move { query(parent).try_collect::<Vec<T>>().await.map(|c| (i, c)) })
            .buffer_unordered(PREFETCH_CONCURRENCY)
            .try_collect()
            .await?
    };
    for (i, children) in results {
        set(&mut parents[i], children);
    }
    Ok(())
}

/// Loads the one related item of every parent with batch gets (keys shared by several
/// parents are read once), then hands each parent its item, or `None`. Used by the
/// derive's `prefetch_{field}`.
#[doc(hidden)]
pub async fn prefetch_one<P, M: crate::DynaModel>(
    db: &crate::Db,
    parents: &mut [P],
    key: impl Fn(&P) -> M::Key,
    set: impl Fn(&mut P, Option<M>),
) -> crate::Result<()> {
    let keys: Vec<M::Key> = parents.iter().map(&key).collect();
    let mut batch = db.batch_get();
    for k in &keys {
        batch = batch.get_key::<M>(k.clone());
    }
    let found = batch.send().await?;
    for (parent, k) in parents.iter_mut().zip(keys) {
        set(parent, found.find::<M>(&k)?);
    }
    Ok(())
}

/// A get by a key that may not exist: a back reference whose attribute does not have the
/// key template's shape resolves to `Ok(None)` without a request.
#[must_use = "a request does nothing until it is awaited"]
pub enum GetRelated<'a, M: crate::DynaModel> {
    /// The key was found: a get.
    Get(crate::ops::GetItem<'a, M>),
    /// No key: nothing to read.
    Missing,
}

impl<'a, M: crate::DynaModel> std::future::IntoFuture for GetRelated<'a, M> {
    type Output = crate::Result<Option<M>>;
    type IntoFuture = futures::future::BoxFuture<'a, crate::Result<Option<M>>>;

    fn into_future(self) -> Self::IntoFuture {
        match self {
            GetRelated::Get(get) => get.into_future(),
            GetRelated::Missing => Box::pin(async { Ok(None) }),
        }
    }
}

/// The text of an attribute of `item`, for a back reference: a string, or a number's digits.
#[doc(hidden)]
pub fn attribute_text<T: serde::Serialize>(item: &T, attribute: &str) -> Option<String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    match crate::to_item(item).ok()?.remove(attribute)? {
        AttributeValue::S(s) => Some(s),
        AttributeValue::N(n) => Some(n),
        _ => None,
    }
}

/// The item with `key`, created first (from `M::default()` with the key set, as a
/// `put_unique`) when it does not exist: a one-to-one relationship's `auto_create`.
#[doc(hidden)]
pub async fn get_or_create<M: crate::DynaModel + Default>(db: &crate::Db, key: M::Key) -> crate::Result<M> {
    if let Some(found) = crate::ops::GetItem::<M>::new(db, key.clone())
        .consistent_read(true)
        .await?
    {
        return Ok(found);
    }
    let mut item = crate::to_item(&M::default())?;
    item.extend(crate::item::key_item::<M>(&key)?);
    let created: M = crate::from_item(item)?;
    match created.put_unique(db).await {
        Ok(()) => Ok(created),
        // Created by someone else in the meantime: theirs stands.
        Err(crate::Error::AlreadyExists { .. }) => crate::ops::GetItem::<M>::new(db, key)
            .consistent_read(true)
            .await?
            .ok_or_else(|| {
                crate::Error::InvalidRequest("the related item was created and deleted concurrently".into())
            }),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_back() {
        let forum_thread = [
            TemplatePart::Field("forum_name"),
            TemplatePart::Text("\n"),
            TemplatePart::Field("subject"),
        ];
        assert_eq!(
            parse_template(&forum_thread, "Rust\nAsync traits"),
            Some(vec!["Rust".to_owned(), "Async traits".to_owned()])
        );
        assert_eq!(parse_template(&forum_thread, "no separator"), None);
        let prefixed = [TemplatePart::Text("USER#"), TemplatePart::Field("name")];
        assert_eq!(parse_template(&prefixed, "USER#ann"), Some(vec!["ann".to_owned()]));
        assert_eq!(parse_template(&prefixed, "ORG#ann"), None);
    }

    #[test]
    fn loaded_relations_do_not_change_equality() {
        let mut a: OneToMany<u32> = OneToMany::default();
        let b: OneToMany<u32> = OneToMany::default();
        a.set(vec![1, 2]);
        assert!(a == b);
        assert_eq!(a.loaded(), Some(&vec![1, 2]));
        assert!(!b.is_loaded());
    }
}
