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
//! `auto_create` (`{field}_or_create`, which takes `&mut self`: it loads the child it
//! found or created into the field and returns it there) and `cascade` (a put or save of
//! the parent saves the loaded child; deleting the parent instance deletes the child).
//!
//! # Values that contain the template's separator are refused
//!
//! A key is the template's text with each field's value in its place, stored as is, so
//! other programs can read it. Such a key is only unambiguous when no value contains the
//! literal text that follows its field: with `"{forum_name}\n{subject}"`, the threads
//! `("a\nb", "c")` and `("a", "b\nc")` would both have the key `"a\nb\nc"`, each would
//! list the other's replies, and a reply's back reference could not tell them apart.
//! Escaping the separator would change the stored keys for every other reader, so a
//! value that would make a key ambiguous is refused instead, before any request is sent,
//! with [`Error::InvalidKey`](crate::Error::InvalidKey) and
//! [`KeyProblem::TemplateSeparator`](crate::KeyProblem::TemplateSeparator) on the
//! attribute the template fills.
//!
//! Precisely: the text of a key is read back field by field, each field taking the text
//! up to the first occurrence of the literal text that follows it. A value is refused
//! when that would stop early: when it contains that text, or when its end and the start
//! of that text form it together (the value `"a#"` before the separator `"##"` gives
//! `"a###"`, where `"##"` first occurs inside the value). A field that ends the template
//! accepts any value, and a template that is just `"{field}"` passes the field itself.
//! Every key that is accepted reads back into exactly its values, so two different
//! parents never share a key.
//!
//! A refused value fails the accessor that needs the key: a query stream yields the
//! error when it is polled, a get and `{field}_or_create` resolve to it, and a prefetch
//! fails before sending anything when any parent's key is refused.

use std::fmt;

use crate::error::KeyProblem;

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

impl<T> OneToOne<T> {
    /// Loads `child` (replacing what was loaded) and returns it, to change before a
    /// cascading save. Used by `{field}_or_create`.
    pub fn insert(&mut self, child: T) -> &mut T {
        self.loaded.insert(None).insert(child)
    }
}

pub use crate::schema::TemplatePart;
use crate::template::{reads_back, text_after};

#[doc(hidden)]
pub use crate::template::parse_template;

/// The template's text with each field's value (`values`, in the order of the fields),
/// or the problem of the first value that would not read back.
fn render_template(parts: &[TemplatePart], values: &[&dyn fmt::Display]) -> Result<String, KeyProblem> {
    use fmt::Write as _;
    let mut out = String::new();
    let mut values = values.iter();
    for (i, part) in parts.iter().enumerate() {
        match part {
            TemplatePart::Text(text) => out.push_str(text),
            TemplatePart::Field(field) => {
                let value = values.next().expect("a value for each field of the key template");
                let start = out.len();
                write!(out, "{value}").expect("a Display implementation returned an error unexpectedly");
                if let Some(next) = text_after(parts, i) {
                    if !reads_back(&out[start..], &next) {
                        return Err(KeyProblem::TemplateSeparator { field });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Formats a key template: its text with each field's value (`values`, the fields'
/// `Display`, in the order of the fields). A value that contains the literal text that
/// follows its field, or that would form it with the start of that text, is refused
/// with [`Error::InvalidKey`](crate::Error::InvalidKey) on `attribute` (the attribute
/// the template fills) and [`KeyProblem::TemplateSeparator`]: the key would be
/// ambiguous. [`parse_template`] gives back exactly the values of every key it returns.
/// Used by the derive's generated code.
#[doc(hidden)]
pub fn format_template(attribute: &str, parts: &[TemplatePart], values: &[&dyn fmt::Display]) -> crate::Result<String> {
    render_template(parts, values).map_err(|problem| crate::Error::InvalidKey {
        attribute: attribute.to_owned(),
        problem,
    })
}

/// Queries `index` by the key a template gives for `values`. A refused value (see
/// [`format_template`]) makes a stream that yields [`Error::InvalidKey`](crate::Error::InvalidKey)
/// on the index's hash key when it is polled, and sends nothing. Used by the derive's
/// one-to-many accessors.
#[doc(hidden)]
pub fn query_template<'a, I>(
    index: I,
    db: &'a crate::Db,
    parts: &[TemplatePart],
    values: &[&dyn fmt::Display],
) -> crate::Query<'a, I>
where
    I: crate::Index,
    I::Hash: crate::KeyAttribute,
    String: crate::KeyPart<I::Hash>,
{
    match render_template(parts, values) {
        Ok(hash) => index.query(db, hash),
        Err(problem) => crate::read::ReadStream::refused_query(db, problem),
    }
}

/// The error [`query_template`] would report for these values, if any: a prefetch checks
/// every parent before it sends anything.
#[doc(hidden)]
pub fn check_template<I: crate::Index>(
    _index: &I,
    parts: &[TemplatePart],
    values: &[&dyn fmt::Display],
) -> crate::Result<()> {
    format_template(I::hash_key().name, parts, values).map(drop)
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
/// parents are read once), then hands each parent its item, or `None`. A parent whose
/// key is refused fails the prefetch before anything is sent. Used by the derive's
/// `prefetch_{field}`.
#[doc(hidden)]
pub async fn prefetch_one<P, M: crate::Model>(
    db: &crate::Db,
    parents: &mut [P],
    key: impl Fn(&P) -> crate::Result<M::Key>,
    set: impl Fn(&mut P, Option<M>),
) -> crate::Result<()> {
    let keys: Vec<M::Key> = parents.iter().map(&key).collect::<crate::Result<_>>()?;
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

/// A get of a related item, by a key made with a key template: a many-to-one or
/// one-to-one accessor, or a back reference. A back reference whose attribute does not
/// have the key template's shape resolves to `Ok(None)` without a request; a key whose
/// template refused a value resolves to that error without a request.
#[must_use = "a request does nothing until it is awaited"]
pub enum GetRelated<'a, M: crate::Model> {
    /// The key was found: a get.
    Get(crate::ops::GetItem<'a, M>),
    /// No key: nothing to read.
    Missing,
    /// The key template refused a value ([`Error::InvalidKey`](crate::Error::InvalidKey)
    /// with [`KeyProblem::TemplateSeparator`]): nothing to send.
    Refused(crate::Error),
}

impl<M: crate::Model> GetRelated<'_, M> {
    /// Asks for a strongly consistent read (eventually consistent by default).
    pub fn consistent_read(self, consistent: bool) -> Self {
        match self {
            GetRelated::Get(get) => GetRelated::Get(get.consistent_read(consistent)),
            other => other,
        }
    }

    /// Sends the request, if there is one.
    pub async fn send(self) -> crate::Result<Option<M>> {
        std::future::IntoFuture::into_future(self).await
    }
}

impl<'a, M: crate::Model> std::future::IntoFuture for GetRelated<'a, M> {
    type Output = crate::Result<Option<M>>;
    type IntoFuture = futures::future::BoxFuture<'a, crate::Result<Option<M>>>;

    fn into_future(self) -> Self::IntoFuture {
        match self {
            GetRelated::Get(get) => get.into_future(),
            GetRelated::Missing => Box::pin(async { Ok(None) }),
            GetRelated::Refused(err) => Box::pin(async { Err(err) }),
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
pub async fn get_or_create<M: crate::Model + Default>(db: &crate::Db, key: M::Key) -> crate::Result<M> {
    if let Some(found) = crate::ops::GetItem::<M>::new(db, key.clone())
        .consistent_read(true)
        .await?
    {
        return Ok(found);
    }
    let mut item = crate::model::model_to_item(&M::default())?;
    item.extend(crate::item::key_item(M::SCHEMA, &key)?);
    let created: M = crate::model::model_from_item(item)?;
    // Someone else may create (and delete) the item at the same time: theirs stands when
    // it is there; a few rounds settle such a race, which then reports the last refusal.
    let mut rounds = 0;
    loop {
        match crate::ops::PutItem::new(db, &created).unique().await {
            Ok(()) => return Ok(created),
            Err(err @ crate::Error::AlreadyExists { .. }) => {
                let found = crate::ops::GetItem::<M>::new(db, key.clone())
                    .consistent_read(true)
                    .await?;
                if let Some(found) = found {
                    return Ok(found);
                }
                rounds += 1;
                if rounds == 3 {
                    return Err(err);
                }
            }
            Err(err) => return Err(err),
        }
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

    use proptest::prelude::*;
    use TemplatePart::{Field, Text};

    const FORUM_THREAD: [TemplatePart; 3] = [Field("forum_name"), Text("\n"), Field("subject")];

    fn format(parts: &[TemplatePart], values: &[String]) -> crate::Result<String> {
        let values: Vec<&dyn fmt::Display> = values.iter().map(|v| v as &dyn fmt::Display).collect();
        format_template("forum_thread", parts, &values)
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    fn refused_field(result: crate::Result<String>) -> &'static str {
        match result {
            Err(crate::Error::InvalidKey {
                attribute,
                problem: KeyProblem::TemplateSeparator { field },
            }) if attribute == "forum_thread" => field,
            other => panic!("expected a refused template value, got {other:?}"),
        }
    }

    #[test]
    fn colliding_keys_are_refused() {
        // ("a\nb", "c") and ("a", "b\nc") would both be "a\nb\nc".
        let err = format(&FORUM_THREAD, &strings(&["a\nb", "c"]));
        assert_eq!(refused_field(err), "forum_name");
        let err = format(&FORUM_THREAD, &strings(&["a\nb", "c"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid key attribute `forum_thread`: the value of field `forum_name` contains the key \
             template's separator text, which would make the key ambiguous"
        );
        // The field that ends the template takes the rest, so it accepts anything, and
        // the key reads back into its own values.
        let key = format(&FORUM_THREAD, &strings(&["a", "b\nc"])).unwrap();
        assert_eq!(key, "a\nb\nc");
        assert_eq!(parse_template(&FORUM_THREAD, &key), Some(strings(&["a", "b\nc"])));
    }

    #[test]
    fn values_that_would_complete_the_separator_are_refused() {
        let hashes = [Field("a"), Text("##"), Field("b")];
        // "a#" then "##" is "a###": the first "##" starts inside the value.
        assert_eq!(refused_field(format(&hashes, &strings(&["a#", "x"]))), "a");
        assert_eq!(refused_field(format(&hashes, &strings(&["a##b", "x"]))), "a");
        let key = format(&hashes, &strings(&["a", "#x#"])).unwrap();
        assert_eq!(parse_template(&hashes, &key), Some(strings(&["a", "#x#"])));
        // A literal that ends the template still follows its field.
        let suffix = [Field("id"), Text("#")];
        assert_eq!(refused_field(format(&suffix, &strings(&["a#b"]))), "id");
        assert_eq!(format(&suffix, &strings(&["ab"])).unwrap(), "ab#");
        // A prefix does not follow any field.
        let prefixed = [Text("USER#"), Field("name")];
        assert_eq!(format(&prefixed, &strings(&["ann#USER#"])).unwrap(), "USER#ann#USER#");
        // Two fields with nothing between them: the first reads back empty, so only an
        // empty first value is unambiguous.
        let adjacent = [Field("a"), Field("b")];
        assert_eq!(refused_field(format(&adjacent, &strings(&["x", "y"]))), "a");
        assert_eq!(format(&adjacent, &strings(&["", "xy"])).unwrap(), "xy");
        assert_eq!(parse_template(&adjacent, "xy"), Some(strings(&["", "xy"])));
        // Values are formatted with `Display`.
        let numbered = [Field("forum"), Text("#"), Field("n")];
        assert_eq!(format_template("k", &numbered, &[&"rust", &7u32]).unwrap(), "rust#7");
    }

    /// Key templates with literal separators, some of which overlap themselves.
    fn template() -> impl Strategy<Value = Vec<TemplatePart>> {
        let sep = || prop::sample::select(vec!["\n", "#", "##", "USER#", "aba", "#!#"]);
        prop_oneof![
            sep().prop_map(|s| vec![Field("a"), Text(s), Field("b")]),
            sep().prop_map(|s| vec![Text(s), Field("a")]),
            sep().prop_map(|s| vec![Field("a"), Text(s)]),
            (sep(), sep()).prop_map(|(s, t)| vec![Text(t), Field("a"), Text(s), Field("b"), Text(t), Field("c")]),
            (sep(), sep()).prop_map(|(s, t)| vec![Field("a"), Text(s), Field("b"), Text(t)]),
            Just(vec![Field("a"), Field("b")]),
            Just(vec![Field("a")]),
        ]
    }

    /// Strings made of pieces of the separators (so that collisions are likely), or any.
    fn value() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec!["", "#", "##", "\n", "USER#", "U", "a", "b", "ab", "!", "x"]);
        prop_oneof![
            3 => prop::collection::vec(piece, 0..5).prop_map(|p| p.concat()),
            1 => any::<String>(),
        ]
    }

    /// A template and two value tuples for it.
    fn case() -> impl Strategy<Value = (Vec<TemplatePart>, Vec<String>, Vec<String>)> {
        template().prop_flat_map(|parts| {
            let n = parts.iter().filter(|p| matches!(p, Field(_))).count();
            (
                Just(parts),
                prop::collection::vec(value(), n),
                prop::collection::vec(value(), n),
            )
        })
    }

    /// The template's text with the values in place, unchecked.
    fn concatenated(parts: &[TemplatePart], values: &[String]) -> String {
        let mut values = values.iter();
        parts
            .iter()
            .map(|p| match p {
                Text(t) => (*t).to_owned(),
                Field(_) => values.next().unwrap().clone(),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every accepted key parses back into exactly its values, so accepted keys never
        /// collide; and a value is refused exactly when its key would not parse back.
        #[test]
        fn accepted_keys_parse_back_and_never_collide((parts, v, w) in case()) {
            let (kv, kw) = (format(&parts, &v), format(&parts, &w));
            for (values, key) in [(&v, &kv), (&w, &kw)] {
                let plain = concatenated(&parts, values);
                let parses_back = parse_template(&parts, &plain).as_ref() == Some(values);
                prop_assert_eq!(key.is_ok(), parses_back, "{:?} {:?}", parts, values);
                if let Ok(key) = key {
                    prop_assert_eq!(key, &plain);
                    let parsed = parse_template(&parts, key);
                    prop_assert_eq!(parsed.as_ref(), Some(values));
                } else {
                    refused_field(format(&parts, values));
                }
            }
            if let (Ok(kv), Ok(kw)) = (&kv, &kw) {
                prop_assert_eq!(kv == kw, v == w, "{:?}: {:?} and {:?}", parts, v, w);
            }
        }

        /// Whatever a stored attribute holds, the values it parses into format back into
        /// it: a back reference finds the one parent whose key it is.
        #[test]
        fn parsed_values_format_back((parts, v, w) in case()) {
            for text in [concatenated(&parts, &v), v.concat(), w.concat()] {
                if let Some(values) = parse_template(&parts, &text) {
                    prop_assert_eq!(format(&parts, &values).ok(), Some(text));
                }
            }
        }
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
