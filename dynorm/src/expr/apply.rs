//! Update actions applied to an item here, as DynamoDB would apply them: what an
//! instance's update validates before it is sent.

use aws_sdk_dynamodb::types::AttributeValue;

use super::path::Segment;
use super::update::Action;
use crate::value::{normalize_number, Item};

/// Applies `actions` to `item` as DynamoDB applies one update expression, as far as
/// their effect can be computed from the item alone. Paths of one update never overlap
/// (refused when the update is rendered), so the actions are independent, except list
/// elements removed by index, which refer to the positions before the update: they are
/// removed last, highest index first.
///
/// An action whose effect cannot be computed is left out, and DynamoDB decides it: a path
/// through an attribute the item lacks or that is no map or list (DynamoDB refuses those,
/// unless the stored item has what this one lacks), arithmetic on an attribute that is no
/// number, a set operation on another type. Says how many actions were left out.
pub(crate) fn apply(item: &mut Item, actions: &[Action]) -> usize {
    let mut left_out = 0;
    let mut removed_elements: Vec<&[Segment]> = Vec::new();
    for action in actions {
        if let Action::Remove(path) = action {
            if let Some(Segment::Index(_)) = path.last() {
                removed_elements.push(path);
                continue;
            }
        }
        if apply_one(item, action).is_none() {
            left_out += 1;
        }
    }
    removed_elements.sort_by_key(|path| std::cmp::Reverse(last_index(path)));
    for path in removed_elements {
        if let Some((mut parent, last)) = parent(item, path) {
            parent.remove(last);
        } else {
            left_out += 1;
        }
    }
    left_out
}

fn last_index(path: &[Segment]) -> usize {
    match path.last() {
        Some(Segment::Index(i)) => *i,
        _ => 0,
    }
}

/// Applies one action; `None` when its effect cannot be computed.
fn apply_one(item: &mut Item, action: &Action) -> Option<()> {
    let (mut parent, last) = parent(item, action.segments())?;
    match action {
        Action::Set(_, value) => parent.put(last, value.clone()),
        Action::SetIfNotExists(_, value) => {
            if parent.get(last).is_none() {
                parent.put(last, value.clone());
            }
        }
        Action::Increment(_, by, negative) => {
            let AttributeValue::N(by) = by else { return None };
            let sum = match parent.get(last) {
                None => add_numbers("0", by, *negative)?,
                Some(AttributeValue::N(current)) => add_numbers(current, by, *negative)?,
                Some(_) => return None,
            };
            parent.put(last, AttributeValue::N(sum));
        }
        Action::Append(_, AttributeValue::L(items), prepend) => {
            let current = match parent.get(last) {
                None => Vec::new(),
                Some(AttributeValue::L(list)) => list.clone(),
                Some(_) => return None,
            };
            let list = if *prepend {
                items.iter().cloned().chain(current).collect()
            } else {
                current.into_iter().chain(items.iter().cloned()).collect()
            };
            parent.put(last, AttributeValue::L(list));
        }
        Action::Append(..) => return None,
        Action::Remove(_) => parent.remove(last),
        Action::Add(_, AttributeValue::N(n)) => {
            let sum = match parent.get(last) {
                None => n.clone(),
                Some(AttributeValue::N(current)) => add_numbers(current, n, false)?,
                Some(_) => return None,
            };
            parent.put(last, AttributeValue::N(sum));
        }
        Action::Add(_, elements) => {
            let set = match parent.get(last) {
                None => elements.clone(),
                Some(current) => union(current, elements)?,
            };
            parent.put(last, set);
        }
        Action::Delete(_, elements) => match parent.get(last) {
            None => {}
            Some(current) => match difference(current, elements)? {
                Some(set) => parent.put(last, set),
                // DynamoDB removes a set that loses its last element.
                None => parent.remove(last),
            },
        },
    }
    Some(())
}

/// The map or list holding the attribute a path names.
enum Parent<'a> {
    Map(&'a mut Item),
    List(&'a mut Vec<AttributeValue>),
}

/// The container of the attribute at `path`, and the path's last step; `None` when a
/// step is missing or is no map or list.
fn parent<'a, 'p>(item: &'a mut Item, path: &'p [Segment]) -> Option<(Parent<'a>, &'p Segment)> {
    let (last, steps) = path.split_last()?;
    let mut parent = Parent::Map(item);
    for step in steps {
        let next = match (parent, step) {
            (Parent::Map(map), Segment::Name(name)) => map.get_mut(name.as_ref())?,
            (Parent::List(list), Segment::Index(i)) => list.get_mut(*i)?,
            _ => return None,
        };
        parent = match next {
            AttributeValue::M(map) => Parent::Map(map),
            AttributeValue::L(list) => Parent::List(list),
            _ => return None,
        };
    }
    Some((parent, last))
}

impl Parent<'_> {
    fn get(&self, step: &Segment) -> Option<&AttributeValue> {
        match (self, step) {
            (Parent::Map(map), Segment::Name(name)) => map.get(name.as_ref()),
            (Parent::List(list), Segment::Index(i)) => list.get(*i),
            _ => None,
        }
    }

    /// Sets the attribute; a list index past the end appends, as in DynamoDB.
    fn put(&mut self, step: &Segment, value: AttributeValue) {
        match (self, step) {
            (Parent::Map(map), Segment::Name(name)) => {
                map.insert(name.to_string(), value);
            }
            (Parent::List(list), Segment::Index(i)) => match list.get_mut(*i) {
                Some(slot) => *slot = value,
                None => list.push(value),
            },
            _ => {}
        }
    }

    fn remove(&mut self, step: &Segment) {
        match (self, step) {
            (Parent::Map(map), Segment::Name(name)) => {
                map.remove(name.as_ref());
            }
            (Parent::List(list), Segment::Index(i)) if *i < list.len() => {
                list.remove(*i);
            }
            _ => {}
        }
    }
}

/// The elements of `current` and `added`, sets of one type.
fn union(current: &AttributeValue, added: &AttributeValue) -> Option<AttributeValue> {
    Some(match (current, added) {
        (AttributeValue::Ss(a), AttributeValue::Ss(b)) => AttributeValue::Ss(merged(a, b, String::clone)),
        (AttributeValue::Ns(a), AttributeValue::Ns(b)) => AttributeValue::Ns(merged(a, b, |n| normalize_number(n))),
        (AttributeValue::Bs(a), AttributeValue::Bs(b)) => AttributeValue::Bs(merged(a, b, |b| b.as_ref().to_vec())),
        _ => return None,
    })
}

fn merged<T: Clone, K: PartialEq>(a: &[T], b: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
    let mut out = a.to_vec();
    for element in b {
        if !out.iter().any(|e| key(e) == key(element)) {
            out.push(element.clone());
        }
    }
    out
}

/// The elements of `current` not in `removed`, sets of one type: `Some(None)` when none
/// is left.
fn difference(current: &AttributeValue, removed: &AttributeValue) -> Option<Option<AttributeValue>> {
    fn keep<T: Clone, K: PartialEq>(a: &[T], b: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
        a.iter()
            .filter(|e| !b.iter().any(|r| key(r) == key(e)))
            .cloned()
            .collect()
    }
    let set = match (current, removed) {
        (AttributeValue::Ss(a), AttributeValue::Ss(b)) => AttributeValue::Ss(keep(a, b, String::clone)),
        (AttributeValue::Ns(a), AttributeValue::Ns(b)) => AttributeValue::Ns(keep(a, b, |n| normalize_number(n))),
        (AttributeValue::Bs(a), AttributeValue::Bs(b)) => AttributeValue::Bs(keep(a, b, |b| b.as_ref().to_vec())),
        _ => return None,
    };
    let empty = match &set {
        AttributeValue::Ss(v) | AttributeValue::Ns(v) => v.is_empty(),
        AttributeValue::Bs(v) => v.is_empty(),
        _ => false,
    };
    Some((!empty).then_some(set))
}

/// `a + b` (or `a - b`), exactly when both fit a 128-bit mantissa with a common scale,
/// else in floating point; `None` for what is no finite number.
fn add_numbers(a: &str, b: &str, subtract: bool) -> Option<String> {
    if let (Some(x), Some(y)) = (Fixed::parse(a), Fixed::parse(b)) {
        if let Some(sum) = x.add(y, subtract) {
            return Some(sum.to_string());
        }
    }
    let (x, y) = (a.parse::<f64>().ok()?, b.parse::<f64>().ok()?);
    let sum = if subtract { x - y } else { x + y };
    sum.is_finite().then(|| sum.to_string())
}

/// A decimal `mantissa × 10^-scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Fixed {
    mantissa: i128,
    scale: u32,
}

/// The largest scale kept: 10^38 still fits an i128.
const MAX_SCALE: u32 = 38;

impl Fixed {
    fn parse(n: &str) -> Option<Fixed> {
        let (mut mantissa, scale) = crate::value::Decimal::parse(n)?.mantissa_and_scale()?;
        let scale = if scale < 0 {
            mantissa = mantissa.checked_mul(10i128.checked_pow(u32::try_from(-scale).ok()?)?)?;
            0
        } else {
            u32::try_from(scale).ok().filter(|s| *s <= MAX_SCALE)?
        };
        Some(Fixed { mantissa, scale })
    }

    fn rescaled(self, scale: u32) -> Option<i128> {
        self.mantissa.checked_mul(10i128.checked_pow(scale - self.scale)?)
    }

    fn add(self, other: Fixed, subtract: bool) -> Option<Fixed> {
        let scale = self.scale.max(other.scale);
        let (a, b) = (self.rescaled(scale)?, other.rescaled(scale)?);
        let mantissa = if subtract { a.checked_sub(b)? } else { a.checked_add(b)? };
        Some(Fixed { mantissa, scale })
    }
}

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        let frac_part = frac_part.trim_end_matches('0');
        if self.mantissa < 0 {
            f.write_str("-")?;
        }
        f.write_str(int_part)?;
        if !frac_part.is_empty() {
            write!(f, ".{frac_part}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> Segment {
        Segment::Name(n.to_owned().into())
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.into())
    }

    #[test]
    fn numbers_add_exactly() {
        assert_eq!(add_numbers("0.1", "0.2", false).as_deref(), Some("0.3"));
        assert_eq!(add_numbers("5", "7", true).as_deref(), Some("-2"));
        assert_eq!(add_numbers("-0.05", "0.05", false).as_deref(), Some("0"));
        assert_eq!(add_numbers("1.5e2", "1", false).as_deref(), Some("151"));
        assert_eq!(
            add_numbers("18446744073709551615", "1", false).as_deref(),
            Some("18446744073709551616")
        );
        assert_eq!(add_numbers("1e200", "1", false).as_deref().map(str::len), Some(201));
        assert_eq!(add_numbers("NaN", "1", false), None);
        assert_eq!(add_numbers("1", "x", false), None);
        // Beyond an i128 mantissa: floating point.
        assert!(add_numbers("1e-100", "1", false).is_some());
    }

    #[test]
    fn actions_apply_as_dynamodb_would() {
        let mut item: Item = [
            ("title".to_owned(), s("Dune")),
            ("views".to_owned(), n("41")),
            ("tags".to_owned(), AttributeValue::Ss(vec!["a".into(), "b".into()])),
            (
                "lines".to_owned(),
                AttributeValue::L(vec![s("0"), s("1"), s("2"), s("3")]),
            ),
            (
                "address".to_owned(),
                AttributeValue::M([("city".to_owned(), s("Paris"))].into_iter().collect()),
            ),
        ]
        .into_iter()
        .collect();
        let actions = vec![
            Action::Set(vec![name("title")], s("")),
            Action::SetIfNotExists(vec![name("note")], s("new")),
            Action::SetIfNotExists(vec![name("address"), name("city")], s("Lyon")),
            Action::Increment(vec![name("views")], n("1"), false),
            Action::Increment(vec![name("absent")], n("2"), true),
            Action::Add(vec![name("tags")], AttributeValue::Ss(vec!["b".into(), "c".into()])),
            Action::Delete(vec![name("gone")], AttributeValue::Ss(vec!["x".into()])),
            Action::Remove(vec![name("lines"), Segment::Index(1)]),
            Action::Remove(vec![name("lines"), Segment::Index(3)]),
            Action::Set(vec![name("lines"), Segment::Index(9)], s("appended")),
            // Not computable: left out.
            Action::Set(vec![name("missing"), name("x")], s("?")),
            Action::Increment(vec![name("title2")], n("1"), false),
        ];
        item.insert("title2".to_owned(), s("not a number"));
        assert_eq!(apply(&mut item, &actions), 2);
        assert_eq!(item["title"], s(""));
        assert_eq!(item["note"], s("new"));
        assert_eq!(item["views"], n("42"));
        assert_eq!(item["absent"], n("-2"));
        assert_eq!(
            item["tags"],
            AttributeValue::Ss(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(item["lines"], AttributeValue::L(vec![s("0"), s("2"), s("appended")]));
        let AttributeValue::M(address) = &item["address"] else {
            panic!("a map")
        };
        assert_eq!(address["city"], s("Paris"));
        assert!(!item.contains_key("missing") && !item.contains_key("gone"));

        // A set that loses its last element is removed; lists append and prepend.
        let actions = vec![
            Action::Delete(
                vec![name("tags")],
                AttributeValue::Ss(vec!["a".into(), "b".into(), "c".into()]),
            ),
            Action::Append(vec![name("lines")], AttributeValue::L(vec![s("z")]), true),
            Action::Append(vec![name("new_list")], AttributeValue::L(vec![s("y")]), false),
            Action::Add(vec![name("views")], n("-2.5")),
        ];
        assert_eq!(apply(&mut item, &actions), 0);
        assert!(!item.contains_key("tags"));
        assert_eq!(
            item["lines"],
            AttributeValue::L(vec![s("z"), s("0"), s("2"), s("appended")])
        );
        assert_eq!(item["new_list"], AttributeValue::L(vec![s("y")]));
        assert_eq!(item["views"], n("39.5"));
    }
}
