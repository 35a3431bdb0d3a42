//! Default codes: Rust names to SCREAMING_SNAKE_CASE.

/// Splits a Rust name into words: at `_`, at a lower-case letter or digit followed by
/// an upper-case one (`KanbanError`, `Http2Error`), and before the last capital of an
/// acronym that starts a word (`AIProvider` → `AI`, `Provider`).
fn words(name: &str) -> Vec<String> {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && !word.is_empty() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower);
            if boundary {
                words.push(std::mem::take(&mut word));
            }
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// `AIProvider` → `AI_PROVIDER`.
pub(crate) fn screaming_snake(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| w.to_uppercase())
        .collect::<Vec<_>>()
        .join("_")
}

/// `BusinessLogic` → `business_logic`.
pub(crate) fn snake_case(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

/// The code of a variant: `KanbanError::Timeout` → `KANBAN_ERROR_TIMEOUT`.
pub(crate) fn variant_code(enum_name: &str, variant: &str) -> String {
    format!(
        "{}_{}",
        screaming_snake(enum_name),
        screaming_snake(variant)
    )
}

/// The code of a struct: its name with `_ERROR` appended unless it ends so already
/// (`NetworkTimeout` → `NETWORK_TIMEOUT_ERROR`, `DiskError` → `DISK_ERROR`).
pub(crate) fn struct_code(name: &str) -> String {
    let base = screaming_snake(name);
    if base == "ERROR" || base.ends_with("_ERROR") {
        base
    } else {
        format!("{base}_ERROR")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screaming_snake_handles_acronyms_digits_and_underscores() {
        let cases = [
            ("KanbanError", "KANBAN_ERROR"),
            ("AIProvider", "AI_PROVIDER"),
            ("IOError", "IO_ERROR"),
            ("Http2Error", "HTTP2_ERROR"),
            ("HTTPStatus404", "HTTP_STATUS404"),
            ("Timeout", "TIMEOUT"),
            ("already_snake", "ALREADY_SNAKE"),
            ("r#Type", "TYPE"),
            ("A", "A"),
            ("ABC", "ABC"),
        ];
        for (name, want) in cases {
            assert_eq!(screaming_snake(name), want, "{name}");
        }
    }

    #[test]
    fn default_codes() {
        assert_eq!(
            variant_code("KanbanError", "Timeout"),
            "KANBAN_ERROR_TIMEOUT"
        );
        assert_eq!(struct_code("NetworkTimeout"), "NETWORK_TIMEOUT_ERROR");
        assert_eq!(struct_code("DiskError"), "DISK_ERROR");
        assert_eq!(struct_code("Error"), "ERROR");
        assert_eq!(struct_code("AIProvider"), "AI_PROVIDER_ERROR");
        assert_eq!(snake_case("BusinessLogic"), "business_logic");
    }
}
