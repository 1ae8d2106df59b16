//! Rendering conditions and updates into expression text with placeholders.
//!
//! Every attribute name becomes `#n<i>` and every value `:v<i>`; expression text holds
//! only placeholders, keywords and punctuation. Placeholders are made as they are used,
//! so a request never carries an unused one (which DynamoDB rejects).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::condition::{Condition, Operand, Term};
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
    /// Each name with its placeholder, in the order they were first used (the `i`th
    /// is `#n{i}`): a request has few, so a scan finds a repeated one faster than a
    /// hash, and the list becomes `ExpressionAttributeNames` without a second map.
    names: Vec<(String, String)>,
    values: HashMap<String, AttributeValue>,
}

/// `prefix` followed by `n` in decimal, as a new string.
fn placeholder(prefix: &str, n: usize) -> String {
    let mut out = String::with_capacity(prefix.len() + 3);
    out.push_str(prefix);
    push_decimal(&mut out, n);
    out
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, n: usize) {
    if n < 10 {
        out.push(char::from(b'0' + n as u8));
    } else {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut n = n;
        while n > 0 {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        // Only ASCII digits were written.
        out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
    }
}

impl Placeholders {
    /// The index of `name`'s placeholder, made when it is new.
    fn name_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.names.iter().position(|(n, _)| n == name) {
            return i;
        }
        let i = self.names.len();
        self.names.push((name.to_owned(), placeholder("#n", i)));
        i
    }

    /// The placeholder for an attribute name, reused when the name repeats.
    pub(crate) fn name(&mut self, name: &str) -> String {
        let i = self.name_index(name);
        self.names[i].1.clone()
    }

    /// Appends the placeholder for an attribute name.
    fn write_name(&mut self, out: &mut String, name: &str) {
        let i = self.name_index(name);
        out.push_str(&self.names[i].1);
    }

    /// A placeholder for a value.
    pub(crate) fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = placeholder(":v", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// Appends a placeholder for a value.
    fn write_value(&mut self, out: &mut String, value: AttributeValue) {
        let placeholder = placeholder(":v", self.values.len());
        out.push_str(&placeholder);
        self.values.insert(placeholder, value);
    }

    /// Appends the placeholder of a value bound for an item attribute, checked as
    /// DynamoDB would check it.
    fn write_checked_value(&mut self, out: &mut String, path: &[Segment], value: AttributeValue) -> Result<()> {
        if check_expression_value("", path.len(), &value).is_err() {
            check_expression_value(&display_segments(path), path.len(), &value)?;
        }
        self.write_value(out, value);
        Ok(())
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
        let mut out = String::with_capacity(4 * segments.len());
        self.write_path(&mut out, segments)?;
        Ok(out)
    }

    /// Appends a path's placeholders.
    fn write_path(&mut self, out: &mut String, segments: &[Segment]) -> Result<()> {
        if segments.is_empty() {
            return Err(Error::InvalidExpression("an attribute path cannot be empty".into()));
        }
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
                    self.write_name(out, name);
                }
                Segment::Index(index) => {
                    if i == 0 {
                        return Err(Error::InvalidExpression("a path cannot start with a list index".into()));
                    }
                    out.push('[');
                    push_decimal(out, *index);
                    out.push(']');
                }
            }
        }
        Ok(())
    }

    /// Both maps, moved out.
    pub(crate) fn into_maps(self) -> (Option<Names>, Option<Values>) {
        let names = (!self.names.is_empty()).then(|| self.names.into_iter().map(|(n, p)| (p, n)).collect());
        let values = (!self.values.is_empty()).then_some(self.values);
        (names, values)
    }

    /// Renders a condition, without recursion: its postfix terms are joined on a stack
    /// of rendered operands, and rendering stops as soon as the text is over DynamoDB's
    /// limit, however many conditions were joined.
    pub(crate) fn condition<R>(&mut self, condition: Condition<R>) -> Result<String> {
        // The model type only tags the condition: render it once for every model.
        self.terms(condition.terms, condition.errors)
    }

    fn terms(&mut self, terms: Vec<Term>, errors: Vec<crate::value::ValueError>) -> Result<String> {
        if let Some(err) = errors.into_iter().next() {
            return Err(crate::item::expression_error("", err));
        }
        let mut stack: Vec<String> = Vec::new();
        // Every leaf's text ends up in the expression: their sum bounds it from below.
        let mut leaf_bytes = 0usize;
        for term in terms {
            let text = match term {
                Term::And(n) => join(&mut stack, n, " AND ")?,
                Term::Or(n) => join(&mut stack, n, " OR ")?,
                Term::Not => {
                    let inner = stack.pop().ok_or_else(malformed)?;
                    format!("NOT ({inner})")
                }
                leaf => {
                    let text = self.term(leaf)?;
                    leaf_bytes += text.len();
                    if leaf_bytes > MAX_EXPRESSION_LEN {
                        return Err(too_long(leaf_bytes));
                    }
                    text
                }
            };
            if text.len() > MAX_EXPRESSION_LEN {
                return Err(too_long(text.len()));
            }
            stack.push(text);
        }
        match (stack.pop(), stack.is_empty()) {
            (Some(text), true) => within_limit(text),
            _ => Err(malformed()),
        }
    }

    /// A value compared with the attribute at `subject`, checked as DynamoDB would check
    /// it (no NaN, no empty set, numbers in range).
    fn operand(&mut self, subject: &[Segment], operand: Operand) -> Result<String> {
        match operand {
            Operand::Path(p) => self.path(&p),
            Operand::Size(p) => Ok(format!("size({})", self.path(&p)?)),
            Operand::Value(v) => self.checked_value(subject, v),
        }
    }

    /// Renders one comparison or function.
    fn term(&mut self, term: Term) -> Result<String> {
        Ok(match term {
            Term::Compare(lhs, op, rhs) => {
                let subject = operand_path(&lhs).to_vec();
                format!(
                    "{} {} {}",
                    self.operand(&subject, lhs)?,
                    op.symbol(),
                    self.operand(&subject, rhs)?
                )
            }
            Term::Between(subject, low, high) => {
                let path = operand_path(&subject).to_vec();
                format!(
                    "{} BETWEEN {} AND {}",
                    self.operand(&path, subject)?,
                    self.operand(&path, low)?,
                    self.operand(&path, high)?
                )
            }
            Term::In(subject, values) => {
                if values.is_empty() || values.len() > MAX_IN_VALUES {
                    return Err(Error::InvalidExpression(format!(
                        "IN takes 1 to {MAX_IN_VALUES} values, not {}",
                        values.len()
                    )));
                }
                let path = operand_path(&subject).to_vec();
                let mut text = self.operand(&path, subject)?;
                text.push_str(" IN (");
                for (i, value) in values.into_iter().enumerate() {
                    if i > 0 {
                        text.push_str(", ");
                    }
                    text.push_str(&self.operand(&path, value)?);
                }
                text.push(')');
                text
            }
            Term::BeginsWith(path, prefix) => {
                let prefix = self.operand(&path, prefix)?;
                format!("begins_with({}, {prefix})", self.path(&path)?)
            }
            Term::Contains(path, element) => {
                // An element sits one level below the set or list.
                let element = self.operand(&path, element)?;
                format!("contains({}, {element})", self.path(&path)?)
            }
            Term::Exists(path) => format!("attribute_exists({})", self.path(&path)?),
            Term::NotExists(path) => format!("attribute_not_exists({})", self.path(&path)?),
            Term::Type(path, ty) => {
                let path = self.path(&path)?;
                let ty = self.value(AttributeValue::S(ty.as_str().to_owned()));
                format!("attribute_type({path}, {ty})")
            }
            Term::And(_) | Term::Or(_) | Term::Not => return Err(malformed()),
        })
    }

    /// Renders an update's actions into one update expression. Fails on an empty update
    /// and on overlapping paths.
    pub(crate) fn update<R>(&mut self, update: Update<R>) -> Result<String> {
        match update.errors.into_iter().next() {
            Some(err) => Err(crate::item::expression_error("", err)),
            None => self.actions(update.actions),
        }
    }

    pub(crate) fn actions(&mut self, actions: Vec<Action>) -> Result<String> {
        if actions.is_empty() {
            return Err(Error::InvalidExpression("an update needs at least one action".into()));
        }
        check_overlaps(&actions)?;
        // One buffer: the actions by clause, each written straight into it.
        let clause = |a: &Action| match a {
            Action::Set(..) | Action::SetIfNotExists(..) | Action::Increment(..) | Action::Append(..) => 0,
            Action::Remove(_) => 1,
            Action::Add(..) => 2,
            Action::Delete(..) => 3,
        };
        let mut out = String::with_capacity(8 + 20 * actions.len());
        let mut by_clause: [Vec<Action>; 4] = Default::default();
        for action in actions {
            by_clause[clause(&action)].push(action);
        }
        for (keyword, actions) in ["SET ", "REMOVE ", "ADD ", "DELETE "].into_iter().zip(by_clause) {
            if actions.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(keyword);
            for (i, action) in actions.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                self.write_action(&mut out, action)?;
            }
        }
        within_limit(out)
    }

    /// Appends `path = if_not_exists(path, `: the start of an action that keeps a
    /// stored value.
    fn write_if_not_exists(&mut self, out: &mut String, path: &[Segment]) -> Result<()> {
        let start = out.len();
        self.write_path(out, path)?;
        let written = out[start..].to_owned();
        out.push_str(" = if_not_exists(");
        out.push_str(&written);
        out.push_str(", ");
        Ok(())
    }

    /// Appends one action of its clause.
    fn write_action(&mut self, out: &mut String, action: Action) -> Result<()> {
        match action {
            Action::Set(path, value) => {
                self.write_path(out, &path)?;
                out.push_str(" = ");
                self.write_checked_value(out, &path, value)?;
            }
            Action::SetIfNotExists(path, value) => {
                self.write_if_not_exists(out, &path)?;
                self.write_checked_value(out, &path, value)?;
                out.push(')');
            }
            Action::Increment(path, by, negative) => {
                self.write_if_not_exists(out, &path)?;
                // The value placeholders keep their order: the amount, then zero.
                let mut amount = String::new();
                self.write_checked_value(&mut amount, &path, by)?;
                self.write_value(out, AttributeValue::N("0".into()));
                out.push_str(if negative { ") - " } else { ") + " });
                out.push_str(&amount);
            }
            Action::Append(path, list, prepend) => {
                let list = self.checked_value(&path, list)?;
                let empty = self.value(AttributeValue::L(Vec::new()));
                let p = self.path(&path)?;
                let current = format!("if_not_exists({p}, {empty})");
                let (first, second) = if prepend { (list, current) } else { (current, list) };
                out.push_str(&p);
                out.push_str(" = list_append(");
                out.push_str(&first);
                out.push_str(", ");
                out.push_str(&second);
                out.push(')');
            }
            Action::Remove(path) => self.write_path(out, &path)?,
            Action::Add(path, value) | Action::Delete(path, value) => {
                self.write_path(out, &path)?;
                out.push(' ');
                self.write_checked_value(out, &path, value)?;
            }
        }
        Ok(())
    }
}

/// The attribute a comparison is about, for error messages.
fn operand_path(operand: &Operand) -> &[Segment] {
    match operand {
        Operand::Path(p) | Operand::Size(p) => p,
        Operand::Value(_) => &[],
    }
}

/// Joins the last `n` rendered conditions with `keyword`, each in parentheses.
fn join(stack: &mut Vec<String>, n: usize, keyword: &str) -> Result<String> {
    if n > stack.len() {
        return Err(malformed());
    }
    let parts = stack.split_off(stack.len() - n);
    let len = parts.iter().map(|p| p.len() + 2 + keyword.len()).sum();
    let mut out = String::with_capacity(len);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(keyword);
        }
        out.push('(');
        out.push_str(part);
        out.push(')');
    }
    Ok(out)
}

fn too_long(len: usize) -> Error {
    Error::InvalidExpression(format!(
        "the condition is at least {len} bytes, over DynamoDB's limit of {MAX_EXPRESSION_LEN} bytes per expression"
    ))
}

/// Conditions are built only through their operators, so their terms always fit; this
/// keeps a broken invariant an error rather than a panic.
fn malformed() -> Error {
    Error::InvalidExpression("a condition's terms do not form one condition".into())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Path;

    /// A model for paths: conditions only need a type to belong to.
    struct M;

    fn a() -> Path<M, String> {
        Path::unchecked(["a"])
    }
    fn b() -> Path<M, String> {
        Path::unchecked(["b"])
    }
    fn c() -> Path<M, String> {
        Path::unchecked(["c"])
    }
    fn n() -> Path<M, f64> {
        Path::unchecked(["n"])
    }

    fn text(condition: Condition<M>) -> String {
        condition.build().expect("renders").text
    }

    fn is_invalid_expression(result: Result<Expression>) -> bool {
        matches!(result, Err(Error::InvalidExpression(_)))
    }

    #[test]
    fn and_chains_are_flat() {
        assert_eq!(
            text(a().eq("x") & b().eq("y") & c().eq("z")),
            "(#n0 = :v0) AND (#n1 = :v1) AND (#n2 = :v2)"
        );
        assert_eq!(
            text(a().eq("x") & (b().eq("y") & c().eq("z"))),
            "(#n0 = :v0) AND (#n1 = :v1) AND (#n2 = :v2)"
        );
        assert_eq!(
            text(a().eq("x") | b().eq("y") | c().eq("z")),
            "(#n0 = :v0) OR (#n1 = :v1) OR (#n2 = :v2)"
        );
    }

    #[test]
    fn mixed_connectives_keep_their_grouping() {
        assert_eq!(
            text((a().eq("x") | b().eq("y")) & c().eq("z")),
            "((#n0 = :v0) OR (#n1 = :v1)) AND (#n2 = :v2)"
        );
        assert_eq!(
            text(a().eq("x") | (b().eq("y") & c().eq("z"))),
            "(#n0 = :v0) OR ((#n1 = :v1) AND (#n2 = :v2))"
        );
        assert_eq!(
            text(!(a().eq("x") & b().eq("y")) & c().eq("z")),
            "(NOT ((#n0 = :v0) AND (#n1 = :v1))) AND (#n2 = :v2)"
        );
    }

    #[test]
    fn double_negation_cancels() {
        assert_eq!(text(!!a().eq("x")), "#n0 = :v0");
        assert_eq!(text(!a().eq("x")), "NOT (#n0 = :v0)");
        assert_eq!(text(!!!a().eq("x")), "NOT (#n0 = :v0)");
        assert_eq!(text(!!(a().eq("x") | b().eq("y"))), "(#n0 = :v0) OR (#n1 = :v1)");
        assert_eq!(
            text(!a().eq("x") & !b().eq("y")),
            "(NOT (#n0 = :v0)) AND (NOT (#n1 = :v1))"
        );
    }

    #[test]
    fn placeholders_are_numbered_left_to_right() {
        let expression = (a().eq("x") & b().between("lo", "hi") & a().begins_with("p") & c().is_in(["1", "2"]))
            .build()
            .unwrap();
        assert_eq!(
            expression.text,
            "(#n0 = :v0) AND (#n1 BETWEEN :v1 AND :v2) AND (begins_with(#n0, :v3)) AND (#n2 IN (:v4, :v5))"
        );
        let names: HashMap<String, String> = [("#n0", "a"), ("#n1", "b"), ("#n2", "c")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(expression.names, names);
        let values: HashMap<String, AttributeValue> = [
            (":v0", "x"),
            (":v1", "lo"),
            (":v2", "hi"),
            (":v3", "p"),
            (":v4", "1"),
            (":v5", "2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
        .collect();
        assert_eq!(expression.values, values);
    }

    #[test]
    fn the_length_limit_is_exact() {
        // `(#n0 = :vK)` joined with ` OR `: the expected length, counted apart.
        let expected = |count: usize| -> usize {
            (0..count).map(|k| format!("(#n0 = :v{k})").len()).sum::<usize>() + 4 * (count - 1)
        };
        let mut crossed = false;
        for count in 2..400 {
            let condition = Condition::any((0..count).map(|i| a().eq(format!("v{i}")))).unwrap();
            let result = condition.build();
            if expected(count) <= MAX_EXPRESSION_LEN {
                let expression = result.unwrap_or_else(|e| panic!("{count} alternatives: {e:?}"));
                assert_eq!(expression.text.len(), expected(count));
                assert_eq!(expression.values.len(), count);
            } else {
                crossed = true;
                assert!(is_invalid_expression(result), "{count} alternatives");
            }
        }
        assert!(crossed, "the loop reaches the limit");
    }

    #[test]
    fn wide_conditions_are_refused() {
        for width in [3_000usize, 100_000] {
            let any = Condition::any((0..width).map(|i| a().eq(format!("n{i}")))).unwrap();
            let copy = any.clone();
            drop(copy);
            assert!(is_invalid_expression(any.build()), "any of {width}");
            let all = Condition::all((0..width).map(|i| n().lt(i as f64))).unwrap();
            assert!(is_invalid_expression(all.build()), "all of {width}");
        }
    }

    #[test]
    fn deep_conditions_do_not_recurse() {
        let mut deep = a().eq("start");
        for _ in 0..50_000 {
            deep = (deep | b().eq("x")) & c().eq("y");
        }
        let copy = deep.clone();
        drop(copy);
        assert!(is_invalid_expression(deep.clone().build()));
        drop(deep);

        let mut deep = a().eq("start");
        for _ in 0..100_000 {
            deep = !deep & b().eq("y");
        }
        let copy = deep.clone();
        drop(copy);
        assert!(is_invalid_expression(deep.build()));

        // Rendered into a request's shared placeholders too.
        let mut deep = a().eq("start");
        for _ in 0..100_000 {
            deep = !(deep | b().eq("y"));
        }
        let mut placeholders = Placeholders::default();
        assert!(matches!(placeholders.condition(deep), Err(Error::InvalidExpression(_))));
    }

    #[test]
    fn a_deep_condition_within_the_limit_renders() {
        // 100 levels of `!(c & leaf)`: deep, yet well under 4 KB.
        let mut deep = a().eq("start");
        for _ in 0..100 {
            deep = !(deep & b().eq("y"));
        }
        let rendered = deep.build().unwrap();
        assert!(rendered.text.len() <= MAX_EXPRESSION_LEN);
        assert_eq!(rendered.text.matches("NOT (").count(), 100);
        assert_eq!(rendered.values.len(), 101);
        assert!(rendered.text.starts_with("NOT ((NOT ((NOT (("));
    }

    #[test]
    fn bad_values_are_invalid_items() {
        use crate::ValueProblem;
        let problem = |result: Result<Expression>| match result {
            Err(Error::InvalidItem { path, problem }) => (path, problem),
            other => panic!("expected InvalidItem, got {other:?}"),
        };
        assert_eq!(
            problem(n().eq(f64::NAN).build()),
            ("n".into(), ValueProblem::NonFiniteNumber)
        );
        assert_eq!(
            problem(n().lt(f64::INFINITY).build()),
            ("n".into(), ValueProblem::NonFiniteNumber)
        );
        assert_eq!(
            problem(n().gt(1e200).build()),
            ("n".into(), ValueProblem::NumberOutOfRange)
        );
        assert_eq!(
            problem((a().eq("fine") | n().eq(f64::NAN)).build()),
            ("n".into(), ValueProblem::NonFiniteNumber)
        );
    }
}
