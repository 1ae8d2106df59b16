//! Key templates of relationships: `"{forum_name}\n{subject}"` split into text and the
//! field names it fills in.

use syn::LitStr;

/// One part of a key template.
pub enum Part {
    Text(String),
    Field(String),
}

/// A parsed key template, with the literal it was written as, for spans.
pub struct Template {
    pub lit: LitStr,
    pub parts: Vec<Part>,
    /// The width declared for each field (`{number:6}`), in the order of the fields.
    pub widths: Vec<Option<u8>>,
}

impl Template {
    /// The field names, in the template's order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Field(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The field of a template that is just `"{field}"`.
    pub fn single_field(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Field(name)] => Some(name),
            _ => None,
        }
    }
}

/// Splits an entity's template, which may be only text (`"PROFILE"`: a constant sort
/// key) when `allow_constant`.
pub fn parse_entity(lit: &LitStr) -> Result<Template, &'static str> {
    if !lit.value().contains('{') && !lit.value().contains('}') {
        if lit.value().is_empty() {
            return Err("a key template cannot be empty");
        }
        return Ok(Template {
            lit: lit.clone(),
            parts: vec![Part::Text(lit.value())],
            widths: Vec::new(),
        });
    }
    parse(lit)
}

/// Splits `"{forum_name}\n{subject}"` into text and field names. `{{` and `}}` are
/// literal braces. The error is the message for the literal.
pub fn parse(lit: &LitStr) -> Result<Template, &'static str> {
    let value = lit.value();
    let mut parts = Vec::new();
    let mut widths = Vec::new();
    let mut text = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err("unclosed `{` in the key template"),
                    }
                }
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                let (name, width) = match name.split_once(':') {
                    Some((name, width)) => match width.trim().parse::<u8>() {
                        Ok(w) if (1..=39).contains(&w) => (name, Some(w)),
                        _ => return Err("a field's width is a number from 1 to 39: `{number:6}`"),
                    },
                    None => (name.as_str(), None),
                };
                widths.push(width);
                parts.push(Part::Field(name.trim().to_owned()));
            }
            '}' => return Err("unmatched `}` in the key template; write `}}`"),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    if !parts.iter().any(|p| matches!(p, Part::Field(_))) {
        return Err("a key template names at least one field of this model, such as \"{user_name}\"");
    }
    Ok(Template {
        lit: lit.clone(),
        parts,
        widths,
    })
}
