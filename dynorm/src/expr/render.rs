//! Rendering conditions and updates into expression text with placeholders.
//!
//! Every attribute name becomes `#n<i>` and every value `:v<i>`; expression text holds
//! only placeholders, keywords and punctuation. Placeholders are made as they are used,
//! so a request never carries an unused one (which DynamoDB rejects).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::condition::{Condition, Node, Operand};
use super::path::{display_segments, Segment};
use super::update::{Action, Update};
use crate::item::check_expression_value;
use crate::{Error, Result};

/// DynamoDB's limit on the number of values in one `IN`.
const MAX_IN_VALUES: usize = 100;
/// DynamoDB's limit on the length of one expression.
const MAX_EXPRESSION_LEN: usize = 4096;

pub(crate) fn within_limit(text: String) -> Result<String> {
    if text.len() > MAX_EXPRESSION_LEN {
        return Err(Error::InvalidExpression(format!(
            "the expression is {} bytes, over DynamoDB's limit of {MAX_EXPRESSION_LEN}",
            text.len()
        )));
    }
    Ok(text)
}

/// A rendered expression with its placeholders, for use with the raw SDK client
/// (`filter_expression`, `condition_expression`, `update_expression`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Expression {
    /// The expression text: placeholders, keywords and punctuation only.
    pub text: String,
    /// `ExpressionAttributeNames`: placeholder to attribute name.
    pub names: HashMap<String, String>,
    /// `ExpressionAttributeValues`: placeholder to value.
    pub values: HashMap<String, AttributeValue>,
}

impl Expression {
    fn new(text: String, placeholders: Placeholders) -> Self {
        let (names, values) = placeholders.into_maps();
        Expression {
            text,
            names: names.unwrap_or_default(),
            values: values.unwrap_or_default(),
        }
    }
}

impl<R> Condition<R> {
    /// Renders the condition for a raw SDK request. Fails as a request would: on a value
    /// that cannot be encoded or an `IN` with no values.
    pub fn build(self) -> Result<Expression> {
        let mut placeholders = Placeholders::default();
        let text = placeholders.condition(self)?;
        Ok(Expression::new(text, placeholders))
    }
}

impl<R> Update<R> {
    /// Renders the update for a raw SDK request. Fails as a request would: on an empty
    /// update, overlapping paths, or a value DynamoDB would reject.
    pub fn build(self) -> Result<Expression> {
        let mut placeholders = Placeholders::default();
        let text = placeholders.update(self)?;
        Ok(Expression::new(text, placeholders))
    }
}

/// `ExpressionAttributeNames`: placeholder to name.
pub(crate) type Names = HashMap<String, String>;
/// `ExpressionAttributeValues`: placeholder to value.
pub(crate) type Values = HashMap<String, AttributeValue>;

/// The placeholders of one request, shared by its expressions.
#[derive(Default, Debug)]
pub(crate) struct Placeholders {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Placeholders {
    /// The placeholder for an attribute name, reused when the name repeats.
    pub(crate) fn name(&mut self, name: &str) -> String {
        if let Some(placeholder) = self.names.get(name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(name.to_owned(), placeholder.clone());
        placeholder
    }

    /// A placeholder for a value.
    pub(crate) fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// A value bound for an item attribute, checked as DynamoDB would check it.
    fn checked_value(&mut self, path: &[Segment], value: AttributeValue) -> Result<String> {
        // The path is only written out for the error.
        if check_expression_value("", path.len(), &value).is_err() {
            check_expression_value(&display_segments(path), path.len(), &value)?;
        }
        Ok(self.value(value))
    }

    pub(crate) fn path(&mut self, segments: &[Segment]) -> Result<String> {
        if segments.is_empty() {
            return Err(Error::InvalidExpression("an attribute path cannot be empty".into()));
        }
        let mut out = String::new();
        for (i, segment) in segments.iter().enumerate() {
            match segment {
                Segment::Name(name) => {
                    if name.is_empty() {
                        return Err(Error::InvalidExpression(format!(
                            "empty attribute name in path `{}`",
                            display_segments(segments)
                        )));
                    }
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(&self.name(name));
                }
                Segment::Index(index) => {
                    if i == 0 {
                        return Err(Error::InvalidExpression("a path cannot start with a list index".into()));
                    }
                    out.push_str(&format!("[{index}]"));
                }
            }
        }
        Ok(out)
    }

    /// Both maps, moved out.
    pub(crate) fn into_maps(self) -> (Option<Names>, Option<Values>) {
        let names = (!self.names.is_empty()).then(|| self.names.into_iter().map(|(n, p)| (p, n)).collect());
        let values = (!self.values.is_empty()).then_some(self.values);
        (names, values)
    }

    /// Renders a condition.
    pub(crate) fn condition<R>(&mut self, condition: Condition<R>) -> Result<String> {
        if let Some(err) = condition.errors.into_iter().next() {
            return Err(Error::Serialization(err));
        }
        within_limit(self.node(condition.node)?)
    }

    fn operand(&mut self, operand: Operand) -> Result<String> {
        match operand {
            Operand::Path(p) => self.path(&p),
            Operand::Size(p) => Ok(format!("size({})", self.path(&p)?)),
            Operand::Value(v) => Ok(self.value(v)),
        }
    }

    fn node(&mut self, node: Node) -> Result<String> {
        Ok(match node {
            Node::Compare(lhs, op, rhs) => {
                format!("{} {} {}", self.operand(lhs)?, op.symbol(), self.operand(rhs)?)
            }
            Node::Between(subject, low, high) => format!(
                "{} BETWEEN {} AND {}",
                self.operand(subject)?,
                self.operand(low)?,
                self.operand(high)?
            ),
            Node::In(subject, values) => {
                if values.is_empty() || values.len() > MAX_IN_VALUES {
                    return Err(Error::InvalidExpression(format!(
                        "IN takes 1 to {MAX_IN_VALUES} values, not {}",
                        values.len()
                    )));
                }
                let subject = self.operand(subject)?;
                let values = values
                    .into_iter()
                    .map(|v| self.operand(v))
                    .collect::<Result<Vec<_>>>()?;
                format!("{subject} IN ({})", values.join(", "))
            }
            Node::BeginsWith(path, prefix) => {
                format!("begins_with({}, {})", self.path(&path)?, self.operand(prefix)?)
            }
            Node::Contains(path, element) => {
                format!("contains({}, {})", self.path(&path)?, self.operand(element)?)
            }
            Node::Exists(path) => format!("attribute_exists({})", self.path(&path)?),
            Node::NotExists(path) => format!("attribute_not_exists({})", self.path(&path)?),
            Node::Type(path, ty) => {
                let path = self.path(&path)?;
                let ty = self.value(AttributeValue::S(ty.as_str().to_owned()));
                format!("attribute_type({path}, {ty})")
            }
            Node::And(a, b) => format!("({}) AND ({})", self.node(*a)?, self.node(*b)?),
            Node::Or(a, b) => format!("({}) OR ({})", self.node(*a)?, self.node(*b)?),
            Node::Not(a) => format!("NOT ({})", self.node(*a)?),
        })
    }

    /// Renders an update's actions into one update expression. Fails on an empty update
    /// and on overlapping paths.
    pub(crate) fn update<R>(&mut self, update: Update<R>) -> Result<String> {
        if let Some(err) = update.errors.into_iter().next() {
            return Err(Error::Serialization(err));
        }
        self.actions(update.actions)
    }

    pub(crate) fn actions(&mut self, actions: Vec<Action>) -> Result<String> {
        if actions.is_empty() {
            return Err(Error::InvalidExpression("an update needs at least one action".into()));
        }
        check_overlaps(&actions)?;
        let (mut set, mut remove, mut add, mut delete) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for action in actions {
            match action {
                Action::Set(path, value) => {
                    let v = self.checked_value(&path, value)?;
                    set.push(format!("{} = {v}", self.path(&path)?));
                }
                Action::SetIfNotExists(path, value) => {
                    let v = self.checked_value(&path, value)?;
                    let p = self.path(&path)?;
                    set.push(format!("{p} = if_not_exists({p}, {v})"));
                }
                Action::Increment(path, by, negative) => {
                    let by = self.checked_value(&path, by)?;
                    let zero = self.value(AttributeValue::N("0".into()));
                    let p = self.path(&path)?;
                    let sign = if negative { '-' } else { '+' };
                    set.push(format!("{p} = if_not_exists({p}, {zero}) {sign} {by}"));
                }
                Action::Append(path, list, prepend) => {
                    let list = self.checked_value(&path, list)?;
                    let empty = self.value(AttributeValue::L(Vec::new()));
                    let p = self.path(&path)?;
                    let current = format!("if_not_exists({p}, {empty})");
                    let (first, second) = if prepend { (list, current) } else { (current, list) };
                    set.push(format!("{p} = list_append({first}, {second})"));
                }
                Action::Remove(path) => remove.push(self.path(&path)?),
                Action::Add(path, value) => {
                    let v = self.checked_value(&path, value)?;
                    add.push(format!("{} {v}", self.path(&path)?));
                }
                Action::Delete(path, value) => {
                    let v = self.checked_value(&path, value)?;
                    delete.push(format!("{} {v}", self.path(&path)?));
                }
            }
        }
        let mut clauses = Vec::with_capacity(4);
        for (keyword, parts) in [("SET", set), ("REMOVE", remove), ("ADD", add), ("DELETE", delete)] {
            if !parts.is_empty() {
                clauses.push(format!("{keyword} {}", parts.join(", ")));
            }
        }
        within_limit(clauses.join(" "))
    }
}

/// DynamoDB rejects an update in which one path equals another or lies inside it.
fn check_overlaps(actions: &[Action]) -> Result<()> {
    for (i, a) in actions.iter().enumerate() {
        for b in &actions[i + 1..] {
            let (a, b) = (a.segments(), b.segments());
            let shorter = a.len().min(b.len());
            if a[..shorter] == b[..shorter] {
                return Err(Error::InvalidExpression(format!(
                    "two update actions on overlapping paths `{}` and `{}`",
                    display_segments(a),
                    display_segments(b)
                )));
            }
        }
    }
    Ok(())
}
