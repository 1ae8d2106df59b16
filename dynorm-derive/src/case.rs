//! serde's `rename_all` rules, applied to field names, so the derive computes the same
//! attribute names serde writes.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    pub const NAMES: &'static [(&'static str, RenameRule)] = &[
        ("lowercase", RenameRule::Lower),
        ("UPPERCASE", RenameRule::Upper),
        ("PascalCase", RenameRule::Pascal),
        ("camelCase", RenameRule::Camel),
        ("snake_case", RenameRule::Snake),
        ("SCREAMING_SNAKE_CASE", RenameRule::ScreamingSnake),
        ("kebab-case", RenameRule::Kebab),
        ("SCREAMING-KEBAB-CASE", RenameRule::ScreamingKebab),
    ];

    pub fn from_name(name: &str) -> Option<RenameRule> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    /// Renames a snake_case field name the way serde does.
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            // serde treats field names as already snake_case: lowercase leaves them alone.
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => {
                let mut out = String::with_capacity(field.len());
                let mut upper_next = true;
                for ch in field.chars() {
                    if ch == '_' {
                        upper_next = true;
                    } else if upper_next {
                        out.push(ch.to_ascii_uppercase());
                        upper_next = false;
                    } else {
                        out.push(ch);
                    }
                }
                out
            }
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RenameRule::*;

    #[test]
    fn field_rules_match_serde() {
        let cases = [
            ("outcome", "outcome", "OUTCOME", "Outcome", "outcome", "outcome"),
            (
                "very_tasty",
                "very_tasty",
                "VERY_TASTY",
                "VeryTasty",
                "veryTasty",
                "very-tasty",
            ),
            ("a", "a", "A", "A", "a", "a"),
            ("z42", "z42", "Z42", "Z42", "z42", "z42"),
        ];
        for (field, lower, upper, pascal, camel, kebab) in cases {
            assert_eq!(Lower.apply_to_field(field), lower);
            assert_eq!(Upper.apply_to_field(field), upper);
            assert_eq!(ScreamingSnake.apply_to_field(field), upper);
            assert_eq!(Pascal.apply_to_field(field), pascal);
            assert_eq!(Camel.apply_to_field(field), camel);
            assert_eq!(Snake.apply_to_field(field), lower);
            assert_eq!(Kebab.apply_to_field(field), kebab);
            assert_eq!(ScreamingKebab.apply_to_field(field), upper.replace('_', "-"));
        }
    }
}
