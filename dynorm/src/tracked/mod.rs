//! Partial saves: an instance that remembers what was loaded, and saves only what
//! changed, as the smallest nested paths.

mod diff;
mod same;

use std::collections::HashSet;
use std::ops::{Deref, DerefMut};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::expr::{Action, Path, Segment, Update};
use crate::item::check_item;
use crate::model::{model_from_item as from_item, model_to_item as to_item};
use crate::ops::update::OnTracked;
use crate::ops::{SaveItem, UpdateItem, WriteInput};
use crate::schema::TableSchema;
use crate::value::value_size;
use crate::{Db, Error, Item, Model, Result};
use diff::{changed_attributes, is_managed, Change};

/// A model instance that remembers the item it was loaded as, so that saving it sends
/// only what changed.
///
/// Get one with [`GetItem::tracked`](crate::ops::GetItem::tracked), or wrap an
/// instance with [`Tracked::loaded`] (read elsewhere) or [`Tracked::new`] (not stored
/// yet). It dereferences to the model, so fields are changed in place:
///
/// ```no_run
/// # use dynorm::{Db, DynaModel, Document};
/// # #[derive(Document, serde::Serialize, serde::Deserialize, Clone)]
/// # struct Address { city: String, zip: String }
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "users", hash_key = "id")]
/// # struct User { id: String, name: String, address: Address, nickname: Option<String> }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let mut user = User::get(&db, "u1").tracked().await?.expect("exists");
/// user.address.city = "Lyon".into();
/// user.nickname = None;
/// // One UpdateItem: SET address.city, REMOVE nickname (or SET it to NULL when the
/// // field is serialized as null). `address.zip` and `name` are not sent.
/// user.save(&db).await?;
/// # Ok(()) }
/// ```
///
/// What a save sends:
/// - SET for each changed leaf (a changed map entry or list element, not the whole
///   map or list), REMOVE for attributes and map entries that disappeared;
/// - for a set whose elements were only added (or only removed), ADD (or DELETE) of
///   those elements, so concurrent additions by others survive;
/// - nothing at all when nothing changed;
/// - a condition that the item still exists, and with a `#[dynorm(version)]` field that
///   its version is the loaded one (then the next version is stored);
/// - `#[dynorm(updated_at)]` set to now; `#[dynorm(created_at)]` never overwritten.
///
/// Attributes the model does not know about are never touched by such an update. When
/// the changes are too many for DynamoDB's 4 KB expression limit (hundreds of changed
/// attributes), the save writes the whole item instead, with the same conditions (the
/// item exists, at the loaded version): that write replaces the stored item, so
/// attributes the model does not describe are not kept.
pub struct Tracked<M> {
    model: M,
    /// The item as last loaded or saved; `None` for an instance not stored yet.
    snapshot: Option<Snapshot>,
    /// An item read at an older schema version: as stored, and as migrated. Its next
    /// save rewrites it (see [`Tracked::from_item`]).
    migrated: Option<Box<(Item, Item)>>,
}

impl<M: Model + std::fmt::Debug> std::fmt::Debug for Tracked<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked")
            .field("model", &self.model)
            .field("stored", &self.snapshot.is_some())
            .finish()
    }
}

impl<M> Deref for Tracked<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.model
    }
}

impl<M> DerefMut for Tracked<M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.model
    }
}

impl<M: Model> Tracked<M> {
    /// Tracks an instance that is not stored yet: its first save writes the whole item
    /// (as `DynaModel::save` does); later saves send only changes.
    pub fn new(model: M) -> Self {
        Tracked {
            model,
            snapshot: None,
            migrated: None,
        }
    }

    /// Tracks an instance as it is stored now (for example one read by a query).
    ///
    /// Prefer [`Tracked::from_item`] when the stored item is at hand: a field filled in
    /// by `#[serde(default)]` is then known to be absent from the table, and is saved
    /// whole rather than by paths inside it that DynamoDB could not update.
    pub fn loaded(model: M) -> Result<Self> {
        let snapshot = Some(Snapshot::new(to_item(&model)?));
        Ok(Tracked {
            model,
            snapshot,
            migrated: None,
        })
    }

    /// Tracks the model decoded from an item as stored.
    /// The model's load hooks run. What they change is saved by the next save: the
    /// snapshot is the item as stored, before `before_load`, and the instance as decoded,
    /// before `after_load`.
    ///
    /// An item stored at an older schema version is migrated first, and its next save
    /// rewrites it at the current version: an update of what differs from the item as
    /// stored, conditioned on each of those attributes still holding what was read (a
    /// concurrent change fails it with `ConditionFailed`, and is never overwritten).
    pub fn from_item(mut item: Item) -> Result<Self> {
        if let Some(version) = M::SCHEMA.schema_version {
            if let Some(entity) = M::SCHEMA.entity {
                crate::template::check_type(M::SCHEMA, entity, &item)?;
            }
            if crate::migrate::version_of(M::SCHEMA, &version, &item)? < version.current {
                let stored = item.clone();
                crate::migrate::migrate::<M>(&mut item)?;
                let model: M = crate::hooks::load(item.clone())?;
                return Ok(Tracked {
                    model,
                    snapshot: None,
                    migrated: Some(Box::new((stored, item))),
                });
            }
        }
        let stored = crate::hooks::enabled::<M>().then(|| item.clone());
        crate::hooks::before_load::<M>(&mut item)?;
        let mut model: M = from_item(item.clone())?;
        let mut snapshot = to_item(&model)?;
        crate::hooks::after_load(&mut model)?;
        prune_item(&mut snapshot, stored.as_ref().unwrap_or(&item));
        Ok(Tracked {
            model,
            snapshot: Some(Snapshot::new(snapshot)),
            migrated: None,
        })
    }

    /// The instance, no longer tracked.
    pub fn into_inner(self) -> M {
        self.model
    }

    /// Whether the instance differs from what was loaded or last saved.
    pub fn is_changed(&self) -> Result<bool> {
        match &self.snapshot {
            None => Ok(true),
            Some(snapshot) => {
                let changes = changed_attributes(&self.model, &snapshot.item)?;
                Ok(!actions(&snapshot.item, &changes).is_empty())
            }
        }
    }

    /// Saves what changed since the instance was loaded or last saved.
    pub fn save<'a>(&'a mut self, db: &'a Db) -> SaveChanges<'a, M> {
        SaveChanges {
            db,
            tracked: self,
            check_version: true,
        }
    }
}

/// Saves a [`Tracked`] instance's changes. Made by [`Tracked::save`].
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct SaveChanges<'a, M: Model> {
    db: &'a Db,
    tracked: &'a mut Tracked<M>,
    check_version: bool,
}

impl<'a, M: Model> SaveChanges<'a, M> {
    /// Saves without checking the `#[dynorm(version)]` field (it is still incremented).
    pub fn skip_version_check(mut self) -> Self {
        self.check_version = false;
        self
    }

    /// The SDK input this save sends, or `None` when nothing changed. Makes no network
    /// call.
    pub fn to_input(self) -> Result<Option<WriteInput>> {
        let tracked = self.tracked;
        if let Some(migrated) = &tracked.migrated {
            return match rewrite(self.db, &tracked.model, migrated)? {
                None => Ok(None),
                Some(input) => Ok(Some(WriteInput::Update(
                    input.build().map_err(crate::ops::build_error)?,
                ))),
            };
        }
        match &tracked.snapshot {
            None => Ok(Some(
                first_save(self.db, &mut tracked.model, self.check_version).to_input()?,
            )),
            Some(snapshot) => match plan(self.db, &mut tracked.model, snapshot, self.check_version)? {
                Plan::Nothing => Ok(None),
                Plan::Changes(update, _) => update.to_input().map(|input| Some(WriteInput::Update(input))),
                Plan::Whole(save) => save.to_input().map(Some),
            },
        }
    }

    /// Sends the save, when there is anything to save. Resolves to whether a request
    /// was sent. The snapshot moves on only once the write succeeded, so a failed or
    /// cancelled save leaves the changes pending.
    pub async fn send(self) -> Result<bool> {
        let tracked = self.tracked;
        if tracked.migrated.is_some() {
            // Rare, and boxed so that the common save's future does not carry its state.
            return Box::pin(send_rewrite(self.db, tracked)).await;
        }
        let Tracked { model, snapshot, .. } = tracked;
        match snapshot {
            None => first_save(self.db, model, self.check_version).await?,
            Some(snap) => match plan(self.db, model, snap, self.check_version)? {
                Plan::Nothing => return Ok(false),
                Plan::Changes(update, pending) => {
                    let mut maintained = None;
                    update
                        .send_planned(|stored| maintained = stored_agrees::<M>(&snap.item, &pending.changes, stored))
                        .await?;
                    if let Some(maintained) = maintained {
                        // What was planned is what is stored: it becomes the snapshot,
                        // and the refreshed instance is not encoded again.
                        snap.apply(pending, maintained);
                        return Ok(true);
                    }
                }
                Plan::Whole(save) => save.await?,
            },
        }
        let table = self.db.table_name::<M>();
        *snapshot = Some(Snapshot::new(crate::ops::after_write(&table, to_item(model))?));
        Ok(true)
    }
}

/// Sends the rewrite of an instance read at an older schema version (see [`rewrite`]),
/// and refreshes it from the item stored.
async fn send_rewrite<M: Model>(db: &Db, tracked: &mut Tracked<M>) -> Result<bool> {
    let Some(migrated) = &tracked.migrated else {
        return Ok(false);
    };
    let table = db.table_name::<M>();
    let Some(input) = rewrite(db, &tracked.model, migrated)? else {
        return Ok(false);
    };
    let mut ticket = db.ticket(crate::budget::Spend::Write).await;
    // Boxed, as every send of the SDK's is: its future is kilobytes.
    let out = Box::pin(
        input
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send_with(db.write_client(false)),
    )
    .await
    .map_err(|e| Error::from_sdk_write(e, &table, false))?;
    ticket.settle(out.consumed_capacity());
    db.record_capacity(out.consumed_capacity());
    let stored = out.attributes.unwrap_or_default();
    crate::ops::after_write(&table, crate::ops::refresh(&mut tracked.model, stored))?;
    crate::hooks::after_save(&tracked.model);
    tracked.migrated = None;
    tracked.snapshot = Some(Snapshot::new(crate::ops::after_write(&table, to_item(&tracked.model))?));
    Ok(true)
}

/// The rewrite of an item read at an older schema version: what differs from the item
/// as stored, conditioned on it being unchanged since it was read.
fn rewrite<M: Model>(
    db: &Db,
    model: &M,
    migrated: &(Item, Item),
) -> Result<Option<aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder>> {
    model.validate()?;
    crate::hooks::before_save(model)?;
    let current = to_item(model)?;
    check_item(M::SCHEMA, &current)?;
    let (stored, after) = migrated;
    let input = crate::migrate::rewrite_input(
        db.table_name::<M>(),
        M::SCHEMA,
        stored,
        &current,
        &|name| crate::migrate::removable::<M>(after, name),
        M::SCHEMA.version_attribute.is_some(),
    )?;
    Ok(input.map(|i| i.set_return_consumed_capacity(db.capacity_mode())))
}

/// The whole-item save of an instance not stored yet.
fn first_save<'a, M: Model>(db: &'a Db, model: &'a mut M, check_version: bool) -> SaveItem<'a, M> {
    let save = SaveItem::new_save(db, model);
    if check_version {
        save
    } else {
        save.skip_version_check()
    }
}

impl<'a, M: Model> std::future::IntoFuture for SaveChanges<'a, M> {
    type Output = Result<bool>;
    type IntoFuture = futures::future::BoxFuture<'a, Result<bool>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// The item as last loaded or saved, and its size as DynamoDB counts it.
struct Snapshot {
    item: Item,
    size: usize,
}

impl Snapshot {
    fn new(item: Item) -> Self {
        let size = crate::value::item_size(&item);
        Snapshot { item, size }
    }

    /// The snapshot after a save that wrote `pending`, with the attributes dynorm
    /// maintains as stored.
    fn apply(&mut self, pending: Pending, maintained: Vec<(&'static str, AttributeValue)>) {
        let mut size = pending.size;
        for change in pending.changes {
            match change.value {
                Some(value) => match self.item.get_mut(change.name.as_ref()) {
                    Some(slot) => *slot = value,
                    None => {
                        self.item.insert(change.name.into_owned(), value);
                    }
                },
                None => {
                    self.item.remove(change.name.as_ref());
                }
            }
        }
        for (name, value) in maintained {
            size += name.len() + value_size(&value);
            if let Some(slot) = self.item.get_mut(name) {
                size -= name.len() + value_size(slot);
                *slot = value;
            }
        }
        self.size = size;
    }
}

/// The changes a save sends, and the size of the item they make.
struct Pending {
    changes: Vec<Change>,
    size: usize,
}

/// What a save of a tracked instance sends.
enum Plan<'a, M: Model> {
    /// Nothing changed.
    Nothing,
    /// The update that brings the stored item to the instance, and the changes it was
    /// planned from.
    Changes(UpdateItem<'a, M, OnTracked<'a, M>>, Pending),
    /// The changes do not fit DynamoDB's 4 KB expression limit (hundreds of changed
    /// attributes): the whole item is written, with the same conditions.
    Whole(SaveItem<'a, M>),
}

/// The save that brings the stored item from `snapshot` to `model`: the instance's
/// fields compared with the snapshot one by one, only those that changed encoded.
fn plan<'a, M: Model>(db: &'a Db, model: &'a mut M, snapshot: &Snapshot, check_version: bool) -> Result<Plan<'a, M>> {
    model.validate()?;
    let schema = M::SCHEMA;
    let changes = changed_attributes(&*model, &snapshot.item)?;
    let size = check_changes(schema, snapshot, &changes)?;
    let actions = actions(&snapshot.item, &changes);
    if actions.is_empty() {
        return Ok(Plan::Nothing);
    }
    let hash: Path<M, String> = Path::unchecked([schema.hash_key.name]);
    let (actions, fits) = fit_expression(actions, |name| {
        changes.iter().find(|c| c.name == name).and_then(|c| c.value.as_ref())
    });
    if !fits {
        // The stored item must still exist, at the loaded version: the same conditions as
        // the update would have had.
        let save = first_save(db, model, check_version).condition(hash.exists());
        return Ok(Plan::Whole(save));
    }
    let mut update = Update::new();
    for action in actions {
        update.push_action(action);
    }
    let request = UpdateItem::for_tracked(db, model, update);
    let request = if check_version {
        request
    } else {
        request.skip_version_check()
    };
    Ok(Plan::Changes(
        request.condition(hash.exists()),
        Pending { changes, size },
    ))
}

/// Checks what a save changes, as the item check would check the whole item (the
/// attributes that did not change were stored as they are): no key attribute changes,
/// every new value is valid, and the item stays within DynamoDB's size limit. Returns
/// the item's size after the save.
fn check_changes(schema: &TableSchema, snapshot: &Snapshot, changes: &[Change]) -> Result<usize> {
    let mut size = snapshot.size;
    for change in changes {
        let name = change.name.as_ref();
        if schema.is_key(name) {
            return Err(Error::InvalidExpression(format!(
                "the key attribute `{name}` of a tracked item changed; a save cannot move an item \
                 (put it under the new key and delete the old one)"
            )));
        }
        if let Some(old) = snapshot.item.get(name) {
            size = size.saturating_sub(name.len() + value_size(old));
        }
        if let Some(new) = &change.value {
            size += crate::item::check_attribute(schema, name, new)?;
        }
    }
    crate::item::check_size(size)
}

/// The smallest actions that turn the snapshot's attributes into the changed ones: the
/// changed values, in name order, then the removed attributes.
fn actions(snapshot: &Item, changes: &[Change]) -> Vec<Action> {
    let mut actions = Vec::new();
    for change in changes {
        let Some(new) = &change.value else { continue };
        let path = vec![Segment::Name(change.name.clone())];
        match snapshot.get(change.name.as_ref()) {
            None => actions.push(Action::Set(path, new.clone())),
            Some(old) => diff_value(path, old, new, &mut actions),
        }
    }
    for change in changes {
        if change.value.is_none() && snapshot.contains_key(change.name.as_ref()) {
            actions.push(Action::Remove(vec![Segment::Name(change.name.clone())]));
        }
    }
    actions
}

/// The attributes dynorm maintains (version, timestamps) as stored after a save, when
/// the stored item agrees with the snapshot and the save's changes on every other
/// attribute the model stores (no other writer changed one); `None` otherwise, and the
/// refreshed instance is encoded for the next snapshot.
fn stored_agrees<M: Model>(
    snapshot: &Item,
    changes: &[Change],
    stored: &Item,
) -> Option<Vec<(&'static str, AttributeValue)>> {
    let schema = M::SCHEMA;
    // With load hooks the refreshed instance may differ from what was stored, and the
    // snapshot must be what it encodes to.
    if schema.attributes.flattened || crate::hooks::enabled::<M>() {
        return None;
    }
    let change = |name: &str| changes.iter().find(|c| c.name == name);
    // Every attribute of the next snapshot holds its value in the stored item; `matched`
    // counts the stored attributes accounted for.
    let mut matched = 0;
    for (name, value) in snapshot {
        if is_managed(schema, name) {
            continue;
        }
        let expected = match change(name) {
            Some(change) => change.value.as_ref(),
            None => Some(value),
        };
        if stored.get(name) != expected {
            return None;
        }
        matched += usize::from(expected.is_some());
    }
    for change in changes {
        if let Some(value) = &change.value {
            if !snapshot.contains_key(change.name.as_ref()) {
                if stored.get(change.name.as_ref()) != Some(value) {
                    return None;
                }
                matched += 1;
            }
        }
    }
    // The attributes dynorm maintains, as stored.
    let mut maintained = Vec::new();
    for name in diff::managed_names(schema) {
        match (snapshot.contains_key(name), stored.get(name)) {
            (true, Some(value)) => {
                maintained.push((name, value.clone()));
                matched += 1;
            }
            // A field the instance left out (`None`) that the table holds.
            (false, Some(_)) => return None,
            (_, None) => {}
        }
    }
    // Attributes the table holds beyond these: those the model does not know are kept
    // by the save, but one of the model's means the instance left out a field (`None`)
    // that another writer stored.
    if matched < stored.len() {
        for name in stored.keys() {
            let kept = match change(name) {
                Some(change) => change.value.is_some(),
                None => snapshot.contains_key(name),
            };
            if !kept && !is_managed(schema, name) && schema.attributes.names.contains(&name.as_str()) {
                return None;
            }
        }
    }
    Some(maintained)
}

/// Drops from `encoded` every map entry that `stored` lacks, so the snapshot says what
/// the table holds: a value that `#[serde(default)]` filled in is absent, and a change to
/// it is saved whole, not by paths inside it.
fn prune_item(encoded: &mut Item, stored: &Item) {
    encoded.retain(|k, _| stored.contains_key(k));
    for (k, v) in encoded.iter_mut() {
        if let Some(s) = stored.get(k) {
            prune(v, s);
        }
    }
}

fn prune(encoded: &mut AttributeValue, stored: &AttributeValue) {
    match (encoded, stored) {
        (AttributeValue::M(encoded), AttributeValue::M(stored)) => prune_item(encoded, stored),
        (AttributeValue::L(encoded), AttributeValue::L(stored)) if encoded.len() == stored.len() => {
            for (e, s) in encoded.iter_mut().zip(stored) {
                prune(e, s);
            }
        }
        _ => {}
    }
}

/// Keeps a save's update expression well under DynamoDB's 4 KB limit: while the
/// estimate is over budget, the top-level attribute with the most actions is set whole.
/// Says whether the actions then fit.
fn fit_expression<'v>(
    mut actions: Vec<Action>,
    whole: impl Fn(&str) -> Option<&'v AttributeValue>,
) -> (Vec<Action>, bool) {
    const BUDGET: usize = 3072;
    // `#n12.#n13[4] = :v20, `: about 7 bytes a segment and 8 for the rest.
    let cost = |a: &Action| 8 + 7 * a.segments().len();
    let over = |actions: &[Action]| actions.iter().map(cost).sum::<usize>() > BUDGET;
    while over(&actions) {
        let mut per_attribute: std::collections::HashMap<&Segment, usize> = std::collections::HashMap::new();
        for action in &actions {
            *per_attribute.entry(&action.segments()[0]).or_default() += 1;
        }
        let Some((busiest, count)) = per_attribute.into_iter().max_by_key(|(_, n)| *n) else {
            break;
        };
        if count == 1 {
            // One action per attribute already: the expression cannot shrink further.
            break;
        }
        let busiest = busiest.clone();
        actions.retain(|a| a.segments()[0] != busiest);
        let Segment::Name(name) = &busiest else { break };
        match whole(name.as_ref()) {
            Some(value) => actions.push(Action::Set(vec![busiest.clone()], value.clone())),
            None => actions.push(Action::Remove(vec![busiest.clone()])),
        }
    }
    let fits = !over(&actions);
    (actions, fits)
}

fn child(path: &[Segment], segment: Segment) -> Vec<Segment> {
    let mut out = Vec::with_capacity(path.len() + 1);
    out.extend_from_slice(path);
    out.push(segment);
    out
}

fn diff_value(path: Vec<Segment>, old: &AttributeValue, new: &AttributeValue, actions: &mut Vec<Action>) {
    if old == new {
        return;
    }
    match (old, new) {
        // An empty map key cannot be a path step; such a map is set whole.
        (AttributeValue::M(a), AttributeValue::M(b)) if !a.keys().chain(b.keys()).any(String::is_empty) => {
            let mut keys: Vec<&String> = b.keys().collect();
            keys.sort();
            for key in keys {
                let at = child(&path, Segment::Name(key.clone().into()));
                match a.get(key) {
                    None => actions.push(Action::Set(at, b[key].clone())),
                    Some(before) => diff_value(at, before, &b[key], actions),
                }
            }
            let mut removed: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
            removed.sort();
            for key in removed {
                actions.push(Action::Remove(child(&path, Segment::Name(key.clone().into()))));
            }
        }
        (AttributeValue::L(a), AttributeValue::L(b)) => {
            for (i, (before, after)) in a.iter().zip(b).enumerate() {
                diff_value(child(&path, Segment::Index(i)), before, after, actions);
            }
            // SET of an index past the end appends; REMOVE of several indexes refers to
            // the positions before the update.
            for (i, after) in b.iter().enumerate().skip(a.len()) {
                actions.push(Action::Set(child(&path, Segment::Index(i)), after.clone()));
            }
            for i in b.len()..a.len() {
                actions.push(Action::Remove(child(&path, Segment::Index(i))));
            }
        }
        (AttributeValue::Ss(a), AttributeValue::Ss(b)) => {
            set_diff(path, a, b, AttributeValue::Ss, new, actions);
        }
        (AttributeValue::Ns(a), AttributeValue::Ns(b)) => {
            set_diff(path, a, b, AttributeValue::Ns, new, actions);
        }
        _ => actions.push(Action::Set(path, new.clone())),
    }
}

/// A set that only gained (or only lost) elements is sent as ADD (or DELETE) of those,
/// which merges with concurrent changes; otherwise it is set whole.
fn set_diff(
    path: Vec<Segment>,
    old: &[String],
    new: &[String],
    make: fn(Vec<String>) -> AttributeValue,
    whole: &AttributeValue,
    actions: &mut Vec<Action>,
) {
    let before: HashSet<&String> = old.iter().collect();
    let after: HashSet<&String> = new.iter().collect();
    let added: Vec<String> = new.iter().filter(|e| !before.contains(e)).cloned().collect();
    let removed: Vec<String> = old.iter().filter(|e| !after.contains(e)).cloned().collect();
    match (added.is_empty(), removed.is_empty()) {
        (true, true) => {}
        (false, true) => actions.push(Action::Add(path, make(added))),
        (true, false) => actions.push(Action::Delete(path, make(removed))),
        (false, false) => actions.push(Action::Set(path, whole.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn render(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|a| {
                let kind = match a {
                    Action::Set(..) => "SET",
                    Action::Remove(..) => "REMOVE",
                    Action::Add(..) => "ADD",
                    Action::Delete(..) => "DELETE",
                    _ => "OTHER",
                };
                format!("{kind} {}", crate::expr::path::display_segments(a.segments()))
            })
            .collect()
    }

    #[test]
    fn nested_changes_are_the_smallest_paths() {
        let old = AttributeValue::M(
            [("city".to_owned(), s("Paris")), ("zip".to_owned(), s("75001"))]
                .into_iter()
                .collect(),
        );
        let new = AttributeValue::M(
            [("city".to_owned(), s("Lyon")), ("zip".to_owned(), s("75001"))]
                .into_iter()
                .collect(),
        );
        let mut actions = Vec::new();
        diff_value(vec![Segment::Name("address".into())], &old, &new, &mut actions);
        assert_eq!(render(&actions), ["SET address.city"]);
    }

    #[test]
    fn lists_grow_and_shrink_by_index() {
        let mut actions = Vec::new();
        let path = vec![Segment::Name("l".into())];
        diff_value(
            path.clone(),
            &AttributeValue::L(vec![s("a"), s("b")]),
            &AttributeValue::L(vec![s("a"), s("c"), s("d")]),
            &mut actions,
        );
        assert_eq!(render(&actions), ["SET l[1]", "SET l[2]"]);
        actions.clear();
        diff_value(
            path,
            &AttributeValue::L(vec![s("a"), s("b"), s("c")]),
            &AttributeValue::L(vec![s("a")]),
            &mut actions,
        );
        assert_eq!(render(&actions), ["REMOVE l[1]", "REMOVE l[2]"]);
    }

    #[test]
    fn sets_add_or_delete_elements() {
        let mut actions = Vec::new();
        let path = vec![Segment::Name("tags".into())];
        let old = AttributeValue::Ss(vec!["a".into()]);
        diff_value(
            path.clone(),
            &old,
            &AttributeValue::Ss(vec!["a".into(), "b".into()]),
            &mut actions,
        );
        diff_value(
            path.clone(),
            &AttributeValue::Ss(vec!["a".into(), "b".into()]),
            &old,
            &mut actions,
        );
        diff_value(path, &old, &AttributeValue::Ss(vec!["b".into()]), &mut actions);
        assert_eq!(render(&actions), ["ADD tags", "DELETE tags", "SET tags"]);
    }
}
